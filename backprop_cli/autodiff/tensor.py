"""Tensor values: 2-D NumPy arrays of exact SymPy entries.

A value is either a SymPy scalar or a :data:`Tensor`, always 2-D so that a
column vector (n x 1, how ``z = W a + b`` writes it) and a row (1 x n) are
different shapes, as in the course material.  NumPy's object arrays give
``@``, transposes and slicing; every entry stays exact.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING, Callable, Union

import sympy as sp
from sympy.core.parameters import global_parameters

from backprop_cli.autodiff.arrays import is_array, np
from backprop_cli.autodiff.numbers import approx, is_numeric, is_short, nesting

if TYPE_CHECKING:
    from numpy import ndarray as Tensor
else:
    Tensor = "numpy.ndarray"  # NumPy is imported when the first tensor is made
Value = Union[sp.Expr, Tensor]
Shape = tuple  # () for a scalar, (rows, columns) for a tensor
INERT_AFTER = 40  # tree nodes of an exact number beyond which arithmetic on it is built inert


def is_tensor(value) -> bool:
    return is_array(value)


def shape(value: Value) -> Shape:
    return tuple(value.shape) if is_tensor(value) else ()


def shape_text(s: Shape) -> str:
    return "scalar" if s == () else f"{s[0]}x{s[1]}"


def from_rows(rows: list[list[sp.Expr]]) -> Tensor:
    out = np.empty((len(rows), len(rows[0])), dtype=object)
    for i, row in enumerate(rows):
        for j, entry in enumerate(row):
            out[i, j] = entry
    return out


def filled(s: Shape, entry: sp.Expr) -> Tensor:
    out = np.empty(s, dtype=object)
    out.fill(entry)
    return out


def zeros_like(value: Value) -> Value:
    """0 in the shape of ``value``: a scalar 0, or a tensor of zeros."""
    return filled(value.shape, sp.Integer(0)) if is_tensor(value) else sp.Integer(0)


NUMERIC_DIGITS = 25


def numeric(value: Value) -> Value:
    """The value with every irrational entry as a 25-digit float; rationals stay exact.

    Arithmetic on floats costs the same however deeply an exact value nests,
    so a computation that only needs to be nearly right (is this replayed
    mistake the student's answer?) is first done on these.
    """
    if is_tensor(value):
        out = np.empty(value.shape, dtype=object)
        for index in np.ndindex(*value.shape):
            out[index] = _numeric_entry(value[index])
        return out
    return _numeric_entry(value)


def _numeric_entry(e):
    if not isinstance(e, sp.Basic) or e.is_Rational or e.is_Float or not is_numeric(e):
        return e
    return sp.Float(approx(e, NUMERIC_DIGITS), NUMERIC_DIGITS)


def entries(value: Value):
    """Every scalar entry, row by row."""
    return list(value.flat) if is_tensor(value) else [value]


def broadcast_shape(shapes: list[Shape]) -> Shape | None:
    """The shape NumPy broadcasts the operands to, or None when they do not broadcast.

    A scalar goes with anything; two tensors go together when each dimension is
    equal or 1 in one of them: a 3x1 column bias over a 3xB batch, a 1xn row over
    the rows of a Bxn batch.
    """
    out: Shape = ()
    for s in shapes:
        if s == ():
            continue
        if out == ():
            out = s
            continue
        if any(a != b and 1 not in (a, b) for a, b in zip(out, s)):
            return None
        out = tuple(max(a, b) for a, b in zip(out, s))
    return out


def source_index(index: tuple, s: Shape) -> tuple:
    """The entry of an operand of shape ``s`` that output entry ``index`` reads (broadcasting)."""
    if s == ():
        return ()
    return tuple(i if n > 1 else 0 for i, n in zip(index, s))


def summed_axes(small: Shape, big: Shape) -> tuple[int, ...]:
    """The axes a gradient of shape ``big`` is summed over to go back to ``small``."""
    if small == ():
        return (0, 1)
    return tuple(axis for axis, (a, b) in enumerate(zip(small, big)) if a == 1 and b > 1)


def _long_exact(values) -> bool:
    """Some value is a long exact number: an irrational whose form has grown past a few dozen
    operations, or nests a closed form inside another (exp of something holding an exp).
    Short, flat ones such as 1/(1 + exp(-2)) are cheap and print better simplified."""
    for value in values:
        for entry in (value.flat if is_tensor(value) else (value,)):
            if isinstance(entry, sp.Basic) and not entry.is_Number and is_numeric(entry) \
                    and (nesting(entry) > 2 or not is_short(entry, INERT_AFTER)):
                return True
    return False


@contextmanager
def exact_arithmetic(*values: Value):
    """Arithmetic on these values: SymPy's usual evaluation, or inert for long exact numbers.

    SymPy simplifies as it builds: 1/(a + b) asks whether every term is
    rational, exp(z) whether z is a multiple of i*pi, a*b whether powers of a
    common base combine.  On the exact numbers of a network each question is a
    numeric evaluation of a tree, seconds per entry once a training step has
    nested them.  Built inert, the numbers are just as exact; they are printed
    and compared through :func:`backprop_cli.autodiff.numbers.approx`, which evaluates
    shared subexpressions once.  Rationals and symbols keep the usual
    evaluation, so 1/2 + 1/4 is still 3/4.
    """
    if _long_exact(values):
        with sp.evaluate(False):
            yield
    else:
        yield


_ODD = (sp.sin, sp.tan, sp.tanh)  # f(-z) = -f(z)
_EVEN = (sp.cos,)  # f(-z) = f(z)


def call(fn, z: sp.Expr) -> sp.Expr:
    """``fn(z)`` for one of SymPy's functions (exp, log, sqrt, tanh, ...), exactly.

    SymPy evaluates a function as it builds it: exp(z) asks whether z is a
    multiple of i*pi or holds a logarithm, tanh(z) whether z is zero, and each
    question is decided by evaluating z numerically as a tree.  When z itself
    holds a closed form (exp of a tanh of a sigmoid ...), every level of
    nesting multiplies that cost: seconds by the tenth step of a chain.  Such
    an argument gets only the rewrites that change what is printed (a sign
    taken out of an odd function, exp of a logarithm, log of an exp) and the
    function is otherwise built inert, just as exact; a flat argument (a
    rational, pi/2, sqrt(2)) and a symbolic one keep SymPy's evaluation, so
    sin(pi/2) is still 1.
    """
    if not isinstance(z, sp.Basic) or z.is_Number or not is_numeric(z) or nesting(z) == 0:
        return fn(z)
    if (fn in _ODD or fn in _EVEN) and global_parameters.evaluate and z.could_extract_minus_sign():
        minus = -z
        if not minus.could_extract_minus_sign():
            return -call(fn, minus) if fn in _ODD else call(fn, minus)
    if fn is sp.exp:
        coefficient, term = z.as_coeff_Mul()
        if isinstance(term, sp.log):
            return term.args[0] ** coefficient
    if fn is sp.log and isinstance(z, sp.exp):
        return z.args[0]
    if fn is sp.sqrt:
        return sp.Pow(z, sp.S.Half, evaluate=False)
    return fn(z, evaluate=False)


def fold(value: Value) -> Value:
    """The only simplifications inert arithmetic misses that matter: x*0 is 0, x*1 and x + 0 are x."""
    if is_tensor(value):
        return np.vectorize(fold, otypes=[object])(value) if value.size else value
    if not isinstance(value, sp.Basic) or not (value.is_Mul or value.is_Add):
        return value
    unit, absorbing = (sp.S.One, sp.S.Zero) if value.is_Mul else (sp.S.Zero, None)
    if absorbing is not None and any(a is absorbing for a in value.args):
        return sp.S.Zero
    args = [a for a in value.args if a is not unit]
    if len(args) == len(value.args):
        return value
    if not args:
        return unit
    return args[0] if len(args) == 1 else value.func(*args, evaluate=False)


def elementwise(fn: Callable[..., sp.Expr], *args: Value) -> Value:
    """Apply a scalar rule entry by entry, broadcasting scalars."""
    s = broadcast_shape([shape(a) for a in args])
    if s == ():
        with exact_arithmetic(*args):
            return fold(fn(*args))
    out = np.empty(s, dtype=object)
    outer = inert = global_parameters.evaluate is False
    try:
        for index in np.ndindex(*s):
            entry = [a[source_index(index, a.shape)] if is_tensor(a) else a for a in args]
            long = outer or _long_exact(entry)
            if long != inert:  # switched only when it changes: each switch empties SymPy's cache
                global_parameters.evaluate = not long
                inert = long
            out[index] = fold(fn(*entry))
    finally:
        if inert != outer:
            global_parameters.evaluate = not outer
    return out


def unbroadcast(grad: Value, target: Shape) -> Value:
    """Sum a gradient back to the shape of a broadcast operand: a scalar collects every entry,
    a 3x1 column bias the entries of each row (the batch's columns), a 1xn row each column."""
    if not is_tensor(grad) or shape(grad) == target:
        return grad
    if target == ():
        with exact_arithmetic(grad):
            return fold(sp.Add(*grad.flat))
    out = np.empty(target, dtype=object)
    for index in np.ndindex(*target):
        rows = range(grad.shape[0]) if target[0] == 1 else [index[0]]
        cols = range(grad.shape[1]) if target[1] == 1 else [index[1]]
        terms = [grad[i, j] for i in rows for j in cols]
        with exact_arithmetic(*terms):
            out[index] = fold(sp.Add(*terms))
    return out


def add(a: Value, b: Value) -> Value:
    """a + b, entry by entry."""
    return elementwise(lambda x, y: x + y, a, b)


def as_scalar(value: Value) -> sp.Expr | None:
    """A scalar, or the entry of a 1x1 tensor (a loss written over 1x1 matrices); else None."""
    if not is_tensor(value):
        return value
    return value[0, 0] if value.shape == (1, 1) else None
