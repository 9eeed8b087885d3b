"""The correct answer to every key of an exercise, with the backward passes behind them."""

from __future__ import annotations

import sympy as sp

from backprop_cli.autodiff.engine import Backward, backward
from backprop_cli.exercise.model import Exercise
from backprop_cli.autodiff.graph import Node, Role
from backprop_cli.autodiff.training import State, run_training
from backprop_cli.autodiff.tensor import Value, as_scalar
from backprop_cli.exercise.keys import GradKey, Key, TrainKey, ValueKey


class Solution:
    """Backward passes are run lazily, once per differentiated node, and cached."""

    def __init__(self, exercise: Exercise) -> None:
        self.exercise = exercise
        self._passes: dict[str, Backward] = {}
        self._states: list[State] | None = None
        self.memo: dict = {}  # what grading derives once per exercise (diagnosis candidates)

    @property
    def loss_name(self) -> str:
        """What the gradients of ``--all`` are of: the outside loss, if any, else the output."""
        return self.exercise.loss_name

    def backward(self, of: str) -> Backward:
        if of not in self._passes:
            ex = self.exercise
            self._passes[of] = backward(ex.graph, ex.values, *ex.seed(of))
        return self._passes[of]

    def expected(self, key: Key) -> sp.Expr:
        if isinstance(key, ValueKey):
            return self.exercise.values[self.exercise.node(key.name)]
        if isinstance(key, GradKey):
            return self.backward(key.of).grad(self.exercise.node(key.wrt))
        if isinstance(key, TrainKey):
            return self.trajectory()[key.step].value(key.name, self.exercise.graph)
        raise TypeError(key)

    def training_target(self) -> tuple[Node, Value]:
        """What training descends: the outside loss's gradient, or the output itself."""
        run = self.backward(self.loss_name)
        return run.target, run.seed

    def trajectory(self) -> list[State]:
        """Givens and values after 0, 1, ... ``steps`` updates (``train``)."""
        if self._states is None:
            ex = self.exercise
            self._states = run_training(ex.graph, ex.given, *self.training_target(), ex.training)
        return self._states

    def every_key(self) -> list[Key]:
        """Every step's value, then d(loss)/d(g) for every given g (``solve --all``)."""
        nodes = self.exercise.graph.nodes
        keys: list[Key] = [ValueKey(n.name) for n in nodes if n.role is Role.STEP]
        if self.exercise.upstream or as_scalar(self.exercise.values[self.exercise.output]) is not None:
            keys += [GradKey(self.loss_name, n.name) for n in nodes if n.role is Role.GIVEN]
        training = self.exercise.training
        for t in range(1, training.steps + 1) if training else ():
            keys += [TrainKey(p, t) for p in training.params] + [TrainKey(self.exercise.output.name, t)]
        return keys
