"""How feedback names the parts of an exercise: in the author's own words.

The graph gives every operation inside a step a made-up name (``loss_3``);
sentences never use those.  A part of a step is quoted as the author wrote
it (``y * log(p)`` in step 'loss'), and a local derivative is printed over
those words.
"""

from __future__ import annotations

import re

import sympy as sp
from sympy.printing.precedence import PRECEDENCE

from backprop_cli.autodiff.engine import Values
from backprop_cli.autodiff.graph import Node, Role
from backprop_cli.autodiff.numbers import exact_text
from backprop_cli.autodiff.tensor import Value
from backprop_cli.explain.trace import number


_NAME_OR_CALL = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*(\(.*\))?|[0-9.]+")


def _atomic(text: str) -> bool:
    """A name, a number or one call (``log(p)``, not ``sin(x) + cos(y)``): no parentheses needed."""
    if not _NAME_OR_CALL.fullmatch(text):
        return False
    depth = 0
    for i, c in enumerate(text):
        depth += (c == "(") - (c == ")")
        if depth == 0 and c == ")" and i != len(text) - 1:
            return False  # the call's parenthesis closes before the end
    return True


def source(node: Node) -> str | None:
    """The text the author wrote for a node (``y * log(p)``), when it stands on one line."""
    where = node.where
    if where is None or where.snippet is None:
        return None
    start = where.location.column - 1
    text = where.snippet[start:start + where.span]
    return text.strip() if len(text) == where.span and text.strip() else None


def said(node: Node) -> str:
    """How a sentence names a node: its name, or for a part of a step, what the author wrote."""
    if node.role is not Role.PART:
        return node.name
    text = source(node)
    if text is None:
        return f"part of step {node.step}"
    return text if _atomic(text) else f"({text})"


def step_words(node: Node) -> str:
    """'step r' or, for a part of a step, "the part x*w of step 'loss'"."""
    if node.role is Role.PART:
        text = source(node)
        return f"the part {text} of step '{node.step}'" if text else f"step '{node.step}'"
    return f"step '{node.name}'"


def written(node: Node) -> str:
    """The name the author wrote: a step, or for an intermediate the step it is part of."""
    return f"step {node.step}" if node.role is Role.PART else node.name


class _Written(sp.Symbol):
    """A part of a step inside a printed derivative, as the author wrote it (``x*w - y``); the
    printer puts it in parentheses where precedence needs them, as it would a sum."""

    precedence = PRECEDENCE["Add"]


def symbolic_words(consumer: Node, slot: int) -> str:
    """A local derivative over the author's names: parts of steps as they were written."""
    symbolic = consumer.local_symbolic(slot)
    parts = {i.symbol: _Written(source(i) or f"part of step {i.step}")
             for i in consumer.inputs if i.role is Role.PART}
    return exact_text(symbolic.xreplace(parts) if parts else symbolic)


def local_words(consumer: Node, slot: int, values: Values) -> str:
    """'2*r = -2', or just '-2' when the local derivative is a number to begin with."""
    symbolic = consumer.local_symbolic(slot)
    words = symbolic_words(consumer, slot)
    return words if symbolic.is_Number else f"{words} = {number(local_value(consumer, slot, values))}"


def derivative(consumer: Node, inp: Node) -> str:
    return f"d{said(consumer)}/d{said(inp)}"


def local_value(consumer: Node, slot: int, values: Values) -> Value:
    """The value of d(consumer)/d(input ``slot``), entry by entry."""
    return consumer.op.local(slot, [values[i] for i in consumer.inputs], values[consumer])
