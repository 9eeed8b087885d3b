"""The chain-rule trace as plain data, phrased the way a student writes it.

A :class:`Trace` is built from a backward pass (:mod:`backprop_cli.autodiff.engine`)
and holds only strings, so every renderer (terminal, Markdown, JSON) shows the
same words.  Each backward entry goes through fixed stages, after the
interactive computational graph: the chain-rule sum over consumers, upstream
values with the symbolic local derivatives, the numbers, the result.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import sympy as sp

from backprop_cli.autodiff.engine import Backward, GradLine, Term
from backprop_cli.autodiff.graph import Node, Role
from backprop_cli.autodiff.numbers import SHORT, decimal_text, exact_text, is_integer, is_numeric, prints_longer
from backprop_cli.autodiff.tensor import Value, is_tensor, shape, shape_text

DOT = " · "


@dataclass(frozen=True)
class ForwardRow:
    name: str
    definition: str  # "given", or the op over its inputs: "y_hat - y"
    value: str  # exact when short, else "≈ decimal"
    decimal: str | None  # when the value is not an integer
    step: str | None  # the step an intermediate belongs to
    shape: str | None = None  # "3x1" for a tensor


@dataclass(frozen=True)
class BackwardEntry:
    name: str  # the node
    target: str  # "∂loss/∂r"
    stages: tuple[str, ...]  # the right-hand sides, in order; the last is the value
    value: str
    decimal: str | None
    note: str | None = None  # "upstream, given", "seed", ...

    def lines(self) -> list[str]:
        """The entry as a student writes it: target, then one '= ...' line per stage."""
        pad = " " * len(self.target)
        out = [(self.target if i == 0 else pad) + " = " + s for i, s in enumerate(self.stages)]
        if self.decimal and not self.value.startswith("≈"):
            out[-1] += f"  ≈ {self.decimal}"
        if self.note:
            out[-1] += f"   ({self.note})"
        return out


@dataclass
class Trace:
    of: str  # what is differentiated
    forward: list[ForwardRow] = field(default_factory=list)
    backward: list[BackwardEntry] = field(default_factory=list)
    independent: list[str] = field(default_factory=list)  # givens the target does not depend on
    note: str | None = None  # said before the backward pass (how entries are numbered)

    def independent_lines(self) -> list[str]:
        return [f"∂{self.of}/∂{n} = 0: {self.of} does not depend on {n}" for n in self.independent]

    def as_dict(self) -> dict:
        return {
            "of": self.of,
            "forward": [vars(r) for r in self.forward],
            "backward": [{**vars(e), "stages": list(e.stages)} for e in self.backward],
            "independent": self.independent,
            "note": self.note,
        }


def number(value: Value) -> str:
    """A value inside a trace line: exact when short, decimal otherwise; tensors as rows."""
    if is_tensor(value):
        rows = [[number(e) for e in row] for row in value]
        text = "[" + ", ".join("[" + ", ".join(row) + "]" for row in rows) + "]"
        if len(text) <= 4 * SHORT:
            return text
        return "≈ [" + ", ".join("[" + ", ".join(decimal_text(e, 6) for e in row) + "]"
                                 for row in value) + "]"
    if prints_longer(value, SHORT):  # printing a long nested form whole only to measure it
        return "≈ " + decimal_text(value, 10)  # can take longer than the backward pass
    text = exact_text(value)
    return text if len(text) <= SHORT else "≈ " + decimal_text(value, 10)


def decimal_or_none(value: Value) -> str | None:
    """The decimal form, when the value (or some entry) is not an integer."""
    if is_tensor(value):
        if all(is_integer(e) for e in value.flat):
            return None
        return "[" + ", ".join("[" + ", ".join(decimal_text(e, 6) for e in row) + "]"
                               for row in value) + "]"
    return None if is_integer(value) or not is_numeric(value) else decimal_text(value, 10)


def with_shape(name: str, value: Value) -> str:
    """``a (3x1)`` for a tensor, plain ``a`` for a scalar."""
    return f"{name} ({shape_text(shape(value))})" if is_tensor(value) else name


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


def partial(of: str, node: str) -> str:
    return f"∂{of}/∂{node}"


def _factor(text: str) -> str:
    """Parenthesise a factor unless it is one name, number, call or matrix."""
    depth, top_level_operator = 0, False
    for ch in text:
        depth += (ch in "([") - (ch in ")]")
        if depth == 0 and ch in "+-*/ " and not (ch == "/" and _is_fraction(text)):
            top_level_operator = True
    return f"({text})" if top_level_operator else text


def _is_fraction(text: str) -> bool:
    num, _, den = text.partition("/")
    return num.isdigit() and den.isdigit()


_SLOT = re.compile(r"\{(g|out|\d)\}(\.T)?")


def _fill(template: str, term: Term, of: str, values: dict[Node, Value], numeric: bool) -> str:
    """A tensor op's matrix-form rule with names (and shapes), or with the numbers."""
    def slot(m: re.Match) -> str:
        token, transposed = m[1], bool(m[2])
        if token == "g":
            name, value = partial(of, term.consumer.name), term.upstream
        elif token == "out":
            name, value = term.consumer.name, values[term.consumer]
        else:
            node = term.consumer.inputs[int(token)]
            name, value = node.label, values[node]
        if transposed and is_tensor(value):
            name, value = name + ".T", value.T
        return number(value) if numeric else with_shape(name, value)

    first = values[term.consumer.inputs[0]]
    words = {"{shape0}": shape_text(shape(first)), "{size0}": str(getattr(first, "size", 1)),
             **{"{%s}" % k: str(v) for k, v in term.consumer.params.items()}}
    text = _SLOT.sub(slot, template)
    for placeholder, word in words.items():
        text = text.replace(placeholder, word)
    return text


