"""An exercise file, read and checked as a whole.

Loading collects every problem it can find (with file, line and column)
before giving up, so that ``validate`` reports them all at once.  The result
is an :class:`Exercise`: typed fields, the graph, and the forward values,
which are computed here so that a ``log(0)`` is an exercise error found by
``validate`` rather than a surprise in ``check``.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import re
from pathlib import Path

import sympy as sp

from backprop_cli.autodiff.graph import Graph, Node, Role, StepSource
from backprop_cli.autodiff.training import OPTIMIZERS, Training
from backprop_cli.exercise.asks import BROKEN_TRAINING, answer_label, read_asks
from backprop_cli.exercise.build import Collector, assemble
from backprop_cli.exercise.model import Exercise, Given, Tolerance, Upstream, Visibility
from backprop_cli.exercise.reading import (constant, locator, parse_scalar, read_bool, read_text, read_value,
                                           read_amount, refuse_long, scalar_of, where_of)
from backprop_cli.source.files import read_file
from backprop_cli.source.errors import BackpropError, Problem
from backprop_cli.source.limits import DEFAULT, Limits
from backprop_cli.source.yamlsrc import (SYNTAX_ERROR, YMapping, YNode, YScalar, YSequence, is_missing, load_file,
                                         load_text, node_problem)

FORMAT_VERSION = 1
TOP_KEYS = ("backprop", "id", "title", "prompt", "given", "steps", "output", "ask", "answers",
            "upstream", "points", "tolerance", "hide_expected", "train", "carry_forward", "partial",
            "tests", "where", "variant", "visibility")
TRAIN_FIELDS = ("rate", "steps", "params", "optimizer", "momentum", "beta1", "beta2", "eps")
TRAIN_RANGES = {"rate": "a positive number", "eps": "a positive number",
                "momentum": "from 0 up to (not including) 1", "beta1": "from 0 up to (not including) 1",
                "beta2": "from 0 up to (not including) 1"}
_ID = re.compile(r"[a-z0-9_-]+")
_IDENT = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


def looks_like_answers(root: YMapping) -> bool:
    """No 'backprop:' line, and every key an answer key (or 'exercise: ID')."""
    keys = root.keys()
    return (bool(keys) and "backprop" not in keys
            and all(k == "exercise" or answer_label(k) is not None for k in keys)
            and not any(k in TOP_KEYS for k in keys if k != "exercise"))


def load_exercise(path: str | os.PathLike, limits: Limits = DEFAULT,
                  display_name: str | None = None, salt: str | None = None) -> Exercise:
    """Read and check one exercise file; with ``salt``, it must be a student's unedited variant."""
    root = load_file(path, limits, display_name)
    return exercise_from_tree(root, display_name or str(path), Path(path).stem, limits, salt)


def exercise_from_tree(root: YNode, file: str, stem: str, limits: Limits = DEFAULT,
                       salt: str | None = None) -> Exercise:
    """The exercise a YAML tree describes.  A template (givens that are generators) has no
    values of its own: draw a variant first (``exercise.variants.draw``)."""
    if salt is None and not _may_vary(root):  # a plain exercise: nothing of a template to read
        return _Reader(root, file, stem, limits).read()
    from backprop_cli.exercise.variants import check_variant, read_template, template_problem

    template = read_template(root, limits)
    if template is not None and template.makes_variants:
        raise BackpropError(template_problem(template))
    exercise = _Reader(root, file, stem, limits).read()
    if salt is not None:
        check_variant(template, exercise, salt, builder(file, stem, limits), limits)
    return exercise


def _may_vary(root: YNode) -> bool:
    """Whether the file may be a template or a student's variant: it has a 'variant' record,
    'where' constraints, or a given written as a mapping (a generator, or a mistake to report)."""
    if not isinstance(root, YMapping):
        return False
    given = root.get("given")
    return (root.get("variant") is not None or root.get("where") is not None
            or (isinstance(given, YMapping) and any(isinstance(v, YMapping) for _, v in given.items)))


def builder(file: str, stem: str, limits: Limits = DEFAULT):
    """Reads a concrete tree (a drawn variant) as the exercise in ``file``."""
    return lambda root: _Reader(root, file, stem, limits).read()


def exercise_id(node: YNode | None, stem: str) -> str:
    """The ``id`` written, or one made from the file's name."""
    if node is None:
        return re.sub(r"[^a-z0-9_-]+", "-", stem.lower()).strip("-") or "exercise"
    text = read_text(node, "id")
    if not _ID.fullmatch(text):
        raise BackpropError(node_problem(node, f"id '{text}' may only use a-z, 0-9, '_' and '-'"))
    return text


_ANSWERS_BLOCK = re.compile(r"^answers[ \t]*:.*(?:\n(?:[ \t#].*|[ \t]*))*", re.MULTILINE)
_LIST_ITEM = re.compile(r":\s+-\s")


