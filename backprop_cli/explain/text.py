"""How values and chain-rule pieces are written in a trace.

Two notations share one rule, the exact form when it is short, with its
decimal beside it when it is not a whole number:

* the **full** notation (``explain``, ``check -v``) writes numbers as the
  trace has always written them: exact when short, else ``≈`` and 10
  significant digits;
* the **brief** notation (``check``'s focused feedback) writes a factor in a
  product as its decimal unless it is a short rational (``1/10``, ``-2``),
  and a result as ``-1/8 ≈ -0.125`` or ``≈ 0.02399056``, so that a chain
  through a sigmoid network stays on one screen.
"""

from __future__ import annotations

import sympy as sp

from backprop_cli.autodiff.numbers import (SHORT, decimal_text, exact_text, is_integer, is_numeric, is_short,
                                           prints_longer)
from backprop_cli.autodiff.tensor import Value, is_tensor, shape, shape_text

DOT = " · "
BRIEF_DIGITS = 7  # significant digits of a decimal in the brief notation
BRIEF_EXACT = 24  # an exact form longer than this is written as its decimal in the brief notation


def number(value: Value) -> str:
    """A value inside a trace line: exact when short, decimal otherwise; tensors as rows."""
    if is_tensor(value):
        rows = [[number(e) for e in row] for row in value]
        text = "[" + ", ".join("[" + ", ".join(row) + "]" for row in rows) + "]"
        if len(text) <= 4 * SHORT:
            return text
        return "≈ [" + ", ".join("[" + ", ".join(decimal_text(e, 6) for e in row) + "]"
                                 for row in value) + "]"
    if prints_longer(value, SHORT):  # printing a long nested form whole only to measure it
        return "≈ " + decimal_text(value, 10)  # can take longer than the backward pass
    text = exact_text(value)
    return text if len(text) <= SHORT else "≈ " + decimal_text(value, 10)


def decimal_or_none(value: Value) -> str | None:
    """The decimal form, when the value (or some entry) is not an integer."""
    if is_tensor(value):
        if all(is_integer(e) for e in value.flat):
            return None
        return "[" + ", ".join("[" + ", ".join(decimal_text(e, 6) for e in row) + "]"
                               for row in value) + "]"
    return None if is_integer(value) or not is_numeric(value) else decimal_text(value, 10)


def _short_exact(value: sp.Expr, limit: int = BRIEF_EXACT) -> str | None:
    """The exact text of a scalar when it is at most ``limit`` characters, else None."""
    if not isinstance(value, sp.Basic) or not is_numeric(value) or not is_short(value):
        return None  # a long exact form is not even printed to measure it
    text = exact_text(value)
    return text if len(text) <= limit else None


def brief(value: Value) -> str:
    """A factor in the brief notation: a short rational exactly, anything else in decimal
    (the result of the product says ``≈`` when it is not exact)."""
    if is_tensor(value):
        return "[" + ", ".join("[" + ", ".join(brief(e) for e in row) + "]" for row in value) + "]"
    if value.is_Rational:
        text = _short_exact(value)
        if text is not None:
            return text
    return decimal_text(value, BRIEF_DIGITS)


def brief_result(value: Value) -> str:
    """A result in the brief notation: ``-1/8 ≈ -0.125``, ``7``, or ``≈ 0.02399056``."""
    if is_tensor(value):
        exact = all(e.is_Rational and _short_exact(e) is not None for e in value.flat)
        return brief(value) if exact else "≈ " + brief(value)
    exact = _short_exact(value)
    if exact is None:
        return "≈ " + decimal_text(value, BRIEF_DIGITS)
    if is_integer(value):
        return exact
    decimal = decimal_text(value, BRIEF_DIGITS)
    return exact if decimal == exact else f"{exact} ≈ {decimal}"


def brief_known(name: str, value: Value) -> str:
    """``x = 1/2`` or ``x4 ≈ 0.5515043`` for the values a local derivative uses."""
    text = brief_result(value)
    return f"{name} {text}" if text.startswith("≈") else f"{name} = {text}"


def with_shape(name: str, value: Value) -> str:
    """``a (3x1)`` for a tensor, plain ``a`` for a scalar."""
    return f"{name} ({shape_text(shape(value))})" if is_tensor(value) else name


def partial(of: str, node: str) -> str:
    return f"∂{of}/∂{node}"


def factor(text: str) -> str:
    """Parenthesise a factor unless it is one name, number, call or matrix."""
    depth, top_level_operator = 0, False
    for ch in text:
        depth += (ch in "([") - (ch in ")]")
        if depth == 0 and ch in "+-*/ " and not (ch == "/" and _is_fraction(text)):
            top_level_operator = True
    return f"({text})" if top_level_operator else text


def _is_fraction(text: str) -> bool:
    num, _, den = text.partition("/")
    return num.isdigit() and den.isdigit()


def signed_sum(texts: list[str]) -> str:
    """'-1 - 3 + 4', not '-1 + -3 + 4'."""
    out = texts[0]
    for text in texts[1:]:
        out += f" - {text[1:]}" if text.startswith("-") else f" + {text}"
    return out
