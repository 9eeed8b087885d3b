"""Exact values as text, and the two ways an answer can equal an expected value.

Values are SymPy numbers: rationals where the exercise is rational, exact
expressions such as ``exp(-1)/(exp(-1) + 1)**2`` otherwise.  They are printed
in the expression language itself, so every printed value can be typed back
as an answer and parses to the same number.
"""

from __future__ import annotations

import mpmath
import numpy as np
import sympy as sp
from sympy.printing.str import StrPrinter

SHORT = 60  # an exact form longer than this is shown in decimal
DIGITS = 15  # significant digits of the decimal form
_CHECK_DIGITS = 60  # working precision for deciding exact equality of irrational values


class _Printer(StrPrinter):
    """SymPy's str printer, speaking the exercise language (exp(1), not E)."""

    def _print_Exp1(self, expr):
        return "exp(1)"

    def _print_Abs(self, expr):
        return f"abs({self._print(expr.args[0])})"

    def _print_Max(self, expr):
        return "max(" + ", ".join(self._print(a) for a in expr.args) + ")"

    def _print_Min(self, expr):
        return "min(" + ", ".join(self._print(a) for a in expr.args) + ")"

    def _print_Heaviside(self, expr):
        # Local derivatives of relu, max and min; only the trace shows these.
        z = self._print(expr.args[0])
        if len(expr.args) > 1 and expr.args[1] == 0:
            return f"[{z} > 0]"
        return f"step({z})"


_PRINTER = _Printer({"order": "none"})


def exact_text(value: sp.Expr) -> str:
    return _PRINTER.doprint(value)


def decimal_text(value: sp.Expr, digits: int = DIGITS) -> str:
    """The value to ``digits`` significant digits, e.g. '0.196611933241482'."""
    x = sp.N(value, digits + 5)
    return mpmath.nstr(mpmath.mpf(x._mpf_ if hasattr(x, "_mpf_") else float(x)), digits,
                       min_fixed=-5, max_fixed=16)


def shown(value):
    """The form used for ``expected`` and ``solve``: exact when short, else decimal.

    A tensor gives nested lists of such strings, one list per row.
    """
    if isinstance(value, np.ndarray):
        return [[shown(e) for e in row] for row in value]
    text = exact_text(value)
    return text if len(text) <= SHORT else decimal_text(value)


def is_integer(value: sp.Expr) -> bool:
    return bool(getattr(value, "is_Integer", False))


def equal(a: sp.Expr, b: sp.Expr) -> bool:
    """Exact equality of two real numbers.

    Rationals compare exactly.  Two irrational forms of one number (the same
    sigmoid derivative written two ways) are equal when they agree to 60
    digits; deciding zero exactly is undecidable in general and SymPy's full
    ``simplify`` is unbounded, so this is the honest, bounded test.
    """
    if a == b:
        return True
    diff = a - b
    if diff.is_Rational:
        return diff == 0
    scale = max(1, abs(sp.N(a, 20)), abs(sp.N(b, 20)))
    return bool(abs(sp.N(diff, _CHECK_DIGITS)) <= sp.Integer(10) ** -40 * scale)


def within_tolerance(answer: sp.Expr, expected: sp.Expr, rel: sp.Expr, abs_: sp.Expr) -> bool:
    """``|answer - expected| <= abs + rel * |expected|``, at 30 digits."""
    a, e = sp.N(answer, 30), sp.N(expected, 30)
    return bool(abs(a - e) <= sp.N(abs_, 30) + sp.N(rel, 30) * abs(e))
