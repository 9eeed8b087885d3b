"""A step as its author wrote it, with the parts the engine split it into put back.

The engine names the parts of ``z1: W1 @ x + B1`` (``z1_1 = W1 @ x``); feedback
and the focused trace write ``W1 @ x + B1`` instead, so that no name appears that
the author did not write.
"""

from __future__ import annotations

import sympy as sp

from backprop_cli.autodiff.graph import Node, Role

_PRECEDENCE = {"add": 1, "sub": 1, "mul": 2, "div": 2, "matmul": 2, "neg": 3, "pow": 4}


def _precedence(node: Node) -> int:
    if node.role is not Role.PART or node.op is None:
        return 5  # a name
    return _PRECEDENCE.get(node.op.name, 5)  # a call


def written_definition(node: Node) -> str:
    """A step's definition as its author wrote it, its intermediate parts put back in:
    ``W1 @ x + B1`` rather than ``z1_1 + B1``."""
    if node.op is None:
        return node.role.value
    own = _PRECEDENCE.get(node.op.name, 5)
    call = node.op.form[0].isalpha()
    labels = []
    for slot, inp in enumerate(node.inputs):
        if inp.role is not Role.PART:
            label = inp.label
            labels.append(label[1:-1] if call and label.startswith("(-") else label)
            continue
        text, inner = written_definition(inp), _precedence(inp)
        postfix = node.op.form.startswith("{0}.")  # X.T
        if (not call and (inner < own or (inner == own and (slot > 0 or own == 4)))) or (postfix and inner < 5):
            text = f"({text})"
        labels.append(text)
    return node.op.form.format(*labels, **node.params)


def written_symbol(node: Node, suffix: str = "") -> sp.Symbol:
    """A symbol that prints as the node is written: its name, or a part's own text (a sum in
    parentheses, so that ``x - (a + b)`` stays right); ``suffix`` picks an entry: ``(W1 @ x)[1]``."""
    if node.role is not Role.PART:
        return sp.Symbol(node.name + suffix)
    text = written_definition(node)
    if _precedence(node) in (1, 3) or (suffix and _precedence(node) < 5):
        text = f"({text})"
    return sp.Symbol(text + suffix)


def written_name(node: Node, suffix: str = "") -> str:
    """How a trace names a part of a step: ``(x*w)``, ``(W1 @ x + b1)[1]``, ``sum(y*log(p))``."""
    if node.role is not Role.PART:
        return node.name + suffix
    text = written_definition(node)
    return (f"({text})" if _precedence(node) < 5 else text) + suffix
