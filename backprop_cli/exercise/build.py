"""Putting an exercise together from its parts, wherever they were written.

A file's sections (``exercise.load``) and a command line's ``--expr``,
``--given`` and ``--upstream`` (``exercise.expression``) are read into the
same parts; here they become one graph, its forward values and the asks,
with every problem collected before giving up.
"""

from __future__ import annotations

from typing import Callable

from backprop_cli.autodiff.engine import forward
from backprop_cli.autodiff.graph import Graph, Node, StepSource, build_graph
from backprop_cli.autodiff.tensor import as_scalar, shape, shape_text
from backprop_cli.exercise.asks import Ask
from backprop_cli.exercise.keys import GradKey
from backprop_cli.exercise.model import Given, Upstream
from backprop_cli.source.errors import BackpropError, Problem
from backprop_cli.source.limits import Limits


class AtTheseValues(BackpropError):
    """Problems that come from the given values (a ``log(0)``, shapes that do not fit), not
    from the exercise's form: another choice of values (a variant) may not have them."""


class Collector:
    """Problems found so far; each check records its own and the reading carries on."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.reached_values = False  # the form was sound, and the forward pass was tried

    def attempt(self, fn, *args, default=None):
        """Run one check; record its problems and carry on with ``default``."""
        try:
            return fn(*args)
        except BackpropError as err:
            self.problems.extend(err.problems)
            return default

    def raise_if_any(self) -> None:
        if self.problems:
            raise (AtTheseValues if self.reached_values else BackpropError)(self.problems)


def assemble(found: Collector, given: Given, steps: list[StepSource] | None, upstream: Upstream | None,
             output_of: Callable[[Graph], Node], asks_of: Callable[[Graph, Node], list[Ask]],
             limits: Limits):
    """The graph, output node, forward values and asks; None for any that could not be made."""
    graph = output = values = None
    asks: list[Ask] = []
    if steps is not None:
        graph = found.attempt(build_graph, list(given.items_where()), steps, limits)
    if graph is not None:
        output = found.attempt(output_of, graph)
        if upstream is not None and upstream.name in graph.by_name:
            found.problems.append(upstream.where.problem(
                f"the outside loss '{upstream.name}' has the name of a given or step"))
    if graph is not None and output is not None:
        asks = found.attempt(asks_of, graph, output, default=[])
    if graph is not None and not found.problems:
        found.reached_values = True
        values = found.attempt(forward, graph, given.values, limits)
        if values is not None:
            found.problems += shape_problems(graph, values, output, upstream, asks)
    return graph, output, values, asks


def shape_problems(graph: Graph, values, output: Node, upstream: Upstream | None,
                   asks: list[Ask]) -> list[Problem]:
    """Gradients are of scalars; an upstream gradient has the output's shape."""
    problems = []
    out_shape = shape(values[output])
    if upstream is not None and shape(upstream.value) != out_shape:
        problems.append(upstream.where.problem(
            f"upstream '{upstream.name}' is {shape_text(shape(upstream.value))}, but the output "
            f"'{output.name}' is {shape_text(out_shape)}: they must have the same shape"))
    for ask in asks:
        key = ask.key
        if isinstance(key, GradKey) and not (upstream and key.of == upstream.name):
            of = values[graph.by_name[key.of]]
            if as_scalar(of) is None:
                problems.append(ask.where.problem(
                    f"'{key}' asks for the gradient of '{key.of}', which is "
                    f"{shape_text(shape(of))}: gradients are of a single number",
                    "reduce it first (sum(...) or mean(...)), or give an 'upstream' gradient"))
    return problems
