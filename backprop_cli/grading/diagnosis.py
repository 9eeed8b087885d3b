"""Naming the mistake: replay classic errors on the exercise's own graph.

Each rule re-runs the forward or backward pass with one mistake applied (a
local derivative left out, a path not summed, the activation used for its
derivative, ...) and yields the wrong value that mistake produces, with a
sentence naming the step.  A wrong answer that equals one of them gets its
code.  Nothing here lists wrong answers by hand: every candidate comes from
the graph, so a new exercise is diagnosed with no extra work.

Rules are tried in the SPEC's order of precedence, most specific first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations
from typing import Callable, Iterator

import sympy as sp

from backprop_cli.autodiff import ops, tensor_ops
from backprop_cli.autodiff.engine import Rules, Values, backward, forward
from backprop_cli.autodiff.graph import Node, Role
from backprop_cli.autodiff.op import Pulled
from backprop_cli.autodiff.ops import contribution
from backprop_cli.autodiff.tensor import Value, elementwise, filled, is_tensor, shape
from backprop_cli.autodiff.training import run_training
from backprop_cli.exercise.keys import GradKey, Key, TrainKey, ValueKey
from backprop_cli.explain.trace import number
from backprop_cli.explain.trace import written_definition
from backprop_cli.grading import mistakes, wording
from backprop_cli.grading.solver import Solution
from backprop_cli.source.errors import BackpropError

ACTIVATIONS = (ops.SIGMOID, ops.RELU, ops.TANH)
MAX_FORK = 6  # paths at one fork whose subsets are tried


@dataclass(frozen=True)
class Candidate:
    code: str
    value: Value
    feedback: str


@dataclass
class StudentWork:
    """The student's readable answers, by key, for carried-forward grading."""

    values: dict[Key, Value]
    wrong: set[Key] = field(default_factory=set)  # the keys graded incorrect


class _Replay(Rules):
    """The exact rules, but one classic mistake replayed at the edges it names."""

    def __init__(self, mistake: Callable) -> None:
        self.mistake = mistake  # (consumer, slot, g, args, out) -> the wrong contribution, or None

    def pull(self, node, slot, g, args, out) -> Pulled:
        wrong = self.mistake(node, slot, g, args, out)
        return super().pull(node, slot, g, args, out) if wrong is None else Pulled(wrong, None)


class _CarryForward(Rules):
    """The exact rules, but the student's own gradient wherever they gave one."""

    def __init__(self, known: dict[Node, Value]) -> None:
        self.known = known

    def settle(self, node, grad):
        return self.known.get(node, grad)


def candidates(solution: Solution, key: Key, work: StudentWork) -> Iterator[Candidate]:
    """Wrong values that classic mistakes give for ``key``, most specific first."""
    yield from _carried_forward(solution, key, work)
    memo = solution.memo.setdefault(("candidates", key), _Memo(_replayed(solution, key)))
    yield from memo


class _Memo:
    """A generator's values, kept as they come, so that every student of a class shares them.

    The mistakes replayed on the graph do not depend on a student's answers: each is
    computed once per exercise (and only as far as some student's answer needs).
    """

    def __init__(self, values: Iterator[Candidate]) -> None:
        self.values, self.kept = values, []
        self.error: BackpropError | None = None
        self.done = False

    def __iter__(self) -> Iterator[Candidate]:
        i = 0
        while True:
            if i < len(self.kept):
                yield self.kept[i]
                i += 1
            elif self.error is not None:
                raise self.error
            elif self.done:
                return
            else:
                try:
                    self.kept.append(next(self.values))
                except StopIteration:
                    self.done = True
                except BackpropError as err:  # a mistake that leaves a function's domain
                    self.error = err


def _replayed(solution: Solution, key: Key) -> Iterator[Candidate]:
    """The candidates that depend only on the exercise, not on the student's other answers."""
    expected = solution.expected(key)
    if isinstance(key, TrainKey):
        yield from _update_sign(solution, key)
    if isinstance(key, ValueKey):
        yield from _named(solution, key, mistakes.value_mistakes(solution, key))
    if isinstance(key, GradKey):
        yield from _transpose(expected, key)
        yield from _named(solution, key, mistakes.gradient_mistakes(solution, key))
        yield from _missing_mean(solution, key)
        yield from _missing_upstream(solution, key)
        yield from _edge_mistakes(solution, key)
    yield Candidate("sign", _negate(expected), _sign_feedback(solution, key))


def _named(solution: Solution, key: Key, found) -> Iterator[Candidate]:
    """The mistakes of :mod:`~backprop_cli.grading.mistakes` as candidates."""
    for mistake in found:
        value = mistake.value if mistake.pull is None else _rerun(solution, key, mistake.pull)
        yield Candidate(mistake.code, value, mistake.feedback)


# ------------------------------------------------------------------ helpers

def _negate(value: Value) -> Value:
    return elementwise(lambda e: -e, value)


