"""An exercise file, read and checked as a whole.

Loading collects every problem it can find (with file, line and column)
before giving up, so that ``validate`` reports them all at once.  The result
is an :class:`Exercise`: typed fields, the graph, and the forward values,
which are computed here so that a ``log(0)`` is an exercise error found by
``validate`` rather than a surprise in ``check``.
"""

from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import sympy as sp

from backprop_cli.asks import BROKEN_TRAINING, Ask, read_asks
from backprop_cli.engine import Values, forward
from backprop_cli.errors import BackpropError, Location, Problem, Where
from backprop_cli.graph import Graph, Node, Role, StepSource, build_graph
from backprop_cli.keys import GradKey
from backprop_cli.limits import DEFAULT, Limits
from backprop_cli.reading import (constant, parse_scalar, read_bool, read_text, read_value, scalar_of,
                                  where_in, where_of)
from backprop_cli.tensor import Value, as_scalar, shape, shape_text
from backprop_cli.training import OPTIMIZERS, Training
from backprop_cli.yamlsrc import Source, YMapping, YNode, YScalar, YSequence, load_file, node_problem

FORMAT_VERSION = 1
TOP_KEYS = ("backprop", "id", "title", "prompt", "given", "steps", "output", "ask", "answers",
            "upstream", "points", "tolerance", "hide_expected", "train", "carry_forward", "partial")
TRAIN_FIELDS = ("rate", "steps", "params", "optimizer", "momentum", "beta1", "beta2", "eps")
TRAIN_RANGES = {"rate": "a positive number", "eps": "a positive number",
                "momentum": "from 0 up to (not including) 1", "beta1": "from 0 up to (not including) 1",
                "beta2": "from 0 up to (not including) 1"}
_ID = re.compile(r"[a-z0-9_-]+")
_IDENT = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Tolerance:
    rel: sp.Expr = sp.Rational(1, 1000)
    abs: sp.Expr = sp.Rational(1, 10**9)


@dataclass(frozen=True)
class Upstream:
    name: str  # the outside loss, e.g. L
    value: Value  # dL/d(output), of the output's shape
    where: Where


@dataclass
class Exercise:
    file: str
    id: str
    title: str | None
    prompt: str | None
    given: dict[str, Value]
    graph: Graph
    output: Node
    values: Values
    asks: list[Ask]
    upstream: Upstream | None = None
    answers: YMapping | None = None
    tolerance: Tolerance = field(default_factory=Tolerance)
    hide_expected: bool = False
    carry_forward: sp.Expr = sp.Integer(0)
    training: Training | None = None

    def node(self, name: str) -> Node:
        return self.graph.by_name[name]


def load_exercise(path: str | os.PathLike, limits: Limits = DEFAULT,
                  display_name: str | None = None) -> Exercise:
    root = load_file(path, limits, display_name)
    name = display_name or str(path)
    return _Reader(root, name, Path(path).stem, limits).read()


def load_expression(expression: str, given: list[str], upstream: list[str],
                    limits: Limits = DEFAULT) -> Exercise:
    """A one-step exercise from command-line text (``explain --expr``).

    Each argument is its own source, so an error points into what the user
    typed (``--given:1:3``), not into a document they never saw.
    """
    def scalar(option: str, text: str, start: int, end: int) -> YScalar:
        source = Source(option, text)
        return YScalar(source.location(start), source, text[start:end], "plain", start, end)

    def pairs(option: str, items: list[str]) -> YMapping:
        result = YMapping(Location(option, 1, 1), Source(option, ""), [])
        for item in items:
            key = item.partition("=")[0]
            result.items.append((scalar(option, item, 0, len(key.rstrip())),
                                 scalar(option, item, len(key) + 1, len(item))))
        return result

    name, start = "f", 0
    if m := re.match(r"\s*([A-Za-z][A-Za-z0-9_]*)\s*=(?!=)", expression):
        name, start = m[1], m.end()
    start += len(expression[start:]) - len(expression[start:].lstrip())
    def mapping(option: str, items) -> YMapping:
        return YMapping(Location(option, 1, 1), Source(option, expression), items)

    step = (scalar("--expr", name, 0, len(name)), scalar("--expr", expression, start, len(expression)))
    root = mapping("--expr", [
        (scalar("--expr", "backprop", 0, 8), scalar("--expr", "1", 0, 1)),
        (scalar("--expr", "title", 0, 5), scalar("--expr", expression, 0, len(expression))),
        (scalar("--given", "given", 0, 5), pairs("--given", given)),
        (scalar("--expr", "steps", 0, 5), mapping("--expr", [step])),
    ])
    if upstream:
        root.items.append((scalar("--upstream", "upstream", 0, 8), pairs("--upstream", upstream)))
    return _Reader(root, "--expr", "expr", limits).read()


