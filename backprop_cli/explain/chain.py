"""Lines of the backward pass, before they are written out.

A :class:`ChainLine` is one gradient, d(of)/d(node) (or one entry of it), with
the :class:`Link` each consumer contributes: upstream gradient times local
derivative.  The whole-tensor trace (:mod:`~backprop_cli.explain.trace`) and
the entry-by-entry chain (:mod:`~backprop_cli.explain.entries`) both build
these, :mod:`~backprop_cli.explain.fold` may fold pass-through steps out of
them, and one writer turns them into :class:`BackwardEntry` text, in one of
three notations (:class:`Notation`).
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field, replace

import sympy as sp

from backprop_cli.autodiff.engine import Term
from backprop_cli.autodiff.graph import Node, Role
from backprop_cli.autodiff.numbers import exact_text
from backprop_cli.autodiff.tensor import Value, is_tensor, shape, shape_text, summed_axes
from backprop_cli.explain.written import written_symbol
from backprop_cli.explain.text import (DOT, brief, brief_known, brief_result, decimal_or_none, factor,
                                       number, partial, signed_sum, with_shape)

SEED_NOTE = "seed: the derivative of a thing by itself"
UPSTREAM_NOTE = "upstream, given"
ZERO_NOTE = "every path from here has a local derivative of 0"


class Notation(enum.Enum):
    FULL = "full"  # chain rule, symbolic locals, numbers, result: what explain prints
    BRIEF = "brief"  # the same on fewer lines, decimals for irrational factors (check's focus)
    SHAPES = "shapes"  # the chain rule with shapes only (a tensor answer of the wrong shape)


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
        out = [(self.target + " = " if i == 0 else pad + (" " if s.startswith("+ ") else " = ")) + s
               for i, s in enumerate(self.stages)]
        if self.decimal and not self.value.startswith("≈"):
            out[-1] += f"  ≈ {self.decimal}"
        if self.note:
            out[-1] += f"   ({self.note})"
        return out


@dataclass(frozen=True)
class Link:
    """One consumer's share of a gradient: its gradient times the local derivative."""

    consumer: Node
    consumer_name: str  # whose gradient is upstream: 'z3', or an entry such as 'z2[3]'
    upstream: Value
    local_symbolic: sp.Expr | None  # over node (or entry) names; None for a tensor op's VJP
    local: Value | None
    value: Value  # this path's contribution
    known: dict[str, Value] = field(default_factory=dict)  # values of the names the local uses
    term: Term | None = None  # the engine's term, for a tensor op's matrix form

    def is_one(self) -> bool:
        """The local derivative is 1 (the ``+ b`` of a layer, an alias): it changes nothing."""
        if self.local_symbolic is None or self.local_symbolic != 1:
            return False
        return all(e == 1 for e in self.local.flat) if is_tensor(self.local) else self.local == 1


@dataclass(frozen=True)
class ChainLine:
    """d(of)/d(node), or one entry of it, and the links it is summed from."""

    node: Node
    name: str  # 'x3', or an entry 'x3[3]'
    value: Value
    links: tuple[Link, ...] = ()
    seed: str | None = None  # where the gradient enters: SEED_NOTE or UPSTREAM_NOTE
    # The node's value over its inputs' names, for a linear step (x4 - y), so that a
    # pass-through part can be folded into its consumer; and the values of those names.
    expression: sp.Expr | None = None
    expression_known: dict[str, Value] = field(default_factory=dict)

    def with_links(self, links) -> "ChainLine":
        return replace(self, links=tuple(links))


# ------------------------------------------------------------------ building, from the engine

LINEAR = ("add", "sub", "identity")  # ops whose local derivative can be exactly 1


def known_values(nodes, values) -> dict[str, Value]:
    return {n.name: values[n] for n in nodes if n.role is not Role.CONST}


