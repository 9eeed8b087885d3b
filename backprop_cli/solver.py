"""The correct answer to every key of an exercise, with the backward passes behind them."""

from __future__ import annotations

import sympy as sp

from backprop_cli.engine import Backward, backward
from backprop_cli.exercise import Exercise
from backprop_cli.graph import Node, Role
from backprop_cli.training import State, run_training
from backprop_cli.tensor import Value, as_scalar, filled, is_tensor
from backprop_cli.keys import GradKey, Key, TrainKey, ValueKey


class Solution:
    """Backward passes are run lazily, once per differentiated node, and cached."""

    def __init__(self, exercise: Exercise) -> None:
        self.exercise = exercise
        self._passes: dict[str, Backward] = {}
        self._states: list[State] | None = None

    @property
    def loss_name(self) -> str:
        """What the gradients of ``--all`` are of: the outside loss, if any, else the output."""
        up = self.exercise.upstream
        return up.name if up else self.exercise.output.name

    def backward(self, of: str) -> Backward:
        if of not in self._passes:
            ex = self.exercise
            if ex.upstream is not None and of == ex.upstream.name:
                run = backward(ex.graph, ex.values, ex.output, ex.upstream.value, ex.upstream.name)
            else:
                node = ex.node(of)
                seed = filled((1, 1), sp.Integer(1)) if is_tensor(ex.values[node]) else sp.Integer(1)
                run = backward(ex.graph, ex.values, node, seed)
            self._passes[of] = run
        return self._passes[of]

    def expected(self, key: Key) -> sp.Expr:
        if isinstance(key, ValueKey):
            return self.exercise.values[self.exercise.node(key.name)]
        if isinstance(key, GradKey):
            return self.backward(key.of).grad(self.exercise.node(key.wrt))
        if isinstance(key, TrainKey):
            state = self.trajectory()[key.step]
            if key.name in state.given:
                return state.given[key.name]
            return state.values[self.exercise.node(key.name)]
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
