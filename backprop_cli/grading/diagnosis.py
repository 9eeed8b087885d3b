"""Naming the mistake: replay classic errors on the exercise's own graph.

Each rule re-runs the forward or backward pass with one mistake applied (a
local derivative left out, a path not summed, the activation used for its
derivative, ...) and gives the wrong value that mistake produces, with a
sentence naming the step.  A wrong answer that equals one of them gets its
code.  Nothing here lists wrong answers by hand: every candidate comes from
the graph, so a new exercise is diagnosed with no extra work.

A candidate is a recipe, not a value: :class:`Replay` says what it runs on.
Grading first runs every recipe on the forward values as 25-digit floats,
which is fast however deeply the exact values nest, and runs a recipe exactly
only when its float value is the answer; so an answer is still matched
exactly, and a 16-step chain is diagnosed in a fraction of a second.  Only a
matching candidate is put into words.

Rules are tried in the SPEC's order of precedence, most specific first.
Sentences speak in the exercise's own names: a part of a step is quoted as
the author wrote it (``y * log(p)`` in step 'loss'), never by the internal
name the graph gives it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import combinations
from typing import Callable, Iterator

import sympy as sp
from sympy.printing.precedence import PRECEDENCE

from backprop_cli.autodiff import ops, tensor_ops
from backprop_cli.autodiff.engine import Rules, Values, backward, forward
from backprop_cli.autodiff.graph import Node, Role
from backprop_cli.autodiff.numbers import exact_text
from backprop_cli.autodiff.op import Pulled
from backprop_cli.autodiff.ops import contribution
from backprop_cli.autodiff.tensor import Value, elementwise, entries, filled, is_tensor, numeric, zeros_like
from backprop_cli.autodiff.training import run_training
from backprop_cli.exercise.keys import GradKey, Key, TrainKey, ValueKey
from backprop_cli.explain.trace import number
from backprop_cli.grading.solver import Solution
from backprop_cli.source.errors import BackpropError

ACTIVATIONS = (ops.SIGMOID, ops.RELU, ops.TANH)
MAX_FORK = 6  # paths at one fork whose subsets are tried


@dataclass
class StudentWork:
    """The student's readable answers, by key, for carried-forward grading."""

    values: dict[Key, Value]
    wrong: set[Key] = field(default_factory=set)  # the keys graded incorrect
    texts: dict[Key, str] = field(default_factory=dict)  # the answers as the student wrote them


class Replay:
    """What a recipe runs on: the exercise's exact values and the student's answers, or the
    same with every irrational entry as a 25-digit float (rationals stay exact)."""

    def __init__(self, solution: Solution, work: StudentWork, exact: bool) -> None:
        ex = solution.exercise
        convert = (lambda v: v) if exact else numeric
        self.solution, self.exact = solution, exact
        self.given = {name: convert(v) for name, v in ex.given.items()}
        self.values: Values = {n: convert(v) for n, v in ex.values.items()}
        self.student = {k: convert(v) for k, v in work.values.items()}
        self._convert = convert

    def expected(self, key: Key) -> Value:
        return self._convert(self.solution.expected(key))

    def grad(self, key: GradKey, rules: Rules | None = None, seed: Value | None = None) -> Value:
        """``key`` on these values, backpropagated with ``rules`` (default: exact)."""
        graph = self.solution.exercise.graph
        target, first, outside = self.solution.exercise.seed(key.of, self.values)
        wrt = graph.by_name[key.wrt]
        return backward(graph, self.values, target, first if seed is None else seed, outside,
                        rules or Rules(), only=wrt).grad(wrt)


@dataclass(frozen=True)
class Candidate:
    code: str
    make: Callable[[Replay], Value]  # the wrong value the mistake gives, on a replay's values
    words: Callable[[], str]  # the feedback; only a match is put into words

    @property
    def feedback(self) -> str:
        return self.words()


class _Mistake(Rules):
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
    """Recipes for the wrong values that classic mistakes give for ``key``, most specific first."""
    yield from _carried_forward(solution, key, work)
    if isinstance(key, TrainKey):
        yield from _update_sign(solution, key)
    if isinstance(key, GradKey):
        yield from _transpose(solution, key)
        yield from _missing_mean(solution, key)
        yield from _missing_upstream(solution, key)
        yield from _edge_mistakes(solution, key)
    yield Candidate("sign", lambda r: _negate(r.expected(key)), lambda: _sign_feedback(solution, key))


