"""The computational graph: nodes for givens, constants and every operation.

Steps are decomposed into one node per operation so that the trace can show
every local derivative: ``f: x*y + sin(x)`` becomes ``f_1 = x*y``,
``f_2 = sin(x)``, ``f = f_1 + f_2``.  Nodes are kept in definition order, which
is a topological order because a step may only use givens and earlier steps.
"""

from __future__ import annotations

import difflib
import enum
from dataclasses import dataclass, field
from typing import Callable, Iterable

import sympy as sp
from sympy.core.parameters import global_parameters

from backprop_cli.autodiff import ops
from backprop_cli.autodiff.op import Op
from backprop_cli.autodiff.registry import FUNCTIONS, OPERATORS
from backprop_cli.source import expr, hints
from backprop_cli.source.errors import BackpropError, Problem, Where
from backprop_cli.source.limits import DEFAULT, Limits


class Role(enum.Enum):
    GIVEN = "given"
    CONST = "const"  # a number written in an expression
    STEP = "step"  # a named step of the exercise
    PART = "part"  # an intermediate operation inside a step


@dataclass(eq=False)
class Node:
    name: str
    role: Role
    op: Op | None = None
    inputs: tuple["Node", ...] = ()
    const: sp.Expr | None = None
    where: Where | None = None
    step: str | None = None  # the step a STEP or PART node belongs to
    index: int = -1  # position in the graph's topological order
    params: dict = field(default_factory=dict)  # conv2d's stride and padding
    _locals: dict = field(default_factory=dict, repr=False)  # local_symbolic, by slot

    @property
    def label(self) -> str:
        """How the node is referred to in another node's definition."""
        if self.role is Role.CONST:
            text = ops_text(self.const)
            return f"({text})" if text.startswith("-") else text
        return self.name

    def definition(self) -> str:
        if self.op is None:
            return self.role.value
        call = self.op.form[0].isalpha()  # sqrt(-1), not sqrt((-1))
        labels = (i.label[1:-1] if call and i.label.startswith("(-") else i.label for i in self.inputs)
        return self.op.form.format(*labels, **self.params)

    @property
    def symbol(self) -> sp.Expr:
        """How the node appears inside a symbolic local derivative."""
        return self.const if self.role is Role.CONST else sp.Symbol(self.name)

    def local_symbolic(self, slot: int) -> sp.Expr | None:
        """d(self)/d(input ``slot``) over the inputs' names (``w`` for x*w); None for tensor ops."""
        if slot not in self._locals:
            inputs = [i.symbol for i in self.inputs]
            if global_parameters.evaluate:
                self._locals[slot] = self.op.local_symbolic(slot, inputs, self.symbol)
            else:  # asked first inside inert arithmetic: derived as it always is, evaluated
                with sp.evaluate(True):
                    self._locals[slot] = self.op.local_symbolic(slot, inputs, self.symbol)
        return self._locals[slot]

    def __repr__(self) -> str:
        return f"Node({self.name!r})"


def ops_text(value: sp.Expr) -> str:
    from backprop_cli.autodiff.numbers import exact_text  # late: numbers imports nothing of ours

    return exact_text(value)


@dataclass(frozen=True)
class StepSource:
    """One ``steps:`` entry: its name, parsed expression and a way to point into its text."""

    name: str
    tree: expr.Node
    locate: Callable[[int, int], Where]  # (start, end) offsets in the text -> Where
    where: Where  # the step's key, for problems about the step as a whole


class Graph:
    def __init__(self) -> None:
        self.nodes: list[Node] = []
        self.by_name: dict[str, Node] = {}
        self._consumers: dict[Node, list[Node]] = {}

    def add(self, node: Node) -> Node:
        node.index = len(self.nodes)
        self.nodes.append(node)
        self._consumers[node] = []
        for i in dict.fromkeys(node.inputs):  # a node used twice by one op is one consumer
            self._consumers[i].append(node)
        if node.role is not Role.CONST:
            self.by_name[node.name] = node
        return node

    def consumers(self, node: Node) -> list[Node]:
        return self._consumers[node]

    def ancestors(self, top: Node) -> list[Node]:
        """``top`` and every node it depends on, in topological order."""
        seen = {top}
        stack = [top]
        while stack:
            for i in stack.pop().inputs:
                if i not in seen:
                    seen.add(i)
                    stack.append(i)
        return sorted(seen, key=lambda n: n.index)

    def between(self, top: Node, bottom: Node) -> list[Node]:
        """Nodes on some path from ``bottom`` up to ``top`` (both included), in topological order."""
        above = set(self.ancestors(top))
        if bottom not in above:
            return []
        below = {bottom}
        for node in self.nodes[bottom.index + 1 : top.index + 1]:
            if node in above and any(i in below for i in node.inputs):
                below.add(node)
        return sorted(below, key=lambda n: n.index)

    def named(self) -> list[Node]:
        return [n for n in self.nodes if n.role in (Role.GIVEN, Role.STEP)]


RESERVED = frozenset(FUNCTIONS) | expr.CONSTANTS


def build_graph(givens: Iterable[tuple[str, Where]], steps: Iterable[StepSource],
                limits: Limits = DEFAULT) -> Graph:
    """Decompose the steps into a graph; every problem found is reported at once."""
    builder = _Builder(limits)
    for name, where in givens:
        builder.declare(name, where, Role.GIVEN)
        builder.graph.add(Node(name, Role.GIVEN, where=where))
    steps = list(steps)
    builder.later = {s.name: s for s in steps}
    for step in steps:
        builder.add_step(step)
    if builder.problems:
        raise BackpropError(builder.problems)
    return builder.graph