class _Reader:
    """Reads one exercise, collecting problems section by section."""

    def __init__(self, root: YNode, file: str, stem: str, limits: Limits) -> None:
        self.root, self.file, self.stem, self.limits = root, file, stem, limits
        self.problems: list[Problem] = []
        self.problems_in_steps = False  # a step that did not parse: its users would fail too

    def attempt(self, fn, *args, default=None):
        """Run one check; record its problems and carry on with ``default``."""
        try:
            return fn(*args)
        except BackpropError as err:
            self.problems.extend(err.problems)
            return default

    def read(self) -> Exercise:
        root = self.root
        if not isinstance(root, YMapping):
            raise BackpropError(node_problem(root, "an exercise file must be a YAML mapping "
                                                   "(key: value lines), starting with 'backprop: 1'"))
        self.check_version(root)
        for key in root.keys():
            if key not in TOP_KEYS:
                close = difflib.get_close_matches(key, TOP_KEYS, n=1)
                hint = f"did you mean '{close[0]}'?" if close else "known keys: " + ", ".join(TOP_KEYS)
                self.problems.append(node_problem(root.key_node(key), f"unknown key '{key}'", hint))
        given = self.attempt(self.read_given, root.get("given"), default=_Given())
        steps = self.attempt(self.read_steps, root.get("steps"), default=None)
        upstream = self.attempt(self.read_upstream, root.get("upstream"), given)
        tolerance = self.attempt(self.read_tolerance, root.get("tolerance"), default=Tolerance())
        hide = self.attempt(self.optional, root.get("hide_expected"), read_bool, "hide_expected", False,
                            default=False)
        carry = self.attempt(self.read_carry_forward, root.get("carry_forward"), default=sp.Integer(0))
        training = self.attempt(self.read_train, root.get("train"), given)
        ident = self.attempt(self.read_id, root.get("id"), default=self.stem)
        title = self.attempt(self.optional, root.get("title"), read_text, "title", None)
        prompt = self.attempt(self.optional, root.get("prompt"), read_text, "prompt", None)
        answers = root.get("answers")
        if answers is not None and not (isinstance(answers, YMapping)
                                        or (isinstance(answers, YScalar) and answers.is_null)):
            self.problems.append(node_problem(answers, "'answers' must be a mapping of key: answer"))
        graph = output = values = None
        if steps is not None and given is not None and not self.problems_in_steps:
            graph = self.attempt(build_graph, list(given.items_where()), steps, self.limits)
        if graph is not None:
            output = self.attempt(self.read_output, root.get("output"), graph)
            if upstream is not None and upstream.name in graph.by_name:
                self.problems.append(upstream.where.problem(
                    f"the outside loss '{upstream.name}' has the name of a given or step"))
        asks = []
        if graph is not None and output is not None:
            outside = upstream.name if upstream else None
            if training is None and root.get("train") is not None:
                training = BROKEN_TRAINING  # its problem is reported; do not also call it missing
            asks = self.attempt(read_asks, root, graph, output, outside, training, self.limits, default=[])
        if graph is not None and not self.problems:
            values = self.attempt(forward, graph, given.values, self.limits)
            if values is not None:
                self.check_shapes(graph, values, output, upstream, asks)
        if self.problems:
            raise BackpropError(self.problems)
        return Exercise(self.file, ident, title, prompt, given.values, graph, output, values, asks,
                        upstream, answers if isinstance(answers, YMapping) else None, tolerance,
                        hide, carry, training)

    def check_shapes(self, graph: Graph, values, output: Node, upstream: Upstream | None,
                     asks: list[Ask]) -> None:
        """Gradients are of scalars; an upstream gradient has the output's shape."""
        out_shape = shape(values[output])
        if upstream is not None and shape(upstream.value) != out_shape:
            self.problems.append(upstream.where.problem(
                f"upstream '{upstream.name}' is {shape_text(shape(upstream.value))}, but the output "
                f"'{output.name}' is {shape_text(out_shape)}: they must have the same shape"))
        for ask in asks:
            key = ask.key
            if isinstance(key, GradKey) and not (upstream and key.of == upstream.name):
                of = values[graph.by_name[key.of]]
                if as_scalar(of) is None:
                    self.problems.append(ask.where.problem(
                        f"'{key}' asks for the gradient of '{key.of}', which is "
                        f"{shape_text(shape(of))}: gradients are of a single number",
                        "reduce it first (sum(...) or mean(...)), or give an 'upstream' gradient"))

    def check_version(self, root: YMapping) -> None:
        node = root.get("backprop")
        if node is None:
            self.problems.append(node_problem(root, "missing 'backprop: 1' (the format version)",
                                              "put 'backprop: 1' as the first line"))
        elif not (isinstance(node, YScalar) and node.text.strip() == str(FORMAT_VERSION)):
            self.problems.append(node_problem(
                node, f"unsupported format version '{getattr(node, 'text', '...')}'",
                f"this version of backprop reads 'backprop: {FORMAT_VERSION}'"))

    def optional(self, node, reader, what, default):
        return default if node is None else reader(node, what)

    def read_id(self, node: YNode | None) -> str:
        if node is None:
            return re.sub(r"[^a-z0-9_-]+", "-", self.stem.lower()).strip("-") or "exercise"
        text = read_text(node, "id")
        if not _ID.fullmatch(text):
            raise BackpropError(node_problem(node, f"id '{text}' may only use a-z, 0-9, '_' and '-'"))
        return text

    def mapping(self, node: YNode | None, what: str) -> YMapping | None:
        if node is None or (isinstance(node, YScalar) and node.is_null):
            return None
        if not isinstance(node, YMapping):
            raise BackpropError(node_problem(node, f"'{what}' must be a mapping of name: value"))
        return node

    def names(self, mapping: YMapping, what: str) -> list[tuple[YScalar, YNode]]:
        good = []
        for key, value in mapping.items:
            if _IDENT.fullmatch(key.text):
                good.append((key, value))
            else:
                self.problems.append(node_problem(
                    key, f"'{key.text}' is not a valid {what} name",
                    "names start with a letter and use letters, digits and '_'"))
        return good

    def read_given(self, node: YNode | None) -> "_Given":
        given = _Given()
        mapping = self.mapping(node, "given")
        for key, value in self.names(mapping, "given") if mapping else []:
            if key.text in given.values:  # YAML rejects duplicate keys; --given may repeat one
                self.problems.append(node_problem(key, f"given '{key.text}' is defined twice"))
                continue
            number = self.attempt(read_value, value, f"given '{key.text}'", self.limits)
            given.add(key.text, number if number is not None else sp.Integer(0), where_of(key))
        return given

    def read_steps(self, node: YNode | None) -> list[StepSource]:
        mapping = self.mapping(node, "steps")
        if mapping is None:
            where = node if node is not None else self.root
            raise BackpropError(node_problem(where, "the exercise needs 'steps': name: expression"))
        steps = []
        for key, value in self.names(mapping, "step"):
            try:
                scalar = scalar_of(value, f"step '{key.text}'")
                if scalar.is_null:
                    raise BackpropError(node_problem(value, f"step '{key.text}' has no expression"))
                tree = parse_scalar(scalar, self.limits)
            except BackpropError as err:
                self.problems.extend(err.problems)
                self.problems_in_steps = True
                continue
            steps.append(StepSource(key.text, tree, _locator(scalar), where_of(key)))
        if not steps and not self.problems_in_steps:
            raise BackpropError(node_problem(mapping, "'steps' is empty"))
        return steps

    def read_output(self, node: YNode | None, graph: Graph) -> Node:
        steps = [n for n in graph.nodes if n.role is Role.STEP]
        if node is None:
            return steps[-1]
        name = read_text(node, "output")
        found = graph.by_name.get(name)
        if found is None or found.role is not Role.STEP:
            raise BackpropError(node_problem(node, f"output '{name}' is not a step",
                                             "steps: " + ", ".join(n.name for n in steps)))
        return found

    def read_upstream(self, node: YNode | None, given: "_Given") -> Upstream | None:
        mapping = self.mapping(node, "upstream")
        if mapping is None:
            return None
        pairs = self.names(mapping, "outside loss")
        if len(mapping.items) != 1:
            raise BackpropError(node_problem(mapping, "'upstream' names exactly one outside loss, "
                                                      "e.g. 'upstream: {L: 5}'"))
        if not pairs:
            return None
        key, value = pairs[0]
        return Upstream(key.text, read_value(value, f"upstream '{key.text}'", self.limits), where_of(key))

    def read_tolerance(self, node: YNode | None) -> Tolerance:
        mapping = self.mapping(node, "tolerance")
        if mapping is None:
            return Tolerance()
        parts = {}
        for key, value in mapping.items:
            if key.text not in ("rel", "abs"):
                raise BackpropError(node_problem(key, f"unknown tolerance '{key.text}'",
                                                 "tolerance has 'rel' and 'abs'"))
            number = constant(value, f"tolerance {key.text}", self.limits)
            if number < 0:
                raise BackpropError(node_problem(value, "a tolerance cannot be negative"))
            parts[key.text] = number
        return Tolerance(**parts)

    def read_train(self, node: YNode | None, given: "_Given") -> Training | None:
        mapping = self.mapping(node, "train")
        if mapping is None:
            return None
        fields = {}
        for key, value in mapping.items:
            name = key.text
            if name not in TRAIN_FIELDS:
                raise BackpropError(node_problem(key, f"unknown train field '{name}'",
                                                 "train has " + ", ".join(TRAIN_FIELDS)))
            if name == "params":
                items = value.items if isinstance(value, YSequence) else [value]
                params = tuple(read_text(i, "a param").strip() for i in items)
                for item, param in zip(items, params):
                    if param not in given.values:
                        raise BackpropError(node_problem(item, f"param '{param}' is not a given"))
                fields[name] = params
            elif name == "optimizer":
                fields[name] = read_text(value, "optimizer").strip()
                if fields[name] not in OPTIMIZERS:
                    raise BackpropError(node_problem(value, f"unknown optimizer '{fields[name]}'",
                                                     "optimizer is " + ", ".join(OPTIMIZERS)))
            elif name == "steps":
                steps = constant(value, "steps", self.limits)
                if not (steps.is_Integer and 1 <= steps <= self.limits.max_train_steps):
                    raise BackpropError(node_problem(
                        value, f"steps is a whole number from 1 to {self.limits.max_train_steps}"))
                fields[name] = int(steps)
            else:
                number = constant(value, name, self.limits)
                low_open = name in ("rate", "eps")
                if number < 0 or (low_open and number == 0) or (name != "rate" and name != "eps"
                                                                  and number >= 1):
                    raise BackpropError(node_problem(value, f"{name} is out of range", TRAIN_RANGES[name]))
                fields[name] = number
        missing = [f for f in ("rate", "steps", "params") if f not in fields]
        if missing:
            raise BackpropError(node_problem(mapping, "train needs " + ", ".join(missing)))
        return Training(**fields)

    def read_carry_forward(self, node: YNode | None) -> sp.Expr:
        if node is None:
            return sp.Integer(0)
        share = constant(node, "carry_forward", self.limits)
        if not (0 <= share <= 1):
            raise BackpropError(node_problem(node, "carry_forward is a share of the points, from 0 to 1"))
        return share

class _Given:
    """Given values with where each was written."""

    def __init__(self) -> None:
        self.values: dict[str, sp.Expr] = {}
        self.wheres: dict[str, Where] = {}

    def add(self, name: str, value: sp.Expr, where: Where) -> None:
        self.values[name] = value
        self.wheres[name] = where

    def items_where(self):
        return self.wheres.items()


def _locator(scalar: YScalar):
    return lambda start, end: where_in(scalar, start, end)
