"""The correct answer to every key of an exercise, with the backward passes behind them."""

from __future__ import annotations

import sympy as sp

from backprop_cli.engine import Backward, backward
from backprop_cli.exercise import Exercise
from backprop_cli.graph import Role
from backprop_cli.tensor import as_scalar, filled, is_tensor
from backprop_cli.keys import GradKey, Key, TrainKey, ValueKey


class Solution:
    """Backward passes are run lazily, once per differentiated node, and cached."""

    def __init__(self, exercise: Exercise) -> None:
        self.exercise = exercise
        self._passes: dict[str, Backward] = {}

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
            raise NotImplementedError("training keys are not supported in this version")
        raise TypeError(key)

    def every_key(self) -> list[Key]:
        """Every step's value, then d(loss)/d(g) for every given g (``solve --all``)."""
        nodes = self.exercise.graph.nodes
        keys: list[Key] = [ValueKey(n.name) for n in nodes if n.role is Role.STEP]
        if self.exercise.upstream or as_scalar(self.exercise.values[self.exercise.output]) is not None:
            keys += [GradKey(self.loss_name, n.name) for n in nodes if n.role is Role.GIVEN]
        return keys
