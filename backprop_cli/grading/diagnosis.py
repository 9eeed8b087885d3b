"""Naming the mistake: replay classic errors on the exercise's own graph.

Each rule re-runs the forward or backward pass with one mistake applied (a
local derivative left out, a path not summed, the activation used for its
derivative, ...) and gives the wrong value that mistake produces, with a
sentence naming the step.  A wrong answer that equals one of them gets its
code.  Nothing here lists wrong answers by hand: every candidate comes from
the graph, so a new exercise is diagnosed with no extra work.  Candidates
are recipes (:mod:`backprop_cli.grading.replay`), tried on floats first.

Rules are tried in the SPEC's order of precedence, most specific first.
Sentences speak in the exercise's own names (:mod:`backprop_cli.grading.wording`).
"""

from __future__ import annotations

from itertools import combinations
from typing import Callable, Iterator

import sympy as sp

from backprop_cli.autodiff import ops, tensor_ops
from backprop_cli.autodiff.engine import Values
from backprop_cli.autodiff.graph import Node, Role
from backprop_cli.autodiff.ops import contribution
from backprop_cli.autodiff.tensor import Value, elementwise, entries, filled, is_tensor, zeros_like
from backprop_cli.autodiff.training import run_training
from backprop_cli.exercise.keys import GradKey, Key, TrainKey, ValueKey
from backprop_cli.explain.trace import number
from backprop_cli.grading import mistakes
from backprop_cli.grading.carried import carried_forward
from backprop_cli.grading.replay import Candidate, Mistake, Replay, StudentWork
from backprop_cli.grading.solver import Solution
from backprop_cli.grading.wording import (derivative, local_words, said, source, step_words,
                                          symbolic_words, written)
from backprop_cli.source.errors import BackpropError

ACTIVATIONS = (ops.SIGMOID, ops.RELU, ops.TANH)
MAX_FORK = 6  # paths at one fork whose subsets are tried


def candidates(solution: Solution, key: Key, work: StudentWork) -> Iterator[Candidate]:
    """Recipes for the wrong values that classic mistakes give for ``key``, most specific first."""
    yield from carried_forward(solution, key, work)
    yield from replayed(solution, key)


def replayed(solution: Solution, key: Key) -> Iterator[Candidate]:
    """The candidates that do not depend on the student's other answers, made once per exercise."""
    return iter(solution.memo.setdefault(("candidates", key), _Memo(_replayed(solution, key))))


class _Memo:
    """A generator's values, kept as they come, so that every student of a class shares them.

    The mistakes replayed on the graph do not depend on a student's answers: each recipe is
    made once per exercise (and only as far as some student's answer needs), and each keeps
    the values it computes (:meth:`Candidate.value`).
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
    if isinstance(key, TrainKey):
        yield from _update_sign(solution, key)
    if isinstance(key, ValueKey):
        yield from _named(key, mistakes.value_mistakes(solution, key))
    if isinstance(key, GradKey):
        yield from _transpose(solution, key)
        yield from _named(key, mistakes.gradient_mistakes(solution, key))
        yield from _missing_mean(solution, key)
        yield from _missing_upstream(solution, key)
        yield from _edge_mistakes(solution, key)
    yield Candidate("sign", lambda r: _negate(r.expected(key)), lambda: _sign_feedback(solution, key))


def _named(key: Key, found) -> Iterator[Candidate]:
    """The mistakes of :mod:`~backprop_cli.grading.mistakes` as recipes."""
    for mistake in found:
        if mistake.pull is not None:
            make = _rerun(key, mistake.pull)
        else:
            make = (lambda r, m=mistake: m.forward(r.given, r.values))
        yield Candidate(mistake.code, make, lambda m=mistake: m.feedback)


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
    return lambda replay: replay.grad(key, Mistake(mistake))


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


# ------------------------------------------------------------------ the rules

def _update_sign(solution: Solution, key: TrainKey) -> Iterator[Candidate]:
    ex = solution.exercise

    def make(replay: Replay) -> Value:
        states = solution.memo.get(("ascent", replay.exact))  # one wrong-way run serves every key
        if states is None:
            target, seed, _ = ex.seed(solution.loss_name, replay.values)
            states = run_training(ex.graph, replay.given, target, seed, ex.training, direction=+1)
            solution.memo["ascent", replay.exact] = states
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
            words = f"{step_words(consumer)} takes the mean of {n} numbers, so its derivative is 1/{n}"
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
                            f"in {step_words(c)}, your answer multiplies by the activation "
                            f"{said(c)} = {source(c) or c.op.name + '(' + said(i) + ')'} itself, "
                            f"where its derivative "
                            f"{derivative(c, i)} = {symbolic_words(c, s)} belongs")
    yield from _missing_paths(solution, key, edges)
    for consumer, slot, inp in elementwise_edges:
        if _is_unit(consumer, slot, values):
            continue
        yield Candidate("missing-factor",
                        _rerun(key, _replace_local((consumer, slot), lambda args, out: sp.Integer(1))),
                        lambda c=consumer, s=slot, i=inp:
                        f"your answer leaves out {derivative(c, i)} = {local_words(c, s, values)}, "
                        f"in {step_words(c)}")
        symbolic = consumer.local_symbolic(slot)
        coefficient, _ = symbolic.as_coeff_Mul()
        if coefficient.is_Number and coefficient not in (1, -1) and symbolic != coefficient:
            yield Candidate("missing-factor", _rerun(key, _replace_local(
                (consumer, slot),
                lambda args, out, c=consumer, s=slot, k=coefficient: elementwise(
                    lambda e: e / k, c.op.local(s, args, out)))),
                lambda c=consumer, s=slot, i=inp, k=coefficient:
                f"your answer leaves out the factor {k} of {derivative(c, i)} = "
                f"{symbolic_words(c, s)}, in {step_words(c)}")


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

                every = " and ".join(dict.fromkeys(written(c) for c, _ in paths))
                names = " and ".join(dict.fromkeys(written(c) for c, _ in kept))
                yield Candidate("missing-path", _rerun(key, mistake),
                                lambda f=fork, n=len(paths), e=every, k=names:
                                f"'{said(f)}' reaches {key.of} along {n} paths (into {e}), but your "
                                f"answer only follows the one into {k}: gradients add up where a value "
                                f"fans out")


def _sign_feedback(solution: Solution, key: Key) -> str:
    words = "your answer has the right size but the wrong sign"
    if isinstance(key, GradKey):
        signs = [c for c, _, _ in _path_edges(solution, key) if c.op in (ops.SUB, ops.NEG)]
        if signs:
            c = signs[0]
            what = "subtraction" if c.op is ops.SUB else "minus sign"
            text = source(c)
            shown = f" ({text})" if text and c.role is not Role.PART else ""
            return f"{words}: check the {what} in {step_words(c)}{shown}"
    return words + ": check the signs along the chain"
