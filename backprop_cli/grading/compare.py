"""Comparing an answer with a value: exactly, within the exercise's tolerance, or nearly.

An answer is read as a grid of numbers (a scalar is 1x1), each with its exact
value and whether it was written as a decimal.  Exact answers must be equal
to the right value; decimal ones within the tolerance.  :func:`near` is the
quick look on floats that diagnosis takes before comparing a candidate exactly.
"""

from __future__ import annotations

import mpmath
import sympy as sp

from backprop_cli.autodiff.numbers import approx, equal, within_tolerance
from backprop_cli.autodiff.tensor import Value, is_tensor, shape
from backprop_cli.exercise.model import Exercise
from backprop_cli.exercise.reading import Number

Grid = list[list[Number]]


def judge(answer: Number, expected: sp.Expr, exercise: Exercise, widen: int = 1) -> bool:
    """Exact answers must be equal; decimal ones within the exercise's tolerance (times ``widen``)."""
    if answer.decimal:
        tol = exercise.tolerance
        return within_tolerance(answer.value, expected, widen * tol.rel, widen * tol.abs)
    return equal(answer.value, expected)


def entry(value: Value, i: int, j: int) -> sp.Expr:
    return value[i, j] if is_tensor(value) else value


def content(grid: Grid) -> tuple:
    """What judging an answer depends on: each entry's exact value and whether it was a decimal."""
    return tuple(tuple((n.value, n.decimal) for n in row) for row in grid)


def near(grid: Grid, value: Value, exercise: Exercise) -> bool:
    """Whether the answer is, to float precision, ``value``: a decimal answer within the
    tolerance (and a hair), an exact one within 1e-12."""
    if (len(grid), len(grid[0])) != (shape(value) or (1, 1)):
        return False
    tol = exercise.tolerance
    with mpmath.workdps(30):
        rel, abs_ = approx(tol.rel, 20), approx(tol.abs, 20)
        for i, row in enumerate(grid):
            for j, answer in enumerate(row):
                a, e = approx(answer.value, 20), approx(entry(value, i, j), 20)
                if answer.decimal:
                    bound = (abs_ + rel * abs(e)) * (1 + mpmath.mpf(10) ** -6) + mpmath.mpf(10) ** -18
                else:
                    bound = mpmath.mpf(10) ** -12 * max(1, abs(a), abs(e))
                if abs(a - e) > bound:
                    return False
    return True


def entry_verdicts(grid: Grid, value: Value, exercise: Exercise,
                   widen: int = 1) -> list[list[bool]] | None:
    """Each answered entry judged against ``value``; None when the shapes differ
    (a scalar and a 1x1 answer are the same thing)."""
    if (len(grid), len(grid[0])) != (shape(value) or (1, 1)):
        return None
    return [[judge(a, entry(value, i, j), exercise, widen) for j, a in enumerate(row)]
            for i, row in enumerate(grid)]


def matches(grid: Grid, value: Value, exercise: Exercise, widen: int = 1) -> bool:
    right = entry_verdicts(grid, value, exercise, widen)
    return right is not None and all(all(row) for row in right)