def _term_stages(term: Term, node: Node, of: str, values: dict[Node, Value]) -> tuple[str, str, str]:
    """One path's contribution as (chain rule, symbolic local, numbers)."""
    if term.local_symbolic is None:  # a tensor op: its VJP in matrix form
        template = term.consumer.op.vjp_form(term.slot)
        chain = _fill(template, term, of, values, numeric=False)
        numbers = _fill(template, term, of, values, numeric=True)
        return chain, chain, numbers
    tensor = is_tensor(term.upstream) or is_tensor(term.local)
    chain, symbolic, numbers = scalar_pieces(of, term.consumer.name, node.name, term.upstream,
                                             term.local_symbolic, term.local, " ⊙ " if tensor else DOT)
    if tensor and not is_tensor(values[node]):  # a scalar broadcast over a tensor collects every entry
        chain, symbolic, numbers = (f"sum({t})" for t in (chain, symbolic, numbers))
    return chain, symbolic, numbers


def _stages(line: GradLine, of: str, values: dict[Node, Value]) -> tuple[str, ...]:
    parts = [_term_stages(t, line.node, of, values) for t in line.terms]
    return assemble(parts, _values_used(line.terms, values), [t.value for t in line.terms], line.value)


def assemble(parts: list[tuple[str, str, str]], used: list[str], term_values: list[Value],
             total: Value) -> tuple[str, ...]:
    """The stages of one entry from its paths' (chain, symbolic, numbers) pieces."""
    chain, symbolic, numeric = (" + ".join(p[i] for p in parts) for i in range(3))
    if used:
        numeric += "   with " + ", ".join(used)
    stages = [chain, symbolic, numeric]
    if len(parts) > 1:
        stages.append(signed_sum([number(v) for v in term_values]))
    stages.append(number(total))
    out: list[str] = []
    for stage in stages:  # identical neighbours say nothing new
        if not out or out[-1].split("   with ")[0] != stage.split("   with ")[0]:
            out.append(stage)
    return tuple(out)


def signed_sum(texts: list[str]) -> str:
    """'-1 - 3 + 4', not '-1 + -3 + 4'."""
    out = texts[0]
    for text in texts[1:]:
        out += f" - {text[1:]}" if text.startswith("-") else f" + {text}"
    return out


def scalar_pieces(of: str, consumer: str, node: str, upstream: Value, local_symbolic: sp.Expr,
                  local: Value, dot: str = DOT) -> tuple[str, str, str]:
    """``∂of/∂c · ∂c/∂n``, the same with the symbolic local, and with the numbers."""
    return (partial(of, consumer) + dot + partial(consumer, node),
            _factor(number(upstream)) + dot + _factor(exact_text(local_symbolic)),
            _factor(number(upstream)) + dot + _factor(number(local)))


def _values_used(terms: tuple[Term, ...], values: dict[Node, Value]) -> list[str]:
    """``r = -1`` for each node whose value a symbolic local derivative uses."""
    names = {}
    for t in terms:
        if t.local_symbolic is None:
            continue
        by_name = {n.name: n for n in (*t.consumer.inputs, t.consumer)}
        for sym in sorted(t.local_symbolic.free_symbols, key=lambda s: s.name):
            node = by_name.get(sym.name)
            if node is not None:
                names[sym.name] = f"{sym.name} = {number(values[node])}"
    return list(names.values())


def backward_entries(run: Backward, nodes: list[Node] | None = None) -> list[BackwardEntry]:
    """One entry per node on the way back, in reverse order; ``nodes`` limits it to a slice."""
    keep = None if nodes is None else set(nodes)
    entries = []
    for line in run.lines:
        if keep is not None and line.node not in keep:
            continue
        value = line.value
        target = with_shape(partial(run.of, line.node.name), value)
        if not line.terms:  # where the gradient enters
            note = "upstream, given" if run.outside else "seed: the derivative of a thing by itself"
            entries.append(BackwardEntry(line.node.name, target, (number(value),), number(value),
                                         decimal_or_none(value), note))
            continue
        entries.append(BackwardEntry(line.node.name, target, _stages(line, run.of, run.values),
                                     number(value), decimal_or_none(value)))
    return entries


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
