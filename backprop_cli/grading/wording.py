"""How feedback sentences name a place in the graph: in the exercise's own words.

The engine names the parts of a step (``loss_1`` for the ``x4 - y`` of
``loss: (x4 - y)**2``); a student never wrote those names.  A sentence says
"the square (x4 - y)**2 in step 'loss'" and writes a local derivative over
what the student wrote, ``2*(x4 - y)``, never ``dloss/dloss_1 = 2*loss_1``.
"""

from __future__ import annotations

import sympy as sp

from backprop_cli.autodiff.graph import Node, Role
from backprop_cli.autodiff.numbers import exact_text
from backprop_cli.autodiff.tensor import Value
from backprop_cli.explain.text import brief_result, factor
from backprop_cli.explain.trace import written_definition

_OPERATORS = {"add": "sum", "sub": "subtraction", "mul": "product", "div": "quotient", "pow": "power",
              "neg": "negation", "matmul": "matrix product", "identity": "copy"}


def text(node: Node) -> str:
    """How the exercise writes a node: its name, or for a part of a step, the part itself."""
    return written_definition(node) if node.role is Role.PART else node.name


def operation(node: Node) -> str:
    """'the square (x4 - y)**2', 'the product x*w', 'the sigmoid': what the node computes."""
    name = node.op.name
    if name == "pow" and node.inputs[1].role is Role.CONST and node.inputs[1].const == 2:
        return f"the square {written_definition(node)}"
    if name in _OPERATORS:
        return f"the {_OPERATORS[name]} {written_definition(node)}"
    return f"the {name}"


def place(node: Node) -> str:
    """'the square (x4 - y)**2 in step 'loss''."""
    return f"{operation(node)} in step '{node.step}'"


def formula(expression: sp.Expr, graph) -> str:
    """A local derivative over node names, with each part written out: 2*(x4 - y)."""
    names = {}
    for symbol in expression.free_symbols:
        node = graph.by_name.get(symbol.name)
        if node is not None and node.role is Role.PART:
            names[symbol] = sp.Symbol(factor(written_definition(node)))
    if not names:
        return exact_text(expression)
    with sp.evaluate(False):
        return exact_text(expression.xreplace(names))


def equals(expression: sp.Expr, value: Value) -> str:
    """' = -2' or ' ≈ -0.09699138', the value of a formula; nothing after a plain number."""
    if expression.is_Number:
        return ""
    result = brief_result(value)
    return f" {result}" if result.startswith("≈") else f" = {result}"


def derivative(consumer: Node, inp: Node) -> str:
    """'the derivative of the square (x4 - y)**2 in step 'loss'' (with respect to an input,
    when the operation has more than one)."""
    inputs = [i for i in dict.fromkeys(consumer.inputs) if i.role is not Role.CONST]
    respect = f" with respect to {text(inp)}" if len(inputs) > 1 else ""
    return f"the derivative of {place(consumer)}{respect}"