def term_link(term: Term, values) -> Link:
    consumer = term.consumer
    return Link(consumer, consumer.name, term.upstream, term.local_symbolic, term.local, term.value,
                known_values((*consumer.inputs, consumer), values), term)


def node_expression(node: Node, symbols: list[sp.Expr]) -> sp.Expr | None:
    """``x4 - y`` for a linear node over its inputs' symbols; None for any other op."""
    if node.op is None or node.op.name not in LINEAR:
        return None
    with sp.evaluate(False):
        return node.op.forward(*symbols)


def part_expression(node: Node, entry_of, suffix_of=lambda inp: "") -> tuple[sp.Expr | None, dict]:
    """A linear part over its inputs as written (``x*w - L``, not ``loss_1 - L``), and the
    values of the names it uses; ``entry_of(inp)`` is an input's value (or entry),
    ``suffix_of(inp)`` how that entry is named (``[2]``)."""
    if node.op is None or node.op.name not in LINEAR:
        return None, {}
    symbols, known = [], {}
    for inp in node.inputs:
        if inp.role is Role.CONST:
            symbols.append(inp.const)
            continue
        symbol = written_symbol(inp, suffix_of(inp))
        symbols.append(symbol)
        known[symbol.name] = entry_of(inp)
    return node_expression(node, symbols), known


# ------------------------------------------------------------------ writing

_SLOT = re.compile(r"\{(g|out|\d)\}(\.T)?")


def _fill(template: str, link: Link, of: str, values, show) -> str:
    """A tensor op's matrix-form rule with names and shapes (``show`` None) or with numbers."""
    term = link.term

    def slot(m: re.Match) -> str:
        token, transposed = m[1], bool(m[2])
        if token == "g":
            name, value = partial(of, link.consumer_name), term.upstream
        elif token == "out":
            name, value = term.consumer.name, values[term.consumer]
        else:
            node = term.consumer.inputs[int(token)]
            name, value = node.label, values[node]
        if transposed and is_tensor(value):
            name, value = name + ".T", value.T
        return show(value) if show else with_shape(name, value)

    first = values[term.consumer.inputs[0]]
    words = {"{shape0}": shape_text(shape(first)), "{size0}": str(getattr(first, "size", 1)),
             **{"{%s}" % k: str(v) for k, v in term.consumer.params.items()}}
    text = _SLOT.sub(slot, template)
    for placeholder, word in words.items():
        text = text.replace(placeholder, word)
    return text


def _pieces(link: Link, line: ChainLine, of: str, values, show) -> tuple[str, str, str]:
    """One link as (chain rule, symbolic local, numbers)."""
    if link.local_symbolic is None:  # a tensor op: its VJP in matrix form
        template = link.term.consumer.op.vjp_form(link.term.slot)
        chain = _fill(template, link, of, values, None)
        return chain, chain, _fill(template, link, of, values, show)
    tensor = is_tensor(link.upstream) or is_tensor(link.local)
    dot = " ⊙ " if tensor else DOT
    pieces = (partial(of, link.consumer_name) + dot + partial(link.consumer_name, line.name),
              factor(show(link.upstream)) + dot + factor(exact_text(link.local_symbolic)),
              factor(show(link.upstream)) + dot + factor(show(link.local)))
    if tensor and not is_tensor(line.value):  # a scalar broadcast over a tensor collects every entry
        pieces = tuple(f"sum({p})" for p in pieces)
    elif tensor and shape(link.upstream) != shape(line.value):  # a column bias over a batch, ...
        pieces = (pieces[0] + _summed(shape(line.value), shape(link.upstream)),) + pieces[1:]
    return pieces


def _summed(small, big) -> str:
    """', summed over the batch: 4 columns' for a 3x1 bias broadcast over a 3x4 batch."""
    axes = summed_axes(small, big)
    if axes == (1,):
        return f", summed over the batch: {big[1]} columns"
    if axes == (0,):
        return f", summed over the batch: {big[0]} rows"
    return ", summed over every entry"


