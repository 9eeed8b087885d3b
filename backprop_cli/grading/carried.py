"""Carried forward: an answer that is right when the student's own earlier answers are taken
as given (their step values, their gradients at later nodes, their parameters after an
update and their first gradient for training), so that the mistake is upstream."""

from __future__ import annotations

from typing import Callable, Iterator

from backprop_cli.autodiff.engine import Rules, Values, backward, forward
from backprop_cli.autodiff.graph import Node, Role
from backprop_cli.autodiff.tensor import Value, is_tensor
from backprop_cli.autodiff.training import run_training
from backprop_cli.exercise.keys import GradKey, Key, TrainKey, ValueKey
from backprop_cli.explain.trace import number
from backprop_cli.grading import cache
from backprop_cli.grading.replay import Candidate, Replay, StudentWork
from backprop_cli.grading.solver import Solution


FORWARD_PASSES = 32  # forward passes on a student's own step values kept per exercise


class _CarryForward(Rules):
    """The exact rules, but the student's own gradient wherever they gave one."""

    def __init__(self, known: dict[Node, Value]) -> None:
        self.known = known

    def settle(self, node, grad):
        return self.known.get(node, grad)


def carried_forward(solution: Solution, key: Key, work: StudentWork) -> Iterator[Candidate]:
    """Right, if the student's own earlier answers are taken as given."""
    if not any(k in work.wrong for k in work.values):
        return
    if isinstance(key, TrainKey):
        yield from _carried_forward_training(solution, key, work)
        return
    ex = solution.exercise
    graph = ex.graph
    node = graph.by_name[key.name] if isinstance(key, ValueKey) else ex.seed(key.of)[0]
    above = _once_per_exercise(solution, ("above", node), lambda: set(graph.ancestors(node)))
    known_steps = [k for k in work.values if isinstance(k, ValueKey) and graph.by_name[k.name] in above
                   and graph.by_name[k.name] is not node and graph.by_name[k.name].role is not Role.GIVEN]
    if isinstance(key, ValueKey):
        used = [k for k in known_steps if k in work.wrong]
        if used:
            yield Candidate("carried-forward",
                            _once(solution, key, work, known_steps,
                                  lambda r: _forward_with(r, known_steps, work)[node]),
                            lambda: _carry_words(used, work, solution))
        return
    wrt = graph.by_name[key.wrt]
    between = _once_per_exercise(solution, ("between", node, wrt),
                                 lambda: set(graph.between(node, wrt)) - {wrt, node})
    known_grads = [k for k in work.values if isinstance(k, GradKey) and k.of == key.of
                   and graph.by_name[k.wrt] in between]
    used = [k for k in known_steps + known_grads if k in work.wrong]
    if not used:
        return

    def make(replay: Replay) -> Value:
        values = _forward_with(replay, known_steps, work)
        target, seed, outside = ex.seed(key.of, values)
        grads = {graph.by_name[k.wrt]: replay.student[k] for k in known_grads}
        return backward(graph, values, target, seed, outside, _CarryForward(grads), only=wrt).grad(wrt)
    yield Candidate("carried-forward", _once(solution, key, work, known_steps + known_grads, make),
                    lambda: _carry_words(used, work, solution))


def _once(solution: Solution, key: Key, work: StudentWork, own: list[Key],
          make: Callable[[Replay], Value]) -> Callable[[Replay], Value]:
    """``make``, run once per exercise and set of the student's own values it uses: a class
    repeats the same slips, so the same carried-forward passes come up again and again."""
    content = tuple((k, _content(work.values[k])) for k in own)
    return lambda replay: cache.table(solution, "own values").get_or_make(
        (replay.exact, key, content), lambda: make(replay))


def _once_per_exercise(solution: Solution, key, make):
    if key not in solution.memo:
        solution.memo[key] = make()
    return solution.memo[key]


def _content(value: Value):
    """A value as something hashable: a tensor by its shape and entries."""
    return ("tensor", value.shape, tuple(value.flat)) if is_tensor(value) else value


def _forward_with(replay: Replay, steps: list[ValueKey], work: StudentWork) -> Values:
    """The forward pass with some step values replaced by the student's: run once per exercise and
    set of those values (every gradient a student got wrong after the same wrong steps starts from
    it, and a class makes the same few slips), kept for the most recent sets only (a pass holds
    every node's value).  Nothing changes the values a pass gives (the backward pass reads them)."""
    graph = replay.solution.exercise.graph

    def run() -> Values:
        return forward(graph, replay.given, fixed={graph.by_name[k.name]: replay.student[k] for k in steps})

    content = (replay.exact, tuple((k, _content(work.values[k])) for k in steps))
    return cache.table(replay.solution, "own forward passes", FORWARD_PASSES).get_or_make(content, run)


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
    yield Candidate("carried-forward", _once(solution, key, work, params + grads, make),
                    lambda: _carry_words(used, work, solution))


def _carry_words(used: list[Key], work: StudentWork, solution: Solution) -> str:
    first = used[0]
    written = work.texts.get(first) or number(work.values[first])
    return (f"this is right if your earlier answer {first} = {written} is taken "
            f"as given (it should be {number(solution.expected(first))}): the mistake is in {first}")