def exercise_part(path: str | os.PathLike, error: BackpropError, limits: Limits = DEFAULT,
                  salt: str | None = None) -> tuple[Exercise, BackpropError] | None:
    """When a file's YAML is broken inside its ``answers:`` block only, the exercise read
    without that block (its asks and their points still count) and the error with a hint
    for the student; None when the exercise part itself cannot be read."""
    where = error.problems[0].location if error.problems else None
    if where is None:  # not a place in the text (the file is missing, a pipe, too large, ...)
        return None
    try:  # regular files only, read once more: a pipe or device would block here
        text = read_file(path, str(path), limits.max_file_bytes + 1).decode("utf-8")
    except (BackpropError, OSError, ValueError):
        return None
    block = _ANSWERS_BLOCK.search(text)
    if block is None:
        return None
    first = text.count("\n", 0, block.start()) + 1
    last = first + block.group().count("\n")
    if not first <= where.line <= last:
        return None
    blank = text[:block.start()] + "\n" * block.group().count("\n") + text[block.end():]
    try:
        exercise = exercise_from_tree(load_text(blank, str(path), limits), str(path), Path(path).stem,
                                      limits, salt)
    except BackpropError:
        return None
    return exercise, BackpropError([answer_hint(p) for p in error.problems])


def answer_hint(problem: Problem) -> Problem:
    """A YAML error in an answer, with what to change: '- 2' starts a list; other answers
    that YAML cannot read are written in quotes."""
    if problem.hint is not None or problem.location is None or not problem.message.startswith(SYNTAX_ERROR):
        return problem
    if problem.snippet is not None and _LIST_ITEM.search(problem.snippet):
        hint = ("'- ' starts a YAML list: write the number without the space (-2), or put the answer "
                "in quotes (\"- 2\")")
    else:
        hint = "put the answer in quotes (key: \"...\") so that YAML reads it as it is"
    return dataclasses.replace(problem, hint=hint)


class _Reader:
    """Reads one exercise, collecting problems section by section."""

    def __init__(self, root: YNode, file: str, stem: str, limits: Limits) -> None:
        self.root, self.file, self.stem, self.limits = root, file, stem, limits
        self.found = Collector()
        self.problems = self.found.problems
        self.attempt = self.found.attempt
        self.problems_in_steps = False  # a step that did not parse: its users would fail too

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
        given = self.attempt(self.read_given, root.get("given"), default=Given())
        steps = self.attempt(self.read_steps, root.get("steps"), default=None)
        upstream = self.attempt(self.read_upstream, root.get("upstream"), given)
        tolerance = self.attempt(self.read_tolerance, root.get("tolerance"), default=Tolerance())
        hide = self.attempt(self.optional, root.get("hide_expected"), read_bool, "hide_expected", False,
                            default=False)
        carry = self.attempt(self.read_carry_forward, root.get("carry_forward"), default=sp.Integer(0))
        visibility = self.attempt(self.read_visibility, root.get("visibility"), default=Visibility.VISIBLE)
        training = self.attempt(self.read_train, root.get("train"), given)
        ident = self.attempt(self.read_id, root.get("id"), default=self.stem)
        title = self.attempt(self.optional, root.get("title"), read_text, "title", None)
        prompt = self.attempt(self.optional, root.get("prompt"), read_text, "prompt", None)
        answers = root.get("answers")
        if not (is_missing(answers) or isinstance(answers, YMapping)):
            self.problems.append(node_problem(answers, "'answers' must be a mapping of key: answer"))
        # A `train` block with problems of its own: its keys are not also called missing.
        asked_training = BROKEN_TRAINING if training is None and root.get("train") is not None else training
        outside = upstream.name if upstream else None
        graph, output, values, asks = assemble(
            self.found, given, None if self.problems_in_steps else steps, upstream,
            lambda graph: self.read_output(root.get("output"), graph),
            lambda graph, output: read_asks(root, graph, output, outside, asked_training, self.limits),
            self.limits)
        self.found.raise_if_any()
        return Exercise(self.file, ident, title, prompt, given.values, graph, output, values, asks,
                        upstream, answers if isinstance(answers, YMapping) else None, tolerance,
                        hide, carry, training, visibility)

    def check_version(self, root: YMapping) -> None:
        node = root.get("backprop")
        if node is None and looks_like_answers(root):
            self.problems.append(node_problem(
                root, "this is an answers file (key: answer), not an exercise",
                "give it with --answers, after the exercise: backprop check EXERCISE --answers FILE"))
            raise BackpropError(self.problems)
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
        return exercise_id(node, self.stem)

    def mapping(self, node: YNode | None, what: str) -> YMapping | None:
        if is_missing(node):
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

    def read_given(self, node: YNode | None) -> "Given":
        given = Given()
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
            steps.append(StepSource(key.text, tree, locator(scalar), where_of(key)))
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

    def read_upstream(self, node: YNode | None, given: "Given") -> Upstream | None:
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
            parts[key.text] = read_amount(value, "a tolerance", self.limits)
        return Tolerance(**parts)

    def read_train(self, node: YNode | None, given: "Given") -> Training | None:
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
                if isinstance(value, YSequence):
                    refuse_long(value, "params", self.limits)
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

    def read_visibility(self, node: YNode | None) -> Visibility:
        if node is None:
            return Visibility.VISIBLE
        found = Visibility.read(read_text(node, "visibility"))
        if found is None:
            raise BackpropError(node_problem(node, "unknown visibility",
                                             "visibility is visible, hidden, after-due-date or after-published"))
        return found

    def read_carry_forward(self, node: YNode | None) -> sp.Expr:
        if node is None:
            return sp.Integer(0)
        share = constant(node, "carry_forward", self.limits)
        if not (0 <= share <= 1):
            raise BackpropError(node_problem(node, "carry_forward is a share of the points, from 0 to 1"))
        return share
