"""Generators in ``given`` and the ``where:`` constraints that per-student variants must meet.

A given written as ``{int: [lo, hi]}``, ``{choice: [...]}`` or
``{decimal: [lo, hi], places: 1}`` is drawn for each student from a
deterministic stream (:mod:`backprop_cli.exercise.variants`).  A constraint
such as ``x != 0`` or ``0 < abs(w) <= 3`` compares expressions of the
exercise language: each side is parsed by the project's own parser and
evaluated exactly, and the comparison holds for a tensor when it holds for
every entry.  Nothing here evaluates text any other way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import sympy as sp

from backprop_cli.autodiff.engine import evaluate
from backprop_cli.autodiff.numbers import sign_of
from backprop_cli.autodiff.tensor import Value, broadcast_shape, is_tensor, shape, shape_text
from backprop_cli.exercise.reading import constant, parse_located, read_value, where_in
from backprop_cli.source import expr
from backprop_cli.source.errors import BackpropError, Where
from backprop_cli.source.limits import DEFAULT, Limits
from backprop_cli.source.yamlsrc import YMapping, YNode, YScalar, YSequence, node_problem

KINDS = ("int", "choice", "decimal")
FIELDS = KINDS + ("places",)
MAX_MAGNITUDE = 10**9  # |lo| and |hi| of a range
MAX_PLACES = 6
MAX_CHOICES = 1000
COMPARISONS = ("<=", ">=", "==", "!=", "<", ">")
_HOLDS = {"<": lambda s: s < 0, "<=": lambda s: s <= 0, ">": lambda s: s > 0, ">=": lambda s: s >= 0,
          "==": lambda s: s == 0, "!=": lambda s: s != 0}


class Draws(Protocol):
    def below(self, n: int) -> int:
        """A whole number from 0 up to (not including) n, uniformly."""


def is_generator(node: YNode | None) -> bool:
    """A ``given`` value that is a generator spec rather than a value."""
    return isinstance(node, YMapping) and any(k in KINDS for k in node.keys())


@dataclass(frozen=True)
class Generator:
    """One generated given: how to draw it, and the spec as written (recorded in copies)."""

    kind: str  # one of KINDS
    node: YMapping  # the spec as written
    low: int = 0  # int: the range; decimal: the range in units of 10**-places
    high: int = 0
    places: int = 0
    choices: tuple[YNode, ...] = ()

    @property
    def count(self) -> int:
        """How many different values it can give."""
        return len(self.choices) if self.kind == "choice" else self.high - self.low + 1

    def draw(self, stream: Draws) -> YNode:
        """One value, as the YAML node a student's copy holds."""
        k = stream.below(self.count)
        if self.kind == "choice":
            return self.choices[k]
        return _generated(self.node, units_text(self.low + k, self.places))

    def describe(self) -> str:
        if self.kind == "choice":
            return f"one of {len(self.choices)} choices"
        low, high = units_text(self.low, self.places), units_text(self.high, self.places)
        return f"{'a whole number' if self.kind == 'int' else 'a decimal'} from {low} to {high}"


def units_text(units: int, places: int) -> str:
    """``-7`` units of 0.1 is '-0.7'; places 0 is a whole number."""
    if places == 0:
        return str(units)
    sign = "-" if units < 0 else ""
    whole, frac = divmod(abs(units), 10**places)
    return f"{sign}{whole}.{frac:0{places}d}"


def _generated(spec: YNode, text: str) -> YScalar:
    """A plain scalar standing where the generator was written (errors point at the spec)."""
    return YScalar(spec.location, spec.source, text, "plain")


def read_generator(node: YMapping, name: str, limits: Limits = DEFAULT) -> Generator:
    what = f"generator of given '{name}'"
    kinds = [k for k in node.keys() if k in KINDS]
    for key in node.keys():
        if key not in FIELDS:
            raise BackpropError(node_problem(node.key_node(key), f"unknown field '{key}' in the {what}",
                                             "a generator is {int: [lo, hi]}, {choice: [a, b, ...]} "
                                             "or {decimal: [lo, hi], places: 1}"))
    if len(kinds) > 1:
        raise BackpropError(node_problem(node.key_node(kinds[1]),
                                         f"the {what} has both '{kinds[0]}' and '{kinds[1]}': choose one"))
    kind = kinds[0]
    spec = node.get(kind)
    if node.get("places") is not None and kind != "decimal":
        raise BackpropError(node_problem(node.key_node("places"), "'places' goes with 'decimal'"))
    if kind == "choice":
        if not (isinstance(spec, YSequence) and spec.items):
            raise BackpropError(node_problem(spec, f"the {what}: 'choice' needs a list of values"))
        if len(spec.items) > MAX_CHOICES:
            raise BackpropError(node_problem(spec, f"the {what} has more than {MAX_CHOICES} choices"))
        for i, item in enumerate(spec.items):
            read_value(item, f"choice {i + 1} of given '{name}'", limits)
        return Generator(kind, node, choices=tuple(spec.items))
    low, high = _bounds(spec, kind, what, limits)
    if kind == "int":
        if not (low.is_Integer and high.is_Integer):
            raise BackpropError(node_problem(spec, f"the {what}: 'int' takes two whole numbers [lo, hi]"))
        return Generator(kind, node, int(low), int(high))
    places = 1
    if node.get("places") is not None:
        value = constant(node.get("places"), "places", limits)
        if not (value.is_Integer and 0 <= value <= MAX_PLACES):
            raise BackpropError(node_problem(node.get("places"),
                                             f"places is a whole number from 0 to {MAX_PLACES}"))
        places = int(value)
    scale = 10**places
    first, last = math.ceil(low * scale), math.floor(high * scale)
    if first > last:
        raise BackpropError(node_problem(spec, f"the {what}: no decimal with {places} places lies "
                                               f"between {low} and {high}"))
    return Generator(kind, node, int(first), int(last), places)


