"""Formula answers: is the student's expression the same function of the givens?

Deciding that two expressions are equal is undecidable in general, and
SymPy's ``simplify`` can run for ever, so the test is bounded: a cheap
symbolic check (``expand`` of the difference, only for small expressions),
then exact evaluation at several rational points near the exercise's own
values where the right answer is defined.  Two different functions agree at
random rational points only by a coincidence of measure zero.
"""

from __future__ import annotations

import random

import sympy as sp

from backprop_cli.autodiff.engine import backward, forward
from backprop_cli.exercise.model import Exercise
from backprop_cli.exercise.keys import GradKey, Key, ValueKey
from backprop_cli.autodiff.numbers import equal
from backprop_cli.autodiff.op import bad_value

POINTS = 6
_SMALL = 60  # operations; beyond this the symbolic check is skipped


def given_symbols(exercise: Exercise) -> dict[str, sp.Symbol]:
    return {name: sp.Symbol(name) for name in exercise.given}


def symbolic(exercise: Exercise, key: Key) -> sp.Expr:
    """The right answer as a function of the givens (a SymPy expression over their symbols)."""
    symbols = given_symbols(exercise)
    graph = exercise.graph
    values = forward(graph, symbols)
    if isinstance(key, ValueKey):
        return values[graph.by_name[key.name]]
    assert isinstance(key, GradKey)
    return backward(graph, values, *exercise.seed(key.of)).grad(graph.by_name[key.wrt])


def same_function(answer: sp.Expr, reference: sp.Expr, exercise: Exercise, seed: str) -> bool:
    diff = answer - reference
    if diff == 0:
        return True
    if _cheap_to_expand(diff) and sp.expand(diff) == 0:
        return True
    symbols = given_symbols(exercise)
    points = _points(exercise, reference, symbols, random.Random(seed))
    return all(_defined(v := answer.subs(p)) and equal(v, value) for p, value in points)


def _cheap_to_expand(diff: sp.Expr) -> bool:
    """Small, and no high powers: (x + y + w + 1)**64 expands to 47905 terms."""
    if sp.count_ops(diff) > _SMALL:
        return False
    return not any(p.is_Pow and p.exp.is_Integer and abs(p.exp) > 6 for p in sp.preorder_traversal(diff))


def _defined(value: sp.Expr) -> bool:
    """A real number (a student's formula may be undefined where the right one is not)."""
    return value.is_number and bad_value(value) is None


def _points(exercise: Exercise, reference: sp.Expr, symbols, rng: random.Random):
    """The given values themselves, then rational points near them where the reference is defined."""
    center = {symbols[n]: v for n, v in exercise.given.items()}
    points = [(center, reference.subs(center))]
    tries = 0
    while len(points) < POINTS and tries < 5 * POINTS:
        tries += 1
        point = {s: v + sp.Rational(rng.randint(-12, 12), rng.randint(5, 17)) for s, v in center.items()}
        value = reference.subs(point)
        if value.is_number and bad_value(value) is None:
            points.append((point, value))
    return points
