"""Gradient-descent updates, exactly, with PyTorch's update rules.

``train: {rate, steps, params, optimizer}`` repeats: forward, backward from
the output (or the outside loss), update each parameter.  Optimizers and
their defaults follow ``torch.optim``:

* ``sgd``: w <- w - rate * g
* ``momentum`` (torch.optim.SGD with momentum, no dampening, not Nesterov):
  b <- g on the first step, then b <- momentum * b + g; w <- w - rate * b.
  Our default momentum is 0.9 (PyTorch's SGD defaults to 0, i.e. plain sgd).
* ``adam``: m <- b1 m + (1 - b1) g, v <- b2 v + (1 - b2) g^2,
  m^ = m / (1 - b1^t), v^ = v / (1 - b2^t), w <- w - rate * m^ / (sqrt(v^) + eps),
  with PyTorch's defaults b1 = 0.9, b2 = 0.999, eps = 1e-8.

Every number stays exact (Adam's square roots included); entries of tensor
parameters are updated elementwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import sympy as sp

from backprop_cli.autodiff.engine import Values, backward, forward
from backprop_cli.autodiff.graph import Graph, Node
from backprop_cli.autodiff.tensor import Value, elementwise, zeros_like


@dataclass(frozen=True)
class Training:
    rate: sp.Expr
    steps: int
    params: tuple[str, ...]
    optimizer: str = "sgd"
    momentum: sp.Expr = sp.Rational(9, 10)
    beta1: sp.Expr = sp.Rational(9, 10)
    beta2: sp.Expr = sp.Rational(999, 1000)
    eps: sp.Expr = sp.Rational(1, 10**8)


@dataclass
class State:
    """Everything known after some number of updates."""

    given: dict[str, Value]
    values: Values
    grads: dict[str, Value] = field(default_factory=dict)  # of the loss, for each parameter
    # The optimizer's memory for each parameter once this state's update is made (momentum's
    # buffer; Adam's m and v), so that an explanation can show every quantity of the update.
    memory: dict[str, tuple[Value, ...]] = field(default_factory=dict)

    def value(self, name: str, graph: Graph) -> Value:
        """A given's value (a parameter after its updates) or a step's, in this state."""
        return self.given[name] if name in self.given else self.values[graph.by_name[name]]


Fixed = dict[tuple[str, int], Value]  # (parameter, state) -> a value taken instead of computing it


def run_training(graph: Graph, given: dict[str, Value], loss: Node, seed: Value, training: Training,
                 direction: int = -1, params: Fixed | None = None, grads: Fixed | None = None) -> list[State]:
    """States 0..steps.  ``direction=+1`` replays the classic mistake of adding the gradient.

    ``params`` pins a parameter's value in some state and ``grads`` its gradient there
    (a student's own ``w@1`` or ``dloss/dw``), so that later states are computed from them.
    """
    params, grads = params or {}, grads or {}
    states = []
    current = dict(given)
    memory: dict[str, list[Value]] = {p: [zeros_like(given[p]), zeros_like(given[p])] for p in training.params}
    for t in range(training.steps + 1):
        current.update({p: params[p, t] for p in training.params if (p, t) in params})
        values = forward(graph, current)
        state = State(dict(current), values)
        states.append(state)
        if t == training.steps:
            break
        run = backward(graph, values, loss, seed)
        for name in training.params:
            g = grads.get((name, t))
            g = run.grad(graph.by_name[name]) if g is None else g
            state.grads[name] = g
            update = OPTIMIZERS[training.optimizer](training, g, memory[name], t + 1)
            state.memory[name] = tuple(memory[name])
            current[name] = elementwise(lambda w, u: w + direction * u, current[name], update)
    return states


class Optimizer(Protocol):
    def __call__(self, training: Training, g: Value, memory: list[Value], t: int) -> Value:
        """The size of update ``t`` (to be subtracted), updating the optimizer's memory in place."""


def _sgd(training: Training, g: Value, memory: list[Value], t: int) -> Value:
    return elementwise(lambda gi: training.rate * gi, g)


def _momentum(training: Training, g: Value, memory: list[Value], t: int) -> Value:
    mu = training.momentum
    memory[0] = g if t == 1 else elementwise(lambda b, gi: mu * b + gi, memory[0], g)
    return elementwise(lambda b: training.rate * b, memory[0])


def _adam(training: Training, g: Value, memory: list[Value], t: int) -> Value:
    b1, b2, eps, rate = training.beta1, training.beta2, training.eps, training.rate
    memory[0] = elementwise(lambda m, gi: b1 * m + (1 - b1) * gi, memory[0], g)
    memory[1] = elementwise(lambda v, gi: b2 * v + (1 - b2) * gi**2, memory[1], g)
    return elementwise(lambda m, v: rate * (m / (1 - b1**t)) / (sp.sqrt(v / (1 - b2**t)) + eps),
                       memory[0], memory[1])


OPTIMIZERS: dict[str, Optimizer] = {"sgd": _sgd, "momentum": _momentum, "adam": _adam}
