"""One entry of a tensor gradient, spelled out as a chain of scalar derivatives.

``explain --wrt W2 --entry 1,2`` writes dL/dW2[1,2] the way the course
material does (dL/dw_ij = dL/dz_i · x_j ...), with numbers.  It reads the
gradients of the tensor backward pass (it computes none of its own) and asks
each op for single entries of its Jacobian (``entry_partials``), following
only the entries that the chosen one reaches.  Entries are numbered from 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from backprop_cli.autodiff.engine import Backward
from backprop_cli.autodiff.graph import Node, Role
from backprop_cli.autodiff.tensor import (Value, exact_arithmetic, fold, is_tensor, shape, shape_text,
                                          source_index)
from backprop_cli.explain.chain import (SEED_NOTE, UPSTREAM_NOTE, ChainLine, Link, part_expression,
                                        write_entry)
from backprop_cli.explain.fold import fold as fold_parts  # pass-through parts, as check shows them
from backprop_cli.explain.trace import Trace, forward_rows
from backprop_cli.source.errors import BackpropError

NUMBERING = "Entries are numbered from 1: W[i,j] is row i, column j; a column vector's v[i] is row i."


def entry_name(name: str, index: tuple, value: Value) -> str:
    if not is_tensor(value) or value.shape == (1, 1):
        return name
    if value.shape[1] == 1:
        return f"{name}[{index[0] + 1}]"
    return f"{name}[{index[0] + 1},{index[1] + 1}]"


def parse_entry(text: str, value: Value, name: str) -> tuple:
    """'1,2' (or '2' for a column vector) -> the 0-based index, checked against the shape."""
    if not is_tensor(value):
        raise BackpropError(f"--entry: '{name}' is a scalar, so it has no entries; leave out --entry")
    parts = [p.strip() for p in text.split(",")]
    if len(parts) == 1 and value.shape[1] == 1:
        parts.append("1")
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        raise BackpropError(f"--entry {text}: write ROW,COLUMN counted from 1, e.g. --entry 1,2")
    row, col = int(parts[0]), int(parts[1])
    if not (1 <= row <= value.shape[0] and 1 <= col <= value.shape[1]):
        raise BackpropError(f"--entry {text}: '{name}' is {shape_text(shape(value))}; rows and "
                            "columns are counted from 1")
    return row - 1, col - 1


@dataclass(frozen=True)
class _Edge:
    consumer: Node
    out_index: tuple
    local: sp.Expr
    local_symbolic: sp.Expr


def entry_lines(run: Backward, node: Node, index: tuple) -> list[ChainLine]:
    """The scalar chain of d(of)/d(node[index]): one line per entry it reaches, output first."""
    graph, values = run.graph, run.values
    above = set(graph.ancestors(run.target))
    symbols: dict[str, sp.Expr] = {}  # entry name -> its value, for the 'with' notes

    def entry_symbol(inp: Node, k: tuple) -> sp.Expr:
        value = values[inp]
        entry = value[k] if is_tensor(value) and k != () else value
        if inp.role is Role.CONST:
            return entry
        name = entry_name(inp.name, k, value)
        symbols[name] = entry
        return sp.Symbol(name)

    reached = [(node, index)]
    edges: dict[tuple, list[_Edge]] = {}
    for consumer in graph.nodes[node.index + 1: run.target.index + 1]:
        if consumer not in above or consumer.op is None:
            continue
        args = [values[i] for i in consumer.inputs]
        for slot, inp in enumerate(consumer.inputs):
            for n, e in [r for r in reached if r[0] is inp]:
                partials = consumer.op.entry_partials(
                    slot, e, args, values[consumer],
                    lambda i, k: entry_symbol(consumer.inputs[i], k),
                    lambda k: entry_symbol(consumer, k), **consumer.params)
                for k, local, local_symbolic in partials:
                    if local == 0:
                        continue
                    if (consumer, k) not in reached:
                        reached.append((consumer, k))
                    edges.setdefault((n, e), []).append(_Edge(consumer, k, local, local_symbolic))

    lines = []
    for n, e in sorted(reached, key=lambda r: (-r[0].index, r[1])):
        name = entry_name(n.name, e, values[n])
        links = tuple(Link(edge.consumer, entry_name(edge.consumer.name, edge.out_index, values[edge.consumer]),
                           _at(run.grad(edge.consumer), edge.out_index), edge.local_symbolic, edge.local,
                           _product(_at(run.grad(edge.consumer), edge.out_index), edge.local), symbols)
                      for edge in edges.get((n, e), []))
        seed = (UPSTREAM_NOTE if run.outside else SEED_NOTE) if n is run.target else None
        expression, known = None, {}
        if n.role is Role.PART:
            expression, known = part_expression(
                n, lambda i: _at(values[i], _input_index(e, values[i])),
                lambda i: entry_name("", _input_index(e, values[i]), values[i]))
        lines.append(ChainLine(n, name, _at(run.grad(n), e), links, seed, expression, known))
    return lines


def entry_trace(run: Backward, node: Node, index: tuple) -> Trace:
    trace = Trace(run.of, forward=forward_rows(run.graph.ancestors(run.target), run.values), note=NUMBERING)
    trace.backward = [write_entry(line, run.of) for line in fold_parts(entry_lines(run, node, index))]
    return trace


def _product(upstream: sp.Expr, local: sp.Expr) -> sp.Expr:
    with exact_arithmetic(upstream, local):
        return fold(upstream * local)


def _at(value: Value, k: tuple) -> sp.Expr:
    return value[k] if is_tensor(value) and k != () else value


def _input_index(k: tuple, value: Value) -> tuple:
    """The entry of an elementwise op's input that output entry ``k`` uses (broadcasting)."""
    return source_index(k, shape(value)) if k != () else ()