# ------------------------------------------------------------------ how sentences name things

_ATOMIC = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\(.*\))?|[0-9./]+")


def _source(node: Node) -> str | None:
    """The text the author wrote for a node (``y * log(p)``), when it stands on one line."""
    where = node.where
    if where is None or where.snippet is None:
        return None
    start = where.location.column - 1
    text = where.snippet[start:start + where.span]
    return text.strip() if len(text) == where.span and text.strip() else None


def _said(node: Node) -> str:
    """How a sentence names a node: its name, or for a part of a step, what the author wrote."""
    if node.role is not Role.PART:
        return node.name
    text = _source(node)
    if text is None:
        return f"part of step {node.step}"
    return text if _ATOMIC.fullmatch(text) else f"({text})"


def _step_words(node: Node) -> str:
    """'step r' or, for a part of a step, "the part x*w of step 'loss'"."""
    if node.role is Role.PART:
        text = _source(node)
        return f"the part {text} of step '{node.step}'" if text else f"step '{node.step}'"
    return f"step '{node.name}'"


def _written(node: Node) -> str:
    """The name the author wrote: a step, or for an intermediate the step it is part of."""
    return f"step {node.step}" if node.role is Role.PART else node.name


class _Written(sp.Symbol):
    """A part of a step inside a printed derivative, as the author wrote it (``x*w - y``); the
    printer puts it in parentheses where precedence needs them, as it would a sum."""

    precedence = PRECEDENCE["Add"]


def _symbolic_words(consumer: Node, slot: int) -> str:
    """A local derivative over the author's names: parts of steps as they were written."""
    symbolic = consumer.local_symbolic(slot)
    parts = {i.symbol: _Written(_source(i) or f"part of step {i.step}")
             for i in consumer.inputs if i.role is Role.PART}
    return exact_text(symbolic.xreplace(parts) if parts else symbolic)


def _local_words(consumer: Node, slot: int, values: Values) -> str:
    """'2*r = -2', or just '-2' when the local derivative is a number to begin with."""
    symbolic = consumer.local_symbolic(slot)
    words = _symbolic_words(consumer, slot)
    return words if symbolic.is_Number else f"{words} = {number(_local(consumer, slot, values))}"


def _derivative(consumer: Node, inp: Node) -> str:
    return f"d{_said(consumer)}/d{_said(inp)}"


# ------------------------------------------------------------------ helpers

def _negate(value: Value) -> Value:
    return elementwise(lambda e: -e, value)


def _path_edges(solution: Solution, key: GradKey):
    """The (consumer, slot, input) edges on the paths from ``wrt`` up to the target."""
    graph = solution.exercise.graph
    target = solution.exercise.seed(key.of)[0]
    path = graph.between(target, graph.by_name[key.wrt])
    on_path = set(path)
    return [(c, slot, inp) for c in path for slot, inp in enumerate(c.inputs)
            if inp in on_path and c is not graph.by_name[key.wrt]]


def _rerun(key: GradKey, mistake) -> Callable[[Replay], Value]:
    return lambda replay: replay.grad(key, _Mistake(mistake))


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


def _is_unit(consumer: Node, slot: int, values: Values) -> bool:
    """The local derivative is 1 or -1 at every entry: leaving it out is no mistake of its
    own (a left-out -1 is a sign error, and said so)."""
    symbolic = consumer.local_symbolic(slot)
    if symbolic.is_Number:
        return abs(symbolic) == 1
    if symbolic.is_Symbol:
        other = next((i for i in consumer.inputs if i.symbol == symbolic), None)
        if other is not None:
            return all(e.is_Rational and abs(e) == 1 for e in entries(values[other]))
    return False


# ------------------------------------------------------------------ carried forward

