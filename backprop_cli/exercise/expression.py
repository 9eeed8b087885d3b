"""A one-step exercise from command-line text (``explain --expr``), built as objects.

``--expr "f = x*w" --given x=2 --given w=3 --upstream L=5`` gives the same
parts a file would, each argument its own source, so an error points into
what the user typed (``--given:1:3``), not into a document they never saw.
"""

from __future__ import annotations

import re

from backprop_cli.autodiff.graph import StepSource
from backprop_cli.exercise.asks import read_asks
from backprop_cli.exercise.build import Collector, assemble
from backprop_cli.exercise.model import Exercise, Given, Upstream
from backprop_cli.exercise.reading import Locate, number_from_text, parse_located, read_value
from backprop_cli.source.errors import BackpropError, Problem, Where
from backprop_cli.source.limits import DEFAULT, Limits
from backprop_cli.source.yamlsrc import Source

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_STEP = re.compile(r"\s*([A-Za-z][A-Za-z0-9_]*)\s*=(?!=)")


def _locate(option: str, text: str, offset: int = 0) -> Locate:
    """Where characters of ``text[offset:]`` stand in the argument of ``option``."""
    source = Source(option, text)

    def where(start: int, end: int) -> Where:
        location = source.location(offset + start)
        return Where(location, source.line(location.line), max(1, end - start))
    return where


def _pairs(option: str, items: list[str], what: str, found: Collector, limits: Limits):
    """(name, value, where of the name) for each NAME=VALUE argument."""
    for item in items:
        raw = item.partition("=")[0]
        name, at = raw.strip(), len(raw) - len(raw.lstrip())
        locate = _locate(option, item)
        if not _NAME.fullmatch(name):
            found.problems.append(locate(at, at + max(1, len(name))).problem(
                f"'{name}' is not a valid {what} name",
                "names start with a letter and use letters, digits and '_'"))
            continue
        start = len(raw) + 1
        number = found.attempt(number_from_text, item[start:], f"{what} '{name}'",
                               _locate(option, item, start), limits)
        if number is not None:
            yield name, number.value, locate(at, at + len(name))


def load_expression(expression: str, given: list[str], upstream: list[str],
                    limits: Limits = DEFAULT) -> Exercise:
    found = Collector()
    name, start = "f", 0
    if m := _STEP.match(expression):
        name, start = m[1], m.end()
    start += len(expression[start:]) - len(expression[start:].lstrip())
    locate_step = _locate("--expr", expression, start)
    givens = Given()
    for given_name, value, where in _pairs("--given", given, "given", found, limits):
        if given_name in givens.values:
            found.problems.append(where.problem(f"given '{given_name}' is defined twice"))
        else:
            givens.add(given_name, value, where)
    outside = None
    ups = list(_pairs("--upstream", upstream, "outside loss", found, limits))
    if len(upstream) > 1:
        found.problems.append(Problem("--upstream names exactly one outside loss, e.g. --upstream L=5"))
    elif ups:
        outside = Upstream(*ups[0])
    steps = None
    tree = found.attempt(parse_located, expression[start:], locate_step, limits)
    if tree is not None:
        steps = [StepSource(name, tree, locate_step, _locate("--expr", expression)(0, len(name)))]
    whole = locate_step(0, len(expression) - start)
    graph, output, values, asks = assemble(
        found, givens, steps, outside, lambda graph: graph.by_name[name],
        lambda graph, output: read_asks(None, graph, output, outside.name if outside else None,
                                        None, limits, whole), limits)
    found.raise_if_any()
    return Exercise("--expr", "expr", expression, None, givens.values, graph, output, values, asks,
                    outside)
