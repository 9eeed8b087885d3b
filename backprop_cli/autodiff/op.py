"""The one interface every operation implements, elementwise or tensor.

As HIPS autograd pairs each primitive with its vector-Jacobian products, an
:class:`Op` says what it computes (``apply``) and, beside it, how the output's
gradient flows back to each input (``pull``).  Elementwise ops also give their
symbolic local derivative (``d(x*w)/dx = w``), which the trace prints and the
named mistakes replace; tensor ops instead say how the trace writes their VJP
in matrix form.  The engine, the trace and the diagnosis only ever talk to
this interface; :mod:`backprop_cli.autodiff.registry` is the one table of ops.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import sympy as sp

from backprop_cli.autodiff.numbers import identity_cache
from backprop_cli.autodiff.tensor import Value
from backprop_cli.source.limits import DEFAULT, Limits


class OpError(Exception):
    """An input outside an op's domain or of the wrong shape; the engine adds where."""


class Pulled(NamedTuple):
    """One input's share of the gradient, and the local derivative it was made with."""

    value: Value
    local: Value | None  # None for a tensor op, whose rule is a VJP, not a factor


# symbol(i, index) and out_symbol(index): how entry ``index`` of input i (or of the
# output) is named in the per-entry chain of ``explain --entry``.
EntryPartial = tuple[tuple, sp.Expr, sp.Expr]  # (output index, value, symbolic)


class Op:
    """An operation: forward rule, VJP for each input, and how the trace writes both.

    ``arity`` and ``keywords`` are what the parser reads; ``defaults`` are the
    keyword values when a call leaves one out.
    """

    name: str
    form: str  # the forward rule over input labels: "{0}*{1}", "conv2d({0}, {1}, stride={stride}, ...)"
    arity: int
    keywords: tuple[str, ...] = ()
    defaults: dict | None = None

    def apply(self, args: list[Value], limits: Limits = DEFAULT, **params) -> Value:
        """The output for these inputs, exactly."""
        raise NotImplementedError

    def pull(self, slot: int, g: Value, args: list[Value], out: Value, **params) -> Pulled:
        """The gradient for input ``slot``, given the output's gradient ``g``."""
        raise NotImplementedError

    def local_symbolic(self, slot: int, inputs: list[sp.Expr], out: sp.Expr) -> sp.Expr | None:
        """d(out)/d(input ``slot``) over the given symbols; None when the op has no such factor."""
        return None

    def local(self, slot: int, args: list[Value], out: Value) -> Value | None:
        """The local derivative's value entry by entry; None when the op has no such factor."""
        return None

    def vjp_form(self, slot: int) -> str | None:
        """How the trace writes the VJP in matrix form ("{g} @ {1}.T"); None for elementwise ops."""
        return None

    def entry_partials(self, slot: int, index: tuple, args: list[Value], out: Value,
                       symbol: Callable, out_symbol: Callable, **params) -> list[EntryPartial]:
        """d out[k] / d input[index] for every output entry k that the input entry reaches."""
        raise NotImplementedError


def as_expr(x) -> sp.Expr:
    """Local rules may return plain ints (the 1 of an addition)."""
    return x if isinstance(x, sp.Basic) else sp.Integer(x)


_INFINITE = "the result is infinite or undefined"
_COMPLEX = "the result is not a real number"


def bad_value(value: sp.Expr) -> str | None:
    """Why a computed number is unusable (infinite, undefined or complex), or None."""
    if value.is_Rational:
        return None
    return _unusable(value)


@identity_cache
def _unusable(value: sp.Basic) -> str | None:
    """bad_value, walking shared subexpressions once (SymPy's ``has`` walks them as a tree,
    which takes seconds on the values of a trained network)."""
    if value.is_Atom:
        if value in (sp.zoo, sp.nan, sp.oo, -sp.oo):
            return _INFINITE
        return _COMPLEX if value is sp.I else None
    found = [_unusable(a) for a in value.args]
    return _INFINITE if _INFINITE in found else _COMPLEX if _COMPLEX in found else None