def _carried_forward(solution: Solution, key: Key, work: StudentWork) -> Iterator[Candidate]:
    """Right, if the student's own earlier answers are taken as given."""
    if not any(k in work.wrong for k in work.values):
        return
    if isinstance(key, TrainKey):
        yield from _carried_forward_training(solution, key, work)
        return
    ex = solution.exercise
    graph = ex.graph
    node = graph.by_name[key.name] if isinstance(key, ValueKey) else ex.seed(key.of)[0]
    above = set(graph.ancestors(node))
    known_steps = [k for k in work.values if isinstance(k, ValueKey) and graph.by_name[k.name] in above
                   and graph.by_name[k.name] is not node and graph.by_name[k.name].role is not Role.GIVEN]
    if isinstance(key, ValueKey):
        used = [k for k in known_steps if k in work.wrong]
        if used:
            yield Candidate("carried-forward", lambda r: _forward_with(r, known_steps)[node],
                            lambda: _carry_words(used, work, solution))
        return
    wrt = graph.by_name[key.wrt]
    between = set(graph.between(node, wrt)) - {wrt, node}
    known_grads = [k for k in work.values if isinstance(k, GradKey) and k.of == key.of
                   and graph.by_name[k.wrt] in between]
    used = [k for k in known_steps + known_grads if k in work.wrong]
    if not used:
        return

    def make(replay: Replay) -> Value:
        values = _forward_with(replay, known_steps)
        target, seed, outside = ex.seed(key.of, values)
        grads = {graph.by_name[k.wrt]: replay.student[k] for k in known_grads}
        return backward(graph, values, target, seed, outside, _CarryForward(grads), only=wrt).grad(wrt)
    yield Candidate("carried-forward", make, lambda: _carry_words(used, work, solution))


def _forward_with(replay: Replay, steps: list[ValueKey]) -> Values:
    """The forward pass with some step values replaced by the student's."""
    graph = replay.solution.exercise.graph
    return forward(graph, replay.given, fixed={graph.by_name[k.name]: replay.student[k] for k in steps})


def _carried_forward_training(solution: Solution, key: TrainKey, work: StudentWork) -> Iterator[Candidate]:
    """Training rerun from the student's own earlier parameters (``w@1``) and, for the first
    update, their own gradient (``dloss/dw``): the update or loss after them is right."""
    ex = solution.exercise
    training = ex.training
    is_param = key.name in training.params
    last = key.step - 1 if is_param else key.step  # the latest state whose parameters are used
    params = [k for k in work.values if isinstance(k, TrainKey) and k.name in training.params
              and 1 <= k.step <= last]
    grads = [k for k in work.values if isinstance(k, GradKey) and k.of == solution.loss_name
             and k.wrt in training.params and key.step >= 1]
    used = [k for k in params + grads if k in work.wrong]
    if not used:
        return

    def make(replay: Replay) -> Value:
        target, seed, _ = ex.seed(solution.loss_name, replay.values)
        states = run_training(ex.graph, replay.given, target, seed, training,
                              params={(k.name, k.step): replay.student[k] for k in params},
                              grads={(k.wrt, 0): replay.student[k] for k in grads})
        return states[key.step].value(key.name, ex.graph)
    yield Candidate("carried-forward", make, lambda: _carry_words(used, work, solution))


def _carry_words(used: list[Key], work: StudentWork, solution: Solution) -> str:
    first = used[0]
    written = work.texts.get(first) or number(work.values[first])
    return (f"this is right if your earlier answer {first} = {written} is taken "
            f"as given (it should be {number(solution.expected(first))}): the mistake is in {first}")


# ------------------------------------------------------------------ the rules

def _update_sign(solution: Solution, key: TrainKey) -> Iterator[Candidate]:
    ex = solution.exercise

    def make(replay: Replay) -> Value:
        target, seed, _ = ex.seed(solution.loss_name, replay.values)
        states = run_training(ex.graph, replay.given, target, seed, ex.training, direction=+1)
        return states[key.step].value(key.name, ex.graph)
    loss = solution.loss_name
    param = key.name if key.name in ex.training.params else ex.training.params[0]
    yield Candidate("update-sign", make,
                    lambda: f"your update adds the gradient; gradient descent subtracts it: "
                            f"{param} <- {param} - rate * d{loss}/d{param}")


def _transpose(solution: Solution, key: GradKey) -> Iterator[Candidate]:
    expected = solution.expected(key)
    if is_tensor(expected) and expected.shape != (1, 1):
        yield Candidate("transpose", lambda r: r.expected(key).T.copy(),
                        lambda: f"your answer is the transpose of the right one: {key} has the shape "
                                f"of {key.wrt} ({expected.shape[0]}x{expected.shape[1]})")


