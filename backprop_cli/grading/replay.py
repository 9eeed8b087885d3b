"""What a replayed mistake runs on, and what it gives.

A candidate is a recipe, not a value: :class:`Replay` says what it runs on,
the exercise's exact values or the same as 25-digit floats.  Grading runs
every recipe on the floats first, which is fast however deeply the exact
values nest, and runs a recipe exactly only when its float value is the
answer; only a matching candidate is put into words.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from backprop_cli.autodiff.engine import Rules, backward
from backprop_cli.autodiff.op import Pulled
from backprop_cli.autodiff.tensor import Value, numeric
from backprop_cli.exercise.keys import GradKey, Key
from backprop_cli.grading.solver import Solution
from backprop_cli.source.errors import BackpropError


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
        shared = solution.memo.get(("replay", exact))  # the exercise's part: the same for a class
        if shared is None:
            shared = solution.memo["replay", exact] = (
                {name: convert(v) for name, v in ex.given.items()},
                {n: convert(v) for n, v in ex.values.items()})
        self.given, self.values = shared
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
    made: dict = field(default_factory=dict, compare=False, repr=False)  # by Replay.exact

    def value(self, replay: Replay) -> Value:
        """``make`` on the replay, kept: a recipe that does not depend on the student (all but
        carried-forward, whose candidates are made afresh for each student) is computed once
        per exercise on floats and once exactly, however many students it is tried on."""
        if replay.exact not in self.made:
            try:
                self.made[replay.exact] = (self.make(replay), None)
            except (BackpropError, ValueError, ArithmeticError) as err:
                self.made[replay.exact] = (None, err)
        value, err = self.made[replay.exact]
        if err is not None:
            raise err
        return value

    @property
    def feedback(self) -> str:
        return self.words()


class Mistake(Rules):
    """The exact rules, but one classic mistake replayed at the edges it names."""

    def __init__(self, mistake: Callable) -> None:
        self.mistake = mistake  # (consumer, slot, g, args, out) -> the wrong contribution, or None

    def pull(self, node, slot, g, args, out) -> Pulled:
        wrong = self.mistake(node, slot, g, args, out)
        return super().pull(node, slot, g, args, out) if wrong is None else Pulled(wrong, None)