def _path_edges(solution: Solution, key: GradKey):
    """The (consumer, slot, input) edges on the paths from ``wrt`` up to the target."""
    run = solution.backward(key.of)
    graph = solution.exercise.graph
    path = graph.between(run.target, graph.by_name[key.wrt])
    on_path = set(path)
    return run, [(c, slot, inp) for c in path for slot, inp in enumerate(c.inputs)
                 if inp in on_path and c is not graph.by_name[key.wrt]]


def _rerun(solution: Solution, key: GradKey, mistake) -> Value:
    run = solution.backward(key.of)
    ex = solution.exercise
    again = backward(ex.graph, ex.values, run.target, run.seed, run.outside, _Replay(mistake))
    return again.grad(ex.graph.by_name[key.wrt])


def _written(node: Node) -> str:
    """The name the author wrote: a step, or for an intermediate the step it is part of."""
    return f"step {node.step}" if node.role is Role.PART else node.name


def _local(consumer: Node, slot: int, values: Values) -> Value:
    """The value of d(consumer)/d(input ``slot``), entry by entry."""
    return consumer.op.local(slot, [values[i] for i in consumer.inputs], values[consumer])


def _replace_local(target_edge, new_local: Callable) -> Callable:
    """A mistake that multiplies the upstream gradient by ``new_local`` at one edge."""
    def mistake(consumer, slot, g, args, out):
        if (consumer, slot) != target_edge:
            return None
        return contribution(g, new_local(args, out), args[slot])
    return mistake


# ------------------------------------------------------------------ the rules

def _carried_forward(solution: Solution, key: Key, work: StudentWork) -> Iterator[Candidate]:
    """Right, if the student's own earlier answers are taken as given."""
    ex = solution.exercise
    graph = ex.graph
    if isinstance(key, TrainKey):
        return
    if isinstance(key, ValueKey):
        node = graph.by_name[key.name]
    else:
        node = solution.backward(key.of).target
    above = set(graph.ancestors(node))
    known_values = {graph.by_name[k.name]: v for k, v in work.values.items()
                    if isinstance(k, ValueKey) and graph.by_name[k.name] in above
                    and graph.by_name[k.name] is not node
                    and graph.by_name[k.name].role is not Role.GIVEN}
    wrong = [k for k in work.values if k in work.wrong]
    if not wrong:
        return
    values = _forward_with(ex, known_values)
    if values is None:
        return
    if isinstance(key, ValueKey):
        used = [k for k in wrong if isinstance(k, ValueKey) and graph.by_name[k.name] in known_values]
        if used:
            yield Candidate("carried-forward", values[node], _carry_words(used, work, solution))
        return
    run = solution.backward(key.of)
    wrt = graph.by_name[key.wrt]
    between = set(graph.between(run.target, wrt)) - {wrt, run.target}
    known_grads = {graph.by_name[k.wrt]: v for k, v in work.values.items()
                   if isinstance(k, GradKey) and k.of == key.of and graph.by_name[k.wrt] in between}
    used = [k for k in wrong if (isinstance(k, ValueKey) and graph.by_name[k.name] in known_values)
            or (isinstance(k, GradKey) and k.of == key.of and graph.by_name[k.wrt] in known_grads)]
    if not used:
        return
    again = backward(graph, values, run.target, run.seed, run.outside, _CarryForward(known_grads))
    yield Candidate("carried-forward", again.grad(wrt), _carry_words(used, work, solution))


def _forward_with(ex, known: dict[Node, Value]) -> Values | None:
    """The forward pass with some step values replaced by the student's."""
    try:
        return forward(ex.graph, ex.given, fixed=known)
    except BackpropError:
        return None  # the student's values leave the domain: no carried-forward value


def _carry_words(used: list[Key], work: StudentWork, solution: Solution) -> str:
    first = used[0]
    return (f"this is right if your earlier answer {first} = {number(work.values[first])} is taken "
            f"as given (it should be {number(solution.expected(first))}): the mistake is in {first}")


def _update_sign(solution: Solution, key: TrainKey) -> Iterator[Candidate]:
    ex = solution.exercise
    if "ascent" not in solution.memo:  # one wrong-way run serves every training key
        solution.memo["ascent"] = run_training(ex.graph, ex.given, *solution.training_target(),
                                               ex.training, direction=+1)
    value = solution.memo["ascent"][key.step].value(key.name, ex.graph)
    loss = solution.loss_name
    param = key.name if key.name in ex.training.params else ex.training.params[0]
    yield Candidate("update-sign", value,
                    f"your update adds the gradient; gradient descent subtracts it: "
                    f"{param} <- {param} - rate * d{loss}/d{param}")


def _transpose(expected: Value, key: GradKey) -> Iterator[Candidate]:
    if is_tensor(expected) and expected.shape != (1, 1):
        yield Candidate("transpose", expected.T.copy(),
                        f"your answer is the transpose of the right one: {key} has the shape of "
                        f"{key.wrt} ({expected.shape[0]}x{expected.shape[1]})")