def _missing_mean(solution: Solution, key: GradKey) -> Iterator[Candidate]:
    edges = _path_edges(solution, key)
    for consumer in dict.fromkeys(c for c, _, _ in edges):
        if consumer.op is tensor_ops.MEAN:
            n = solution.exercise.values[consumer.inputs[0]].size
            words = f"{_step_words(consumer)} takes the mean of {n} numbers, so its derivative is 1/{n}"
            yield Candidate("missing-mean", lambda r: elementwise(lambda e: e * n, r.expected(key)),
                            lambda w=words: f"your answer is {n} times the right one: {w}")
            yield Candidate("missing-mean", lambda r: elementwise(lambda e: e / n, r.expected(key)),
                            lambda w=words: f"your answer is 1/{n} of the right one: {w}, once")


def _missing_upstream(solution: Solution, key: GradKey) -> Iterator[Candidate]:
    ex = solution.exercise
    up = ex.upstream
    if up is None or key.of != up.name:
        return
    ones = filled(up.value.shape, sp.Integer(1)) if is_tensor(up.value) else sp.Integer(1)
    yield Candidate("missing-upstream",
                    lambda r: r.grad(key, seed=ones),
                    lambda: f"your answer leaves out the upstream gradient d{up.name}/d{ex.output.name} = "
                            f"{number(up.value)} that the outside loss sends in")


def _edge_mistakes(solution: Solution, key: GradKey) -> Iterator[Candidate]:
    """activation-not-derivative, then missing-path, then missing-factor, edge by edge."""
    edges = _path_edges(solution, key)
    values = solution.exercise.values
    elementwise_edges = [(c, s, i) for c, s, i in edges if c.local_symbolic(s) is not None]
    for consumer, slot, inp in elementwise_edges:
        if consumer.op in ACTIVATIONS:
            yield Candidate("activation-not-derivative",
                            _rerun(key, _replace_local((consumer, slot), lambda args, out: out)),
                            lambda c=consumer, s=slot, i=inp:
                            f"in {_step_words(c)}, your answer multiplies by the activation "
                            f"{_said(c)} = {_source(c) or c.op.name + '(' + _said(i) + ')'} itself, "
                            f"where its derivative "
                            f"{_derivative(c, i)} = {_symbolic_words(c, s)} belongs")
    yield from _missing_paths(solution, key, edges)
    for consumer, slot, inp in elementwise_edges:
        if _is_unit(consumer, slot, values):
            continue
        yield Candidate("missing-factor",
                        _rerun(key, _replace_local((consumer, slot), lambda args, out: sp.Integer(1))),
                        lambda c=consumer, s=slot, i=inp:
                        f"your answer leaves out {_derivative(c, i)} = {_local_words(c, s, values)}, "
                        f"in {_step_words(c)}")
        symbolic = consumer.local_symbolic(slot)
        coefficient, _ = symbolic.as_coeff_Mul()
        if coefficient.is_Number and coefficient not in (1, -1) and symbolic != coefficient:
            yield Candidate("missing-factor", _rerun(key, _replace_local(
                (consumer, slot),
                lambda args, out, c=consumer, s=slot, k=coefficient: elementwise(
                    lambda e: e / k, c.op.local(s, args, out)))),
                lambda c=consumer, s=slot, i=inp, k=coefficient:
                f"your answer leaves out the factor {k} of {_derivative(c, i)} = "
                f"{_symbolic_words(c, s)}, in {_step_words(c)}")


def _missing_paths(solution: Solution, key: GradKey, edges) -> Iterator[Candidate]:
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
                    return zeros_like(args[slot]) if (consumer, slot) in dropped else None

                every = " and ".join(dict.fromkeys(_written(c) for c, _ in paths))
                names = " and ".join(dict.fromkeys(_written(c) for c, _ in kept))
                yield Candidate("missing-path", _rerun(key, mistake),
                                lambda f=fork, n=len(paths), e=every, k=names:
                                f"'{_said(f)}' reaches {key.of} along {n} paths (into {e}), but your "
                                f"answer only follows the one into {k}: gradients add up where a value "
                                f"fans out")


def _sign_feedback(solution: Solution, key: Key) -> str:
    words = "your answer has the right size but the wrong sign"
    if isinstance(key, GradKey):
        signs = [c for c, _, _ in _path_edges(solution, key) if c.op in (ops.SUB, ops.NEG)]
        if signs:
            c = signs[0]
            what = "subtraction" if c.op is ops.SUB else "minus sign"
            text = _source(c)
            shown = f" ({text})" if text and c.role is not Role.PART else ""
            return f"{words}: check the {what} in {_step_words(c)}{shown}"
    return words + ": check the signs along the chain"
