"""The ``ask`` list: which keys are graded, how, and for how many points.

An ask is a key (``dloss/dw``) or a mapping ``{key, form, points, partial}``.
``form: formula`` asks for an expression over the givens instead of a number;
when the same key is asked both ways, the formula's answer goes under
``KEY (formula)``.  Every problem is collected before reporting.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import sympy as sp

from backprop_cli.source.errors import BackpropError, Problem, Where
from backprop_cli.autodiff.graph import Graph, Node, Role
from backprop_cli.exercise.keys import KEY_FORMS, GradKey, Key, TrainKey, ValueKey, parse_key
from backprop_cli.source.limits import DEFAULT, Limits
from backprop_cli.exercise.reading import read_amount, read_bool, read_text, where_in, where_of
from backprop_cli.source.yamlsrc import is_missing, YMapping, YNode, YScalar, YSequence, node_problem

FORMULA_SUFFIX = " (formula)"


class Form(enum.Enum):
    VALUE = "value"  # a number (or tensor) at the given point
    FORMULA = "formula"  # an expression over the givens, the same function as the right one

BROKEN_TRAINING = object()  # a `train` block with problems of its own: its keys are not checked
ASK_FIELDS = ("key", "form", "points", "partial")


@dataclass(frozen=True)
class Ask:
    key: Key
    points: sp.Expr
    where: Where
    form: Form = Form.VALUE
    partial: bool = False  # a tensor answer earns the share of its right entries
    label: str = ""  # the key its answer is written under

    @property
    def answer_key(self) -> str:
        return self.label or str(self.key)


def answer_label(text: str) -> str | None:
    """The canonical form of an answer's key (spacing normalised), or None if it is no key."""
    text = " ".join(text.split())
    formula = text.endswith(FORMULA_SUFFIX.strip()) and text[: -len("(formula)")].rstrip()
    key = parse_key(formula or text)
    if key is None:
        return None
    return str(key) + (FORMULA_SUFFIX if formula else "")


@dataclass
class _Entry:
    text: str
    where: Where
    form: Form = Form.VALUE
    points: sp.Expr | None = None
    partial: bool | None = None


def read_asks(root: YMapping | None, graph: Graph, output: Node, outside: str | None,
              training=None, limits: Limits = DEFAULT, where: Where | None = None) -> list[Ask]:
    """The asks of ``root``'s ``ask``, ``points`` and ``partial`` (None: an exercise with
    none of them, such as ``explain --expr``); ``where`` stands for the default asks."""
    problems: list[Problem] = []
    section = root.get if root is not None else (lambda key: None)

    def attempt(fn, *args):
        try:
            return fn(*args)
        except BackpropError as err:
            problems.extend(err.problems)
            return None

    weights = attempt(_points, section("points"), limits) or {}
    default_partial = attempt(read_bool, section("partial"), "partial") if section("partial") else False
    node = section("ask")
    if node is None:
        entries = _default_entries(graph, output, outside, where or where_of(root))
    elif isinstance(node, YSequence) and node.oversized:
        raise BackpropError(node_problem(node, f"'ask' lists {node.oversized} keys; the limit is "
                                               f"{limits.max_tensor_entries}"))
    elif isinstance(node, YSequence) and node.items:
        entries = [attempt(_entry, item, limits) for item in node.items]
    else:
        raise BackpropError(node_problem(node, "'ask' must be a list of answer keys",
                                         "e.g. ask: [loss, dloss/dw]"))
    entries = [e for e in entries if e is not None]
    both_ways = _asked_both_ways(entries)
    asks, seen = [], {}
    for entry in entries:
        key = parse_key(entry.text)
        problem = check_key(key, entry.text, graph, outside, training)
        if problem:
            problems.append(entry.where.problem(problem))
            continue
        label = str(key) + (FORMULA_SUFFIX if entry.form is Form.FORMULA and str(key) in both_ways else "")
        if label in seen:
            problems.append(entry.where.problem(
                f"'{entry.text}' is asked twice (first at line {seen[label].location.line})"))
            continue
        seen[label] = entry.where
        if entry.form is Form.FORMULA and not isinstance(key, GradKey | ValueKey):
            problems.append(entry.where.problem("a formula ask needs a value or gradient key"))
            continue
        points = entry.points if entry.points is not None else weights.get(str(key), (sp.Integer(1),))[0]
        partial = default_partial if entry.partial is None else entry.partial
        asks.append(Ask(key, points, entry.where, entry.form, bool(partial), label))
    asked = {str(parse_key(e.text)) for e in entries}
    for name, (_, key_node) in weights.items():
        if name not in asked:
            problems.append(node_problem(key_node, f"points for '{name}', which is not asked"))
    if problems:
        raise BackpropError(problems)
    return asks


