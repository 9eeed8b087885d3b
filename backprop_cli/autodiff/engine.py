"""Forward and backward passes over a :class:`~backprop_cli.autodiff.graph.Graph`.

``backward`` is micrograd's algorithm: seed the target's gradient, walk the
nodes in reverse topological order, and add ``upstream * local`` into each
input (``+=``, so a node used along several paths collects every path).  The
same walk records each contribution as a :class:`Term`, so the trace that
explains a gradient is the computation of that gradient and cannot disagree
with it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from backprop_cli.autodiff.op import OpError, Pulled
from backprop_cli.autodiff.tensor import Value, add, zeros_like
from backprop_cli.source.errors import BackpropError, Where
from backprop_cli.autodiff.graph import Graph, Node, Role, StepSource, build_graph
from backprop_cli.source.limits import DEFAULT, Limits

Values = dict[Node, Value]


def forward(graph: Graph, given: dict[str, Value], limits: Limits = DEFAULT,
            fixed: dict[Node, Value] | None = None) -> Values:
    """The value of every node, exactly; a value outside a function's domain is an error.

    ``fixed`` pins some nodes to values of the caller's instead of computing them.
    """
    values: Values = {}
    for node in graph.nodes:
        if fixed and node in fixed:
            values[node] = fixed[node]
        elif node.role is Role.GIVEN:
            values[node] = given[node.name]
        elif node.role is Role.CONST:
            values[node] = node.const
        else:
            try:
                values[node] = node.op.apply([values[i] for i in node.inputs], limits, **node.params)
            except OpError as err:
                raise _error(node, f"{err}{_context(node)}") from None
    return values


_VALUE = "="  # the step name evaluate() uses: not a name anyone wrote


def _context(node: Node) -> str:
    if node.step == _VALUE:
        return ""
    return f" (in step '{node.step}', at {node.definition()})"


def _error(node: Node, message: str) -> BackpropError:
    if node.where is None:
        return BackpropError(message)
    return BackpropError(node.where.problem(message))


@dataclass(frozen=True)
class Term:
    """One consumer's share of a node's gradient: upstream times the local derivative."""

    consumer: Node
    slot: int  # which input of the consumer the node is (x*x has two)
    upstream: Value  # d target / d consumer
    local: Value | None  # its value (None for tensor ops, whose rule is a VJP)
    value: Value  # this path's contribution

    @property
    def local_symbolic(self) -> sp.Expr | None:
        """d consumer / d node over node names (elementwise ops; None for a tensor op's VJP).

        Derived when a trace asks for it, not in every backward pass: ``solve`` and most
        grading never print it.  The node keeps it, so it is derived once per edge."""
        return self.consumer.local_symbolic(self.slot)


@dataclass(frozen=True)
class GradLine:
    """The gradient of the target with respect to one node, and how it was summed."""

    node: Node
    value: sp.Expr
    terms: tuple[Term, ...]  # empty for the target itself


@dataclass
class Backward:
    graph: Graph
    target: Node  # the node the seed enters at
    seed: sp.Expr
    outside: str | None  # the outside loss's name when an upstream gradient seeds the pass
    values: Values
    lines: list[GradLine] = field(default_factory=list)  # reverse topological order
    grads: dict[Node, sp.Expr] = field(default_factory=dict)

    @property
    def of(self) -> str:
        """The name of what is differentiated: the outside loss, or the target step."""
        return self.outside or self.target.name

    def grad(self, node: Node) -> Value:
        """d(of)/d(node); zero, in the node's shape, when the target does not depend on it."""
        if node in self.grads:
            return self.grads[node]
        return zeros_like(self.values[node])


class Rules:
    """How a gradient crosses one edge: the op's exact VJP.

    The backward walk asks its rules for every edge, so grading can replay a
    classic mistake (a dropped factor, a path not summed) or take a student's
    own gradient at a node, by handing in rules of its own, without the walk
    knowing anything about grading.
    """

    def pull(self, node: Node, slot: int, g: Value, args: list[Value], out: Value) -> Pulled:
        return node.op.pull(slot, g, args, out, **node.params)

    def settle(self, node: Node, grad: Value) -> Value:
        """The gradient at ``node`` once every path into it is summed."""
        return grad


EXACT = Rules()


def backward(graph: Graph, values: Values, target: Node, seed: Value = sp.Integer(1),
             outside: str | None = None, rules: Rules = EXACT, only: Node | None = None) -> Backward:
    """Gradients of ``target`` (seeded with ``seed``) for every node it depends on; with
    ``only``, just the nodes on the paths from ``only`` up to the target (enough for the
    gradient at ``only``, which is all a replayed mistake asks for)."""
    result = Backward(graph, target, seed, outside, values)
    grads = result.grads
    terms: dict[Node, list[Term]] = {}
    grads[target] = seed
    order = graph.ancestors(target) if only is None else graph.between(target, only)
    above = set(order)
    # A given's gradient is final once its last consumer is done: say it there, next to
    # the step that uses it, rather than at the very end of the pass.
    waiting = {n: sum(c in above for c in graph.consumers(n)) for n in order if n.role is Role.GIVEN}
    for node in reversed(order):
        if node.role is Role.CONST or (node.role is Role.GIVEN and node is not target):
            continue
        grads[node] = rules.settle(node, grads[node])
        result.lines.append(GradLine(node, grads[node], tuple(terms.get(node, ()))))
        if node.op is None:
            continue
        args = [values[i] for i in node.inputs]
        for slot, inp in enumerate(node.inputs):
            if inp.role is Role.CONST or inp not in above:
                continue
            try:
                value, local = rules.pull(node, slot, grads[node], args, values[node])
            except OpError as err:
                raise _error(node, f"{err}{_context(node)}") from None
            terms.setdefault(inp, []).append(
                Term(node, slot, grads[node], local, value))
            grads[inp] = value if inp not in grads else add(grads[inp], value)
        for inp in dict.fromkeys(node.inputs):
            if inp in waiting:
                waiting[inp] -= 1
                if waiting[inp] == 0:
                    result.lines.append(GradLine(inp, grads[inp], tuple(terms[inp])))
    return result


def evaluate(tree, given: dict[str, sp.Expr], where: Where, limits: Limits = DEFAULT) -> sp.Expr:
    """The value of one parsed expression (an answer, a given) over known values.

    It goes through the same graph and forward pass as an exercise, so an
    answer's ``log(0)`` fails exactly as a step's would.
    """
    step = StepSource(_VALUE, tree, lambda start, end: where, where)
    graph = build_graph([(name, where) for name in given], [step], limits)
    return forward(graph, given, limits)[graph.by_name[_VALUE]]
