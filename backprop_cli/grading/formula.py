"""Formula answers: is the student's expression the same function of the givens?

Deciding that two expressions are equal is undecidable in general, and
SymPy's ``simplify`` can run for ever, so the test is bounded: a cheap
symbolic check (``expand`` of the difference, only for small expressions),
then exact evaluation at several rational points near the exercise's own
values where the right answer is defined.  Two different functions agree at
random rational points only by a coincidence of measure zero.

At each point both sides are computed by the engine itself: the exercise's
forward and backward passes with the givens moved to the point, and the
student's expression evaluated there, so the limits and domains of the
language apply and no symbolic expression is substituted into.

A tensor given is a tensor of symbols, one per entry, so a formula such as
``W.T @ (W @ x - y)`` is a tensor of functions of those entries, compared
with the right one entry by entry.
"""

from __future__ import annotations

import random
from typing import Callable

import numpy as np
import sympy as sp

from backprop_cli.autodiff.engine import backward, evaluate, forward
from backprop_cli.autodiff.numbers import equal, exact_text, is_short
from backprop_cli.autodiff.tensor import Value, as_scalar, entries, filled, from_rows, is_tensor
from backprop_cli.exercise.keys import GradKey, Key, ValueKey
from backprop_cli.exercise.model import Exercise
from backprop_cli.exercise.reading import Number, parse_expression
from backprop_cli.source.errors import BackpropError, ExpressionError, Location, Where
from backprop_cli.source.limits import DEFAULT, Limits

POINTS = 6
_SMALL = 60  # operations; beyond this the symbolic check is skipped
_NOWHERE = Where(Location("formula", 1, 1))  # failures at a point are never shown: they mean "undefined"

Written = Number | list[list[Number]]  # one expression, or rows of them (a tensor entry by entry)


def given_symbols(exercise: Exercise) -> dict[str, Value]:
    """A symbol for each scalar given, a tensor of symbols (W[1,2], ...) for each tensor given."""
    symbols: dict[str, Value] = {}
    for name, value in exercise.given.items():
        if is_tensor(value):
            grid = np.empty(value.shape, dtype=object)
            for i, j in np.ndindex(*value.shape):
                grid[i, j] = sp.Symbol(f"{name}[{i + 1},{j + 1}]")
            symbols[name] = grid
        else:
            symbols[name] = sp.Symbol(name)
    return symbols


def symbolic(exercise: Exercise, key: Key) -> Value:
    """The right answer as a function of the givens (SymPy expressions over their symbols)."""
    return _right_answer(exercise, key, given_symbols(exercise))


def _right_answer(exercise: Exercise, key: Key, given: dict[str, Value]) -> Value:
    graph = exercise.graph
    values = forward(graph, given)
    if isinstance(key, ValueKey):
        return values[graph.by_name[key.name]]
    assert isinstance(key, GradKey)
    return backward(graph, values, *exercise.seed(key.of, values)).grad(graph.by_name[key.wrt])


def written_value(written: Written) -> Value:
    """The answer over the givens' symbols, as read."""
    if isinstance(written, list):
        return from_rows([[n.value for n in row] for row in written])
    return written.value


def same_function(written: Written, exercise: Exercise, key: Key, seed: str,
                  limits: Limits = DEFAULT) -> list[bool]:
    """For each entry (one for a scalar), whether the answer is the same function of the givens
    as the right one.  The caller has checked that the two have the same shape (a 1x1 result
    and a single expression count as the same)."""
    answer = _squeezed(written_value(written))
    reference = _squeezed(symbolic(exercise, key))
    right = [_symbolically_equal(a, r) for a, r in zip(entries(answer), entries(reference))]
    if all(right):
        return right
    rng = random.Random(seed)
    agree = [True] * len(right)
    for point, expected in _points(exercise, key, rng, limits):
        got = _answer_at(written, point, limits)
        for k, ok in enumerate(right):
            if not ok and agree[k]:
                agree[k] = got is not None and _defined_equal(got[k], expected[k])
    return [ok or same for ok, same in zip(right, agree)]


def _squeezed(value: Value) -> Value:
    scalar = as_scalar(value)
    return value if scalar is None else scalar