def _used(line: ChainLine, write) -> list[str]:
    """``r = -1`` for each name a symbolic local derivative uses, first use first."""
    used: dict[str, str] = {}
    for link in line.links:
        if link.local_symbolic is None:
            continue
        for sym in sorted(link.local_symbolic.free_symbols, key=lambda s: s.name):
            if sym.name in link.known:
                used[sym.name] = write(sym.name, link.known[sym.name])
    return list(used.values())


def write_entry(line: ChainLine, of: str, values=None, notation: Notation = Notation.FULL) -> BackwardEntry:
    target = with_shape(partial(of, line.name), line.value)
    if notation is Notation.SHAPES:
        chains = [_pieces(link, line, of, values, number)[0] for link in line.links]
        stage = " + ".join(chains) if chains else (line.seed and "(" + line.seed + ")") or "0"
        return BackwardEntry(line.name, target, (stage,), "", None)
    if notation is Notation.BRIEF:
        return _brief_entry(line, target, of, values)
    if not line.links:
        note = line.seed or ZERO_NOTE
        return BackwardEntry(line.name, target, (number(line.value),), number(line.value),
                             decimal_or_none(line.value), note)
    parts = [_pieces(link, line, of, values, number) for link in line.links]
    stages = assemble(parts, _used(line, _known),
                      [link.value for link in line.links], line.value)
    return BackwardEntry(line.name, target, stages, number(line.value), decimal_or_none(line.value))


def _known(name: str, value: Value) -> str:
    """``x = 1/2``, or ``x4 ≈ 0.5515043082`` (not ``x4 = ≈ ...``) for a value used in a line."""
    text = number(value)
    return f"{name} {text}" if text.startswith("≈") else f"{name} = {text}"


def assemble(parts: list[tuple[str, str, str]], used: list[str], term_values: list[Value],
             total: Value) -> tuple[str, ...]:
    """The full notation's stages from the links' (chain, symbolic, numbers) pieces."""
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


def _brief_entry(line: ChainLine, target: str, of: str, values) -> BackwardEntry:
    """The brief notation, on as few lines as reads well.

    One path: the chain rule, then ``upstream · local = numbers`` (a local that is
    more than a name or a number gets a line of its own, with the values it uses).
    Several paths: one ``+ chain = numbers`` line each, then their sum.
    """
    result = brief_result(line.value)
    if not line.links:
        return BackwardEntry(line.name, target, (result,), result, None, line.seed or ZERO_NOTE)
    equals = " " if result.startswith("≈") else " = "
    parts = [_pieces(link, line, of, values, brief) for link in line.links]
    if len(parts) == 1:
        (chain, symbolic, numeric), link = parts[0], line.links[0]
        if link.local_symbolic is None or symbolic == numeric:  # a tensor op's rule, or a number
            stages = [chain, numeric + equals + result]
        elif link.local_symbolic.is_Number:  # 1 (or -1): no need to write it out entry by entry
            stages = [chain, symbolic + equals + result]
        elif _simple(link):
            stages = [chain, f"{symbolic} = {numeric}{equals}{result}"]
        else:
            used = _used(line, brief_known)
            stages = [chain, symbolic + ("   with " + ", ".join(used) if used else ""),
                      numeric + equals + result]
        return BackwardEntry(line.name, target, tuple(stages), result, None)
    stages = [f"{chain} = {numeric}" for chain, _, numeric in parts]
    stages[1:] = ["+ " + stage for stage in stages[1:]]
    stages.append(signed_sum([brief(link.value) for link in line.links]) + equals + result)
    return BackwardEntry(line.name, target, tuple(stages), result, None)


def _simple(link: Link) -> bool:
    """A local derivative that is one name (``W3[1,3]``, ``x``): its number needs no line of its own."""
    return link.local_symbolic is not None and (link.local_symbolic.is_Symbol or link.local_symbolic.is_Number)