def _points(node: YNode | None, limits: Limits) -> dict:
    if is_missing(node):
        return {}
    if not isinstance(node, YMapping):
        raise BackpropError(node_problem(node, "'points' must be a mapping of key: weight"))
    weights = {}
    for key, value in node.items:
        weight = read_amount(value, f"points of '{key.text}'", limits)
        weights[str(parse_key(key.text) or key.text)] = (weight, key)
    return weights


def _default_entries(graph: Graph, output: Node, outside: str | None, where: Where) -> list[_Entry]:
    """Without ``ask``: the output's value and d(loss)/d(g) for every given g, the loss being
    the outside loss of ``upstream`` when there is one, else the output itself."""
    loss = outside or output.name
    keys = [output.name] + [f"d{loss}/d{n.name}" for n in graph.nodes if n.role is Role.GIVEN]
    return [_Entry(k, where) for k in keys]


def _entry(item: YNode, limits: Limits) -> _Entry:
    if isinstance(item, YScalar) and not item.is_null:
        return _Entry(item.text.strip(), where_in(item))
    if not isinstance(item, YMapping):
        raise BackpropError(node_problem(item, "an ask is a key such as 'dloss/dw', or a mapping "
                                               "with 'key' (and 'form', 'points', 'partial')"))
    unknown = [k for k in item.keys() if k not in ASK_FIELDS]
    if unknown:
        raise BackpropError(node_problem(item.key_node(unknown[0]), f"unknown ask field '{unknown[0]}'",
                                         "an ask has 'key', and optionally 'form', 'points', 'partial'"))
    key = item.get("key")
    if key is None:
        raise BackpropError(node_problem(item, "this ask has no 'key'"))
    entry = _Entry(read_text(key, "key").strip(), where_of(key))
    if item.get("form") is not None:
        text = read_text(item.get("form"), "form")
        if text not in {f.value for f in Form}:
            raise BackpropError(node_problem(item.get("form"), f"unknown form '{text}'",
                                             "form is 'value' or 'formula'"))
        entry.form = Form(text)
    if item.get("points") is not None:
        entry.points = read_amount(item.get("points"), "points", limits)
    if item.get("partial") is not None:
        entry.partial = read_bool(item.get("partial"), "partial")
    return entry


def _asked_both_ways(entries: list[_Entry]) -> set[str]:
    forms: dict[str, set[str]] = {}
    for e in entries:
        key = parse_key(e.text)
        if key is not None:
            forms.setdefault(str(key), set()).add(e.form)
    return {k for k, f in forms.items() if len(f) > 1}


def check_key(key: Key | None, text: str, graph: Graph, outside: str | None, training=None) -> str | None:
    """What is wrong with asking ``key`` of this graph, or None."""
    named = {n.name: n for n in graph.named()}
    if key is None:
        return f"'{text}' is not an answer key: write {KEY_FORMS}"
    if isinstance(key, TrainKey):
        if training is BROKEN_TRAINING:
            return None
        if training is None:
            return f"'{text}' is a value after {key.step} updates, but the exercise has no 'train'"
        if key.name not in named:
            return f"in '{text}', '{key.name}' is not a given or a step"
        if named[key.name].role is Role.GIVEN and key.name not in training.params:
            return f"in '{text}', '{key.name}' is not trained (params: {', '.join(training.params)})"
        if key.step > training.steps:
            return f"'{text}' is after {key.step} updates, but 'train' makes {training.steps}"
        return None
    if isinstance(key, ValueKey):
        return None if key.name in named else f"'{key.name}' is not a given or a step"
    if key.of != outside and (key.of not in named or named[key.of].role is not Role.STEP):
        extra = f" or the outside loss '{outside}'" if outside else ""
        return f"in '{text}', '{key.of}' is not a step{extra}"
    if key.wrt not in named:
        return f"in '{text}', '{key.wrt}' is not a given or a step"
    return None