def _symbolically_equal(answer: sp.Expr, reference: sp.Expr) -> bool:
    diff = answer - reference
    return diff == 0 or (_cheap_to_expand(diff) and sp.expand(diff) == 0)


def _cheap_to_expand(diff: sp.Expr) -> bool:
    """Small, and no high powers: (x + y + w + 1)**64 expands to 47905 terms."""
    if not is_short(diff, 8 * _SMALL) or sp.count_ops(diff) > _SMALL:
        return False
    return not any(p.is_Pow and p.exp.is_Integer and abs(p.exp) > 6 for p in sp.preorder_traversal(diff))


def _defined_equal(got: sp.Expr, expected: sp.Expr) -> bool:
    try:
        return equal(got, expected)
    except (ValueError, TypeError, ZeroDivisionError, OverflowError):
        return False


def _at_point(fn: Callable[[], Value]) -> list[sp.Expr] | None:
    """The entries of ``fn()``, or None where it is undefined (a domain error, a size limit)."""
    try:
        return entries(_squeezed(fn()))
    except BackpropError:
        return None


def _answer_at(written: Written, given: dict[str, Value], limits: Limits) -> list[sp.Expr] | None:
    def value() -> Value:
        if isinstance(written, list):
            rows = [[_evaluate(n, given, limits) for n in row] for row in written]
            if any(is_tensor(e) for row in rows for e in row):
                raise BackpropError("an entry is a tensor")
            return from_rows(rows)
        return _evaluate(written, given, limits)
    return _at_point(value)


def _evaluate(number: Number, given: dict[str, Value], limits: Limits) -> Value:
    return evaluate(number.tree, given, _NOWHERE, limits)


def _points(exercise: Exercise, key: Key, rng: random.Random, limits: Limits):
    """The given values themselves, then rational points near them where the right answer is
    defined: (givens at the point, the right answer's entries there)."""
    center = exercise.given
    expected = _at_point(lambda: _right_answer(exercise, key, center))
    points = [(center, expected)] if expected is not None else []
    tries = 0
    while len(points) < POINTS and tries < 5 * POINTS:
        tries += 1
        point = {name: _moved(value, rng) for name, value in center.items()}
        expected = _at_point(lambda: _right_answer(exercise, key, point))
        if expected is not None:
            points.append((point, expected))
    return points


def _moved(value: Value, rng: random.Random) -> Value:
    """A value shifted by small random rationals, entry by entry."""
    def shifted(v: sp.Expr) -> sp.Expr:
        return v + sp.Rational(rng.randint(-12, 12), rng.randint(5, 17))
    if is_tensor(value):
        out = filled(value.shape, sp.Integer(0))
        for index in np.ndindex(*value.shape):
            out[index] = shifted(value[index])
        return out
    return shifted(value)


_PRINTABLE = 2000  # tree nodes of a formula that solve will print


def formula_text(exercise: Exercise, key: Key) -> tuple[str | list[list[str]] | None, str | None]:
    """The right formula in the exercise language (rows of them for a tensor), or None and why
    it cannot be written there: it names entries of a tensor given, uses a derivative the
    language has no function for (relu's step, abs's sign), or is too long to print."""
    value = _squeezed(symbolic(exercise, key))
    texts = []
    for entry in entries(value):
        text, why = _writable(entry, exercise)
        if text is None:
            return None, why
        texts.append(text)
    if not is_tensor(value):
        return texts[0], None
    width = value.shape[1]
    return [texts[i:i + width] for i in range(0, len(texts), width)], None


def _writable(entry: sp.Expr, exercise: Exercise) -> tuple[str | None, str | None]:
    if not is_short(entry, _PRINTABLE):
        return None, f"the formula is more than {_PRINTABLE} operations long"
    tensors = sorted(n for n, v in exercise.given.items() if is_tensor(v))
    named = {str(s).partition("[")[0] for s in entry.free_symbols}
    if named & set(tensors):
        return None, (f"the formula names single entries of {', '.join(sorted(named & set(tensors)))}, "
                      "which the exercise language cannot write")
    text = exact_text(entry)
    try:
        parse_expression(text)
    except ExpressionError:
        return None, ("the formula needs the derivative of relu, abs, max or min, which the exercise "
                      "language has no function for")
    return text, None