class _Builder:
    def __init__(self, limits: Limits) -> None:
        self.graph = Graph()
        self.limits = limits
        self.problems: list[Problem] = []
        self.later: dict[str, StepSource] = {}
        self.declared: dict[str, Where] = {}

    def declare(self, name: str, where: Where, role: Role) -> bool:
        if name in RESERVED:
            self.problems.append(where.problem(
                f"'{name}' is the name of a built-in function or constant; choose another name"))
            return False
        if name in self.declared:
            first = self.declared[name].location
            self.problems.append(where.problem(
                f"'{name}' is defined twice (first at line {first.line})"))
            return False
        self.declared[name] = where
        return True

    def add_step(self, step: StepSource) -> None:
        self.later.pop(step.name, None)
        if not self.declare(step.name, step.where, Role.STEP):
            return
        self.step, self.parts = step, 0
        before = len(self.problems)
        try:
            root = self.lower(step.tree, top=True)
        except _Abandon:
            return
        if len(self.problems) > before:
            return
        if not (root.role is Role.STEP and root.name == step.name):  # `a: b` or `a: 2`
            self.make(ops.IDENTITY, (root,), step.tree, top=True)
        if len(self.graph.nodes) > self.limits.max_graph_nodes:
            self.problems.append(step.where.problem(
                f"the graph has more than {self.limits.max_graph_nodes} operations"))
            raise BackpropError(self.problems)

    def lower(self, tree: expr.Node, top: bool = False) -> Node:
        """One node per operation, bottom-up; the step's own node is created last."""
        if isinstance(tree, expr.Num):
            return self.constant(tree.value, tree)
        if isinstance(tree, expr.Name):
            return self.reference(tree)
        if isinstance(tree, expr.Neg):
            if isinstance(tree.operand, expr.Num):  # -2 is a number, not an operation
                return self.constant(-tree.operand.value, tree)
            return self.make(ops.NEG, (self.lower(tree.operand),), tree, top)
        if isinstance(tree, expr.Binary):
            args = (self.lower(tree.left), self.lower(tree.right))
            return self.make(OPERATORS[tree.op], args, tree, top)
        if isinstance(tree, expr.Call):
            op = FUNCTIONS[tree.func]
            args = tuple(self.lower(a) for a in tree.args)
            return self.make(op, args, tree, top, self.params(op, tree))
        raise TypeError(f"unexpected expression node {tree!r}")  # the parser's tree is closed

    def params(self, op: Op, tree: expr.Call) -> dict:
        """Keyword parameters (conv2d's stride and padding): whole numbers written out."""
        params = dict(op.defaults or {})
        for name, value in tree.kwargs:
            number = value.value if isinstance(value, expr.Num) else None
            low = 1 if name == "stride" else 0
            if number is None or not number.is_Integer or number < low or number > 100:
                self.problems.append(self.step.locate(value.start, value.end).problem(
                    f"{name} must be a whole number from {low} to 100"))
                raise _Abandon
            params[name] = int(number)
        return params

    def make(self, op, args: tuple[Node, ...], tree: expr.Node, top: bool,
             params: dict | None = None) -> Node:
        if top:
            name, role = self.step.name, Role.STEP
        else:
            name, role = self.part_name(), Role.PART
        where = self.step.locate(tree.start, tree.end)
        return self.graph.add(Node(name, role, op, args, where=where, step=self.step.name,
                                   params=params or {}))

    def part_name(self) -> str:
        while True:
            self.parts += 1
            name = f"{self.step.name}_{self.parts}"
            if name not in self.declared and name not in self.later:
                self.declared[name] = self.step.where
                return name

    def constant(self, value: sp.Expr, tree: expr.Node) -> Node:
        return self.graph.add(Node(ops_text(value), Role.CONST, const=value,
                                   where=self.step.locate(tree.start, tree.end)))

    def reference(self, tree: expr.Name) -> Node:
        if tree.id == "pi":
            return self.graph.add(Node("pi", Role.CONST, const=sp.pi,
                                       where=self.step.locate(tree.start, tree.end)))
        node = self.graph.by_name.get(tree.id)
        if node is not None and node.role in (Role.GIVEN, Role.STEP):
            return node
        where = self.step.locate(tree.start, tree.end)
        if tree.id == self.step.name:
            self.problems.append(where.problem(
                f"step '{tree.id}' uses itself: steps must not form a cycle"))
        elif tree.id in self.later:
            line = self.later[tree.id].where.location.line
            self.problems.append(where.problem(
                f"'{tree.id}' is used before it is defined (it is defined at line {line})",
                "steps are computed in order: move this step below the one it uses"))
        else:
            known = [n.name for n in self.graph.named()]
            close = hints.closest(tree.id, known) or next(iter(difflib.get_close_matches(tree.id, known, n=1)), None)
            hint = hints.e_hint(self.step.tree, tree) or (f"did you mean '{close}'?" if close else (
                "names must be givens or earlier steps" + (f": {', '.join(known)}" if known else "")))
            self.problems.append(where.problem(f"unknown name '{tree.id}'", hint))
        return self.graph.add(Node(tree.id, Role.CONST, const=sp.Integer(0)))  # placeholder; build fails

class _Abandon(Exception):
    """Stop lowering the current step; its problem has been recorded."""
