"""Reading values out of YAML nodes: numbers, tensors, flags and text.

Every value is read from the text the author wrote (never from YAML's own
guess at its type), parsed by the expression parser and evaluated exactly, so
``0.1`` is 1/10, ``1e3`` is 1000 and ``010`` is an error rather than 8.
Problems point at the file, line and column of the value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Collection

import sympy as sp

from backprop_cli.source import expr, hints
from backprop_cli.autodiff.engine import evaluate
from backprop_cli.autodiff.registry import FUNCTIONS
from backprop_cli.source.errors import BackpropError, ExpressionError, Where
from backprop_cli.source.limits import DEFAULT, Limits
from backprop_cli.source.memo import Memo
from backprop_cli.autodiff.tensor import Value, from_rows, is_tensor, shape, shape_text
from backprop_cli.source.yamlsrc import YNode, YScalar, YSequence, node_problem

YAML11_BOOLS = {"yes", "no", "on", "off", "y", "n"}


def where_in(scalar: YScalar, start: int = 0, end: int | None = None) -> Where:
    """Where characters ``start:end`` of a scalar's text stand in the file."""
    location = scalar.location_at(start)
    length = max(1, (end if end is not None else len(scalar.text)) - start)
    return Where(location, scalar.source.line(location.line), length)


def where_of(node: YNode) -> Where:
    return Where(node.location, node.source.line(node.location.line))


def parse_expression(text: str, limits: Limits = DEFAULT) -> expr.Node:
    """Parse expression text in the exercise language (the functions of the op registry)."""
    return expr.parse(text, FUNCTIONS, limits)


Locate = Callable[[int, int], Where]  # (start, end) offsets in an expression's text -> Where


def locator(scalar: YScalar) -> Locate:
    return lambda start, end: where_in(scalar, start, end)


def parse_located(text: str, locate: Locate, limits: Limits = DEFAULT) -> expr.Node:
    """Parse ``text``; an error points where ``locate`` says the text stands (a file, an option)."""
    try:
        return parse_expression(text, limits)
    except ExpressionError as err:
        where = locate(err.offset, err.offset + err.length)
        raise BackpropError(err.to_problem(where.location, where.snippet)) from None


def parse_scalar(scalar: YScalar, limits: Limits = DEFAULT) -> expr.Node:
    """Parse an expression held in a YAML scalar; errors point into the file."""
    return parse_located(scalar.text, locator(scalar), limits)


@dataclass(frozen=True)
class Number:
    """A number as written in the file: its text, exact value, and whether it was a decimal."""

    text: str
    value: sp.Expr
    decimal: bool  # written with a decimal point or an exponent, so graded with a tolerance
    tree: expr.Node | None = field(default=None, compare=False, repr=False)  # as parsed: a formula
    # answer is evaluated again at other values of the givens


def read_number(node: YNode, what: str, limits: Limits = DEFAULT,
                names: dict[str, Value] | None = None, steps: Collection[str] = ()) -> Number:
    """A number written in the file: a given, an answer, a tolerance, an upstream gradient.

    ``names`` are the names the text may use, with their values (an answer may
    be written over the givens: ``2*x*(x*w - y)``); without it, only numbers.
    ``steps`` are names the text may not use, but that deserve their own word.
    """
    scalar = scalar_of(node, what)
    if scalar.is_null:
        raise BackpropError(node_problem(node, f"{what} has no value"))
    if scalar.text.strip().lower() in YAML11_BOOLS | {"true", "false"}:
        raise BackpropError(node_problem(node, f"{what} must be a number, not '{scalar.text}'"))
    text = scalar.text.strip()
    if scalar.style in ("single", "double") and text.startswith("[") and text.endswith("]"):
        raise BackpropError(node_problem(
            node, f"{what} is in quotes, so YAML reads it as text, not as a list",
            f"remove the quotes: {text}"))
    return number_from_text(scalar.text, what, locator(scalar), limits, names, steps)


_NUMBERS: Memo[Number] = Memo(4096)  # a network's givens repeat a few values hundreds of times


def number_from_text(text: str, what: str, locate: Locate, limits: Limits = DEFAULT,
                     names: dict[str, Value] | None = None, steps: Collection[str] = ()) -> Number:
    """Parse and evaluate one number's text exactly; ``locate`` places errors.

    A number that uses no names is read once per text: a problem's position
    depends on where the text stands, so only numbers that read well are kept.
    """
    if not names:
        return _NUMBERS.get_or_make((text, limits), lambda: _read(text, what, locate, limits, {}, steps))
    return _read(text, what, locate, limits, names, steps)


def _read(text: str, what: str, locate: Locate, limits: Limits, names: dict[str, Value],
          steps: Collection[str]) -> Number:
    tree = parse_located(text, locate, limits)
    for name in expr.walk(tree):
        if isinstance(name, expr.Name) and name.id != "pi" and name.id not in names:
            where = locate(name.start, name.end)
            if name.id in steps:
                only = "only the givens" if names else "numbers only"
                raise BackpropError(where.problem(f"'{name.id}' is a step: write its value (or use {only})"))
            allowed = f"names of givens ({', '.join(names)}) or " if names else ""
            raise BackpropError(where.problem(
                f"{what} may only use {allowed}numbers, but '{name.id}' is not one",
                hints.e_hint(tree, name) or "write the number itself, e.g. 2 or 3/2 or exp(-1)"))
    value = _literal(tree)
    if value is None:
        used = {n: v for n, v in names.items() if n in expr.names(tree)}
        value = evaluate(tree, used, locate(0, len(text)), limits)
    decimal = any(isinstance(n, expr.Num) and n.decimal for n in expr.walk(tree))
    return Number(text.strip(), value, decimal, tree)