def _bounds(spec: YNode, kind: str, what: str, limits: Limits) -> tuple[sp.Rational, sp.Rational]:
    if not (isinstance(spec, YSequence) and len(spec.items) == 2):
        raise BackpropError(node_problem(spec, f"the {what}: '{kind}' takes a range [lo, hi]"))
    low, high = (constant(item, f"the {what}'s range", limits) for item in spec.items)
    for value, item in ((low, spec.items[0]), (high, spec.items[1])):
        if not value.is_Rational or abs(value) > MAX_MAGNITUDE:
            raise BackpropError(node_problem(item, f"the {what}'s range takes numbers from "
                                                   f"-{MAX_MAGNITUDE} to {MAX_MAGNITUDE}"))
    if low > high:
        raise BackpropError(node_problem(spec, f"the {what}'s range [{low}, {high}] is empty: "
                                               "write the smaller number first"))
    return low, high


# ------------------------------------------------------------------ constraints

@dataclass(frozen=True)
class Constraint:
    """``a OP b [OP c ...]``: every neighbouring pair must compare as written."""

    text: str
    sides: tuple[expr.Node, ...]
    ops: tuple[str, ...]
    where: Where

    @property
    def names(self) -> set[str]:
        return {n for side in self.sides for n in expr.names(side)} - expr.CONSTANTS

    def holds(self, values: dict[str, Value], limits: Limits = DEFAULT) -> bool:
        """Whether it holds at these values (a side outside its domain: it does not)."""
        try:
            sides = [evaluate(tree, {n: values[n] for n in expr.names(tree) if n in values},
                              self.where, limits) for tree in self.sides]
        except BackpropError:
            return False
        return all(_compare(a, b, op, self.where) for a, b, op in zip(sides, sides[1:], self.ops))


def _compare(a: Value, b: Value, op: str, where: Where) -> bool:
    common = broadcast_shape([shape(a), shape(b)])
    if common is None:
        raise BackpropError(where.problem(f"this constraint compares a {shape_text(shape(a))} value "
                                          f"with a {shape_text(shape(b))} one"))
    indices = list(np.ndindex(*common)) if common else [()]
    return all(_HOLDS[op](sign_of((a[i] if is_tensor(a) else a) - (b[i] if is_tensor(b) else b)))
               for i in indices)


def read_constraints(node: YNode | None, known: set[str], limits: Limits = DEFAULT) -> list[Constraint]:
    """A ``where:`` list; ``known`` are the names it may use (givens and steps)."""
    if node is None:
        return []
    if not isinstance(node, YSequence):
        raise BackpropError(node_problem(node, "'where' must be a list of constraints",
                                         'e.g. where: ["x != 0", "abs(w) < 3"]'))
    problems, out = [], []
    for item in node.items:
        try:
            out.append(read_constraint(item, known, limits))
        except BackpropError as err:
            problems += err.problems
    if problems:
        raise BackpropError(problems)
    return out


def read_constraint(node: YNode, known: set[str], limits: Limits = DEFAULT) -> Constraint:
    if not isinstance(node, YScalar) or node.is_null:
        raise BackpropError(node_problem(node, "a constraint is one line of text, such as 'x != 0'"))
    text = node.text
    cuts = _comparisons(text, node)
    if not cuts:
        raise BackpropError(where_in(node).problem(
            "a constraint compares two expressions", "use one of < <= > >= == !=, e.g. 'x != 0'"))
    bounds = [0] + [i for at, op in cuts for i in (at, at + len(op))] + [len(text)]
    sides = []
    for start, end in zip(bounds[::2], bounds[1::2]):
        if not text[start:end].strip():
            raise BackpropError(where_in(node, start, max(end, start + 1)).problem(
                "a comparison needs an expression on each side"))
        sides.append(parse_located(text[start:end], lambda s, e, o=start: where_in(node, o + s, o + e),
                                   limits))
    constraint = Constraint(text, tuple(sides), tuple(op for _, op in cuts), where_in(node))
    for side, (start, _) in zip(sides, zip(bounds[::2], bounds[1::2])):
        for name in expr.walk(side):
            if isinstance(name, expr.Name) and name.id not in known | expr.CONSTANTS:
                raise BackpropError(where_in(node, start + name.start, start + name.end).problem(
                    f"unknown name '{name.id}' in a constraint",
                    "constraints may use the givens and the steps: " + ", ".join(sorted(known))))
    return constraint


def _comparisons(text: str, node: YScalar) -> list[tuple[int, str]]:
    """(offset, operator) of every comparison outside parentheses."""
    cuts, depth, i = [], 0, 0
    while i < len(text):
        c = text[i]
        depth += {"(": 1, ")": -1}.get(c, 0)
        if depth == 0 and c in "<>=!":
            op = next((o for o in COMPARISONS if text.startswith(o, i)), None)
            if op is None:
                raise BackpropError(where_in(node, i, i + 1).problem(
                    f"'{c}' is not a comparison", "compare with < <= > >= == or !="))
            cuts.append((i, op))
            i += len(op)
            continue
        i += 1
    return cuts


def given_names(root: YMapping) -> set[str]:
    given = root.get("given")
    return set(given.keys()) if isinstance(given, YMapping) else set()


def step_names(root: YMapping) -> set[str]:
    steps = root.get("steps")
    return set(steps.keys()) if isinstance(steps, YMapping) else set()

