"""Tensor values: 2-D NumPy arrays of exact SymPy entries.

A value is either a SymPy scalar or a :data:`Tensor`, always 2-D so that a
column vector (n x 1, how ``z = W a + b`` writes it) and a row (1 x n) are
different shapes, as in the course material.  NumPy's object arrays give
``@``, transposes and slicing; every entry stays exact.
"""

from __future__ import annotations

from typing import Callable, Union

import numpy as np
import sympy as sp

Tensor = np.ndarray
Value = Union[sp.Expr, Tensor]
Shape = tuple  # () for a scalar, (rows, columns) for a tensor


def is_tensor(value) -> bool:
    return isinstance(value, np.ndarray)


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


def entries(value: Value):
    """Every scalar entry, row by row."""
    return list(value.flat) if is_tensor(value) else [value]


def to_lists(value: Value, fmt: Callable[[sp.Expr], str]):
    """Nested lists of strings (a string for a scalar), for JSON and answers."""
    if not is_tensor(value):
        return fmt(value)
    return [[fmt(e) for e in row] for row in value]


def broadcast_shape(shapes: list[Shape]) -> Shape | None:
    """The common shape when every operand is a scalar or has the same shape; else None."""
    tensors = {s for s in shapes if s != ()}
    if len(tensors) > 1:
        return None
    return tensors.pop() if tensors else ()


def elementwise(fn: Callable[..., sp.Expr], *args: Value) -> Value:
    """Apply a scalar rule entry by entry, broadcasting scalars."""
    s = broadcast_shape([shape(a) for a in args])
    if s == ():
        return fn(*args)
    out = np.empty(s, dtype=object)
    for index in np.ndindex(*s):
        out[index] = fn(*(a[index] if is_tensor(a) else a for a in args))
    return out


def unbroadcast(grad: Value, target: Shape) -> Value:
    """Sum a gradient back to the shape of a broadcast operand (a scalar collects every entry)."""
    if target == () and is_tensor(grad):
        return sp.Add(*grad.flat)
    return grad


def as_scalar(value: Value) -> sp.Expr | None:
    """A scalar, or the entry of a 1x1 tensor (a loss written over 1x1 matrices); else None."""
    if not is_tensor(value):
        return value
    return value[0, 0] if value.shape == (1, 1) else None
