"""An exercise as typed data: givens, the graph, its values, and what is asked."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

import sympy as sp

from backprop_cli.autodiff.engine import Values
from backprop_cli.autodiff.graph import Graph, Node
from backprop_cli.autodiff.tensor import Value, filled, is_tensor
from backprop_cli.autodiff.training import Training
from backprop_cli.exercise.asks import Ask
from backprop_cli.source.errors import Where
from backprop_cli.source.yamlsrc import YMapping


class Visibility(str, enum.Enum):
    """When students see an exercise's results on a course platform (Gradescope's four settings)."""

    VISIBLE = "visible"
    HIDDEN = "hidden"
    AFTER_DUE_DATE = "after_due_date"
    AFTER_PUBLISHED = "after_published"

    @classmethod
    def read(cls, text: str) -> "Visibility | None":
        """``after-due-date`` and ``after_due_date`` alike; None for anything else."""
        try:
            return cls(text.strip().lower().replace("-", "_"))
        except ValueError:
            return None


@dataclass(frozen=True)
class Tolerance:
    rel: sp.Expr = sp.Rational(1, 1000)
    abs: sp.Expr = sp.Rational(1, 10**9)


@dataclass(frozen=True)
class Upstream:
    name: str  # the outside loss, e.g. L
    value: Value  # dL/d(output), of the output's shape
    where: Where


class Given:
    """Given values with where each was written."""

    def __init__(self) -> None:
        self.values: dict[str, Value] = {}
        self.wheres: dict[str, Where] = {}

    def add(self, name: str, value: Value, where: Where) -> None:
        self.values[name] = value
        self.wheres[name] = where

    def items_where(self):
        return self.wheres.items()


@dataclass
class Exercise:
    file: str
    id: str
    title: str | None
    prompt: str | None
    given: dict[str, Value]
    graph: Graph
    output: Node
    values: Values
    asks: list[Ask]
    upstream: Upstream | None = None
    answers: YMapping | None = None
    tolerance: Tolerance = field(default_factory=Tolerance)
    hide_expected: bool = False
    carry_forward: sp.Expr = sp.Integer(0)
    training: Training | None = None
    visibility: Visibility = Visibility.VISIBLE

    def node(self, name: str) -> Node:
        return self.graph.by_name[name]

    @property
    def loss_name(self) -> str:
        """What gradients are of by default: the outside loss, if any, else the output."""
        return self.upstream.name if self.upstream else self.output.name

    def seed(self, of: str, values: Values | None = None) -> tuple[Node, Value, str | None]:
        """Where a backward pass for d(of)/d(...) starts: (node, seed, outside loss or None).

        The outside loss enters at the output with the upstream gradient; a step
        is its own seed, 1 (a 1x1 step: [[1]]).  ``values`` are the forward
        values to size the seed by (default: the exercise's own).
        """
        if self.upstream is not None and of == self.upstream.name:
            return self.output, self.upstream.value, self.upstream.name
        node = self.node(of)
        value = (values or self.values)[node]
        return node, filled((1, 1), sp.Integer(1)) if is_tensor(value) else sp.Integer(1), None