def _missing_mean(solution: Solution, key: GradKey) -> Iterator[Candidate]:
    run, edges = _path_edges(solution, key)
    expected = solution.expected(key)
    for consumer in dict.fromkeys(c for c, _, _ in edges):
        if consumer.op is tensor_ops.MEAN:
            n = solution.exercise.values[consumer.inputs[0]].size
            words = f"the mean in step '{consumer.step}' is over {n} numbers, so its derivative is 1/{n}"
            yield Candidate("missing-mean", elementwise(lambda e: e * n, expected),
                            f"your answer is {n} times the right one: {words}")
            yield Candidate("missing-mean", elementwise(lambda e: e / n, expected),
                            f"your answer is 1/{n} of the right one: {words}, once")


def _missing_upstream(solution: Solution, key: GradKey) -> Iterator[Candidate]:
    up = solution.exercise.upstream
    if up is None or key.of != up.name:
        return
    ex = solution.exercise
    ones = filled(up.value.shape, sp.Integer(1)) if is_tensor(up.value) else sp.Integer(1)
    again = backward(ex.graph, ex.values, ex.output, ones, up.name)
    yield Candidate("missing-upstream", again.grad(ex.graph.by_name[key.wrt]),
                    f"your answer leaves out the upstream gradient d{up.name}/d{ex.output.name} = "
                    f"{number(up.value)} that the outside loss sends in")


def _edge_mistakes(solution: Solution, key: GradKey) -> Iterator[Candidate]:
    """activation-not-derivative, then missing-path, then missing-factor, edge by edge."""
    run, edges = _path_edges(solution, key)
    values, graph = run.values, solution.exercise.graph
    elementwise_edges = [(c, s, i) for c, s, i in edges if c.local_symbolic(s) is not None]
    for consumer, slot, inp in elementwise_edges:
        if consumer.op in ACTIVATIONS:
            symbolic = consumer.local_symbolic(slot)
            value = _rerun(solution, key, _replace_local((consumer, slot), lambda args, out: out))
            yield Candidate("activation-not-derivative", value,
                            f"in step '{consumer.step}', your answer multiplies by the "
                            f"{consumer.op.name} {wording.text(consumer)} itself, where its derivative "
                            f"{wording.formula(symbolic, graph)} belongs")
    yield from _missing_paths(solution, key, run, edges)
    for consumer, slot, inp in elementwise_edges:
        symbolic, local = consumer.local_symbolic(slot), _local(consumer, slot, values)
        if symbolic == 1:  # leaving out a factor of 1 gives the right answer: nothing to name
            continue
        value = _rerun(solution, key, _replace_local((consumer, slot), lambda args, out: sp.Integer(1)))
        yield Candidate("missing-factor", value,
                        f"your answer leaves out {wording.derivative(consumer, inp)}: "
                        f"{wording.formula(symbolic, graph)}{wording.equals(symbolic, local)}")
        coefficient, _ = symbolic.as_coeff_Mul()
        if coefficient.is_Number and coefficient not in (1, -1) and symbolic != coefficient:
            value = _rerun(solution, key, _replace_local(
                (consumer, slot),
                lambda args, out, c=consumer, s=slot, k=coefficient: elementwise(
                    lambda e: e / k, c.op.local(s, args, out))))
            yield Candidate("missing-factor", value,
                            f"your answer leaves out the factor {coefficient} of "
                            f"{wording.derivative(consumer, inp)}, {wording.formula(symbolic, graph)}")


def _missing_paths(solution: Solution, key: GradKey, run, edges) -> Iterator[Candidate]:
    by_input: dict[Node, list[tuple[Node, int]]] = {}
    for consumer, slot, inp in edges:
        by_input.setdefault(inp, []).append((consumer, slot))
    for fork, paths in by_input.items():
        if len(paths) < 2 or len(paths) > MAX_FORK:
            continue
        for size in range(1, len(paths)):
            for kept in combinations(paths, size):
                dropped = set(paths) - set(kept)

                def mistake(consumer, slot, g, args, out, dropped=dropped):
                    if (consumer, slot) in dropped:
                        return filled(shape(args[slot]), sp.Integer(0)) if is_tensor(args[slot]) \
                            else sp.Integer(0)
                    return None

                every = " and ".join(dict.fromkeys(_written(c) for c, _ in paths))
                names = " and ".join(dict.fromkeys(_written(c) for c, _ in kept))
                yield Candidate("missing-path", _rerun(solution, key, mistake),
                                f"'{wording.text(fork)}' reaches {key.of} along {len(paths)} paths (into "
                                f"{every}), but your answer only follows the one into {names}: "
                                f"gradients add up where a value fans out")


def _sign_feedback(solution: Solution, key: Key) -> str:
    words = "your answer has the right size but the wrong sign"
    if isinstance(key, GradKey):
        _, edges = _path_edges(solution, key)
        subtractions = [c for c, _, _ in edges if c.op in (ops.SUB, ops.NEG)]
        if subtractions:
            c = subtractions[0]
            what = "subtraction" if c.op is ops.SUB else "negation"
            return f"{words}: check the {what} {written_definition(c)} in step '{c.step}'"
    return words + ": check the signs along the chain"