def _literal(tree: expr.Node) -> sp.Expr | None:
    """The value of a plain literal (``6``, ``-0.5``), which needs no graph: a 100x100 grid
    of numbers is read in a fifth of the time."""
    if isinstance(tree, expr.Num):
        return tree.value
    if isinstance(tree, expr.Neg) and isinstance(tree.operand, expr.Num):
        return -tree.operand.value
    return None


def constant(node: YNode, what: str, limits: Limits = DEFAULT) -> sp.Expr:
    return read_number(node, what, limits).value


def read_amount(node: YNode, what: str, limits: Limits = DEFAULT) -> sp.Expr:
    """A number from 0 up to ``limits.max_points``: points, a tolerance.

    Scores are sums of points and go into JSON as floats, so a weight such as
    10**1000 would print as Infinity, which no JSON parser reads.
    """
    value = constant(node, what, limits)
    try:
        negative, large = bool(value < 0), bool(value > limits.max_points)
    except (TypeError, ArithmeticError, ValueError):  # not a real number that can be compared
        negative, large = False, True
    if negative:
        raise BackpropError(node_problem(node, f"{what} cannot be negative"))
    if large:
        raise BackpropError(node_problem(node, f"{what} is too large: at most {limits.max_points}"))
    return value


def read_grid(node: YSequence, what: str, limits: Limits = DEFAULT,
              names: dict[str, Value] | None = None, steps: Collection[str] = ()) -> list[list[Number]]:
    """A tensor written as YAML lists: a flat list is a column vector, nested lists are rows."""
    refuse_long(node, what, limits)
    items = node.items
    if not items:
        raise BackpropError(node_problem(node, f"{what} is an empty list"))
    nested = [isinstance(i, YSequence) for i in items]
    if any(nested) and not all(nested):
        raise BackpropError(node_problem(node, f"{what} mixes numbers and lists",
                                         "write [a, b] for a column vector or [[a, b], [c, d]] for rows"))
    rows = [row.items for row in items] if all(nested) else [[i] for i in items]
    size = sum(len(r) for r in rows) + sum(row.oversized for row in items if isinstance(row, YSequence))
    if size > limits.max_tensor_entries:
        raise BackpropError(node_problem(node, f"{what} has {size} entries; the limit is "
                                               f"{limits.max_tensor_entries}"))
    for i, row in enumerate(rows):
        if not row:
            raise BackpropError(node_problem(items[i], f"{what}: row {i + 1} is empty"))
        if len(row) != len(rows[0]):
            raise BackpropError(node_problem(items[i], f"{what}: row {i + 1} has {len(row)} entries, "
                                                       f"but row 1 has {len(rows[0])}"))
        for entry in row:
            if isinstance(entry, YSequence):
                raise BackpropError(node_problem(entry, f"{what}: tensors have at most two dimensions"))
    return [[_entry(e, f"{what}, entry {i + 1},{j + 1}", limits, names, steps) for j, e in enumerate(row)]
            for i, row in enumerate(rows)]


def _entry(node: YNode, what: str, limits: Limits, names: dict[str, Value] | None,
           steps: Collection[str] = ()) -> Number:
    """One entry of a tensor written as lists: a number, never a tensor (``[x]`` with x a vector)."""
    number = read_number(node, what, limits, names, steps)
    if is_tensor(number.value):
        raise BackpropError(node_problem(
            node, f"{what} is a {shape_text(shape(number.value))} tensor, not a number",
            "each entry of a list is one number; write the tensor itself without brackets"))
    return number


def refuse_long(node: YSequence, what: str, limits: Limits = DEFAULT) -> None:
    """A list too long to parse (see source.prescan) is refused where it is read, with its length."""
    if node.oversized:
        raise BackpropError(node_problem(node, f"{what} has {node.oversized} entries; the limit is "
                                               f"{limits.max_tensor_entries}"))


def read_value(node: YNode, what: str, limits: Limits = DEFAULT) -> Value:
    """A given or upstream value: a number, or a tensor written as lists."""
    if isinstance(node, YSequence):
        return from_rows([[n.value for n in row] for row in read_grid(node, what, limits)])
    return constant(node, what, limits)


def scalar_of(node: YNode, what: str) -> YScalar:
    if isinstance(node, YScalar):
        if node.flaw is not None:  # e.g. a lone surrogate escape: not text at all
            raise BackpropError(node.flaw)
        return node
    kind = "a list" if isinstance(node, YSequence) else "a mapping"
    raise BackpropError(node_problem(node, f"{what} must be a single value, not {kind}"))


def read_bool(node: YNode, what: str) -> bool:
    text = scalar_of(node, what).text.strip() if isinstance(node, YScalar) else None
    if text in ("true", "True", "TRUE"):
        return True
    if text in ("false", "False", "FALSE"):
        return False
    hint = None
    if text is not None and text.lower() in YAML11_BOOLS:
        hint = "YAML 1.1 reads yes/no/on/off as booleans, which is easy to misread: write true or false"
    raise BackpropError(node_problem(node, f"{what} must be true or false", hint))


def read_text(node: YNode, what: str) -> str:
    if isinstance(node, YScalar) and not node.is_null:
        return scalar_of(node, what).text
    raise BackpropError(node_problem(node, f"{what} must be text"))
