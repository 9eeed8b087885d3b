"""The chain-rule trace as plain data, phrased the way a student writes it.

A :class:`Trace` is built from a backward pass (:mod:`backprop_cli.autodiff.engine`)
and holds only strings, so every renderer (terminal, Markdown, JSON) shows the
same words.  Each backward entry goes through fixed stages, after the
interactive computational graph: the chain-rule sum over consumers, upstream
values with the symbolic local derivatives, the numbers, the result.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from backprop_cli.autodiff.engine import Backward
from backprop_cli.autodiff.graph import Node, Role
from backprop_cli.autodiff.tensor import Value, is_tensor, shape, shape_text
from backprop_cli.explain.chain import (SEED_NOTE, UPSTREAM_NOTE, BackwardEntry, ChainLine, Notation,
                                        part_expression, term_link, write_entry)
from backprop_cli.explain.fold import fold
from backprop_cli.explain.text import brief_result, decimal_or_none, number
from backprop_cli.explain.written import written_definition

__all__ = ["Trace", "ForwardRow", "BackwardEntry", "Notation", "number", "make_trace", "value_trace",
           "forward_rows", "chain_lines", "written_definition"]


@dataclass(frozen=True)
class ForwardRow:
    name: str
    definition: str  # "given", or the op over its inputs: "y_hat - y"
    value: str  # exact when short, else "≈ decimal"
    decimal: str | None  # when the value is not an integer
    step: str | None  # the step an intermediate belongs to
    shape: str | None = None  # "3x1" for a tensor


@dataclass
class Trace:
    of: str  # what is differentiated
    forward: list[ForwardRow] = field(default_factory=list)
    backward: list[BackwardEntry] = field(default_factory=list)
    independent: list[str] = field(default_factory=list)  # givens the target does not depend on
    note: str | None = None  # said before the backward pass (how entries are numbered)
    updates: list[BackwardEntry] = field(default_factory=list)  # training: each update as a chain

    def independent_lines(self) -> list[str]:
        return [f"∂{self.of}/∂{n} = 0: {self.of} does not depend on {n}" for n in self.independent]

    def as_dict(self) -> dict:
        return {
            "of": self.of,
            "forward": [vars(r) for r in self.forward],
            "backward": [{**vars(e), "stages": list(e.stages)} for e in self.backward],
            "independent": self.independent,
            "note": self.note,
            "updates": [{**vars(e), "stages": list(e.stages)} for e in self.updates],
        }


def forward_rows(nodes: list[Node], values: dict[Node, Value]) -> list[ForwardRow]:
    rows = []
    for node in nodes:
        if node.role is Role.CONST:
            continue
        value = values[node]
        rows.append(ForwardRow(node.name, node.definition(), number(value), decimal_or_none(value),
                               node.step if node.role is Role.PART else None,
                               shape_text(shape(value)) if is_tensor(value) else None))
    return rows


def chain_lines(run: Backward, nodes: list[Node] | None = None) -> list[ChainLine]:
    """One line per node on the way back, in reverse order; ``nodes`` limits it to a slice."""
    keep = None if nodes is None else set(nodes)
    out = []
    for line in run.lines:
        node = line.node
        if keep is not None and node not in keep:
            continue
        seed = None if line.terms else (UPSTREAM_NOTE if run.outside else SEED_NOTE)
        expression, known = part_expression(node, run.values.__getitem__)
        out.append(ChainLine(node, node.name, line.value,
                             tuple(term_link(t, run.values) for t in line.terms), seed, expression, known))
    return out


def backward_entries(run: Backward, nodes: list[Node] | None = None,
                     notation: Notation = Notation.FULL, folded: bool = False) -> list[BackwardEntry]:
    """The written lines of the backward pass (or of the slice through ``nodes``)."""
    lines = chain_lines(run, nodes)
    if folded:
        lines = fold(lines)
    return [write_entry(line, run.of, run.values, notation) for line in lines]


def make_trace(run: Backward, wrt: Node | None = None) -> Trace:
    """The whole trace of one backward pass, or the slice that leads to ``wrt``."""
    graph = run.graph
    trace = Trace(run.of)
    if wrt is None:
        trace.forward = forward_rows(graph.nodes, run.values)
        trace.backward = backward_entries(run)
        reached = {line.node for line in run.lines}
        trace.independent = [n.name for n in graph.nodes if n.role is Role.GIVEN and n not in reached]
    else:
        path = graph.between(run.target, wrt)
        trace.forward = forward_rows(graph.ancestors(run.target), run.values)
        trace.backward = backward_entries(run, path)
        if not path:
            trace.independent = [wrt.name]
    return trace


def value_trace(node: Node, values: dict[Node, sp.Expr], graph) -> Trace:
    """The forward rows that lead to one step's value (for a wrong value answer)."""
    return Trace(node.name, forward=forward_rows(graph.ancestors(node), values))


def step_rows(nodes: list[Node], values: dict[Node, Value]) -> list[ForwardRow]:
    """One row per step (not per part), as written, with its value in the brief notation."""
    return [ForwardRow(n.name, written_definition(n), brief_result(values[n]), None, None,
                       shape_text(shape(values[n])) if is_tensor(values[n]) else None)
            for n in nodes if n.role is Role.STEP]
