"""Folding the parts of a step that only pass a gradient on.

The engine splits ``z1: W1 @ x + B1`` into ``z1_1 = W1 @ x`` and
``z1 = z1_1 + B1``, and ``loss: (x4 - y)**2`` into ``loss_1 = x4 - y`` and
``loss = loss_1**2``, so that every local derivative is visible.  A student
writes neither ``z1_1`` nor ``loss_1``: for them the ``+ B1`` changes nothing
(its local derivative is 1) and ``d(x4 - y)**2/dx4 = 2*(x4 - y)`` is one step.
:func:`fold` rewrites the lines of a backward pass that way:

* a part whose local derivative into its consumer is 1 (``z1_1`` into
  ``z1``) has the consumer's gradient: its line goes, and the links that
  named it name the consumer instead (``∂loss/∂z1 @ x.T``);
* a linear part (``loss_1 = x4 - y``) reached only through local
  derivatives of 1 is substituted into its consumer's local derivative:
  ``∂loss/∂x4 = ∂loss/∂loss · 2*(x4 - y)``.

Only intermediate parts are folded, never a given or a step the author
named.  Every number stays the one the engine computed.
"""

from __future__ import annotations

from dataclasses import replace

import sympy as sp

from backprop_cli.autodiff.arrays import np
from backprop_cli.autodiff.graph import Role
from backprop_cli.autodiff.tensor import Value, is_tensor
from backprop_cli.explain.chain import ChainLine, Link
from backprop_cli.explain.written import written_name


def fold(lines: list[ChainLine]) -> list[ChainLine]:
    """The lines with pass-through parts folded into the steps they belong to, and the
    parts that remain named as written: ``∂g/∂(x*w)``, not ``∂g/∂f_1``."""
    return _name_parts(_substitute_linear(_alias_pass_through(lines)))


def _part(line: ChainLine) -> bool:
    return line.node.role is Role.PART and len(line.links) == 1 and line.seed is None


def _alias_pass_through(lines: list[ChainLine]) -> list[ChainLine]:
    alias: dict[str, str] = {}
    kept = []
    for line in lines:  # output first, so a consumer's own alias is known before its parts
        if _part(line) and line.links[0].is_one():
            consumer = line.links[0].consumer_name
            alias[line.name] = alias.get(consumer, consumer)
            continue
        kept.append(line)
    if not alias:
        return lines
    return [line.with_links(replace(link, consumer_name=alias.get(link.consumer_name, link.consumer_name))
                            for link in line.links) for line in kept]


def _substitute_linear(lines: list[ChainLine]) -> list[ChainLine]:
    lines = list(lines)
    i = 0
    while i < len(lines):
        part = lines[i]
        into = part.links[0] if _part(part) else None
        users = [(j, k) for j, line in enumerate(lines) for k, link in enumerate(line.links)
                 if link.consumer_name == part.name]
        if (into is None or part.expression is None or into.local_symbolic is None or not users
                or not all(_constant(lines[j].links[k]) for j, k in users)):
            i += 1
            continue
        local = _replace_symbol(into.local_symbolic, part.name, part.expression)
        known = {**{n: v for n, v in into.known.items() if n != part.name}, **part.expression_known}
        for j, k in users:
            user = lines[j].links[k]
            merged = Link(into.consumer, into.consumer_name, into.upstream,
                          _scaled(local, user.local_symbolic), _times(into.local, user.local),
                          user.value, known)
            links = list(lines[j].links)
            links[k] = merged
            lines[j] = lines[j].with_links(links)
        del lines[i]
    return lines


def _constant(link: Link) -> bool:
    """A local derivative that is a plain number, 1 or -1 (the two sides of a subtraction)."""
    return link.local_symbolic is not None and link.local_symbolic in (1, -1) and (
        link.is_one() or not is_tensor(link.local) or len({*link.local.flat}) == 1)


def _scaled(local: sp.Expr, sign: sp.Expr) -> sp.Expr:
    if sign == 1:
        return local
    with sp.evaluate(False):  # -(2*(x*w - L)), as the chain rule writes it
        return sp.Mul(-1, local)


def _name_parts(lines: list[ChainLine]) -> list[ChainLine]:
    renames: dict[str, str] = {}
    for line in lines:
        if line.node.role is Role.PART:
            suffix = line.name[len(line.node.name):]  # '[2]' for an entry
            renames[line.name] = written_name(line.node, suffix)
    if not renames:
        return lines
    symbols = {sp.Symbol(old): sp.Symbol(new) for old, new in renames.items()}

    def renamed(link: Link) -> Link:
        local = link.local_symbolic
        if local is not None and symbols.keys() & local.free_symbols:
            with sp.evaluate(False):
                local = local.xreplace(symbols)
        known = {renames.get(n, n): v for n, v in link.known.items()}
        return replace(link, consumer_name=renames.get(link.consumer_name, link.consumer_name),
                       local_symbolic=local, known=known)

    return [replace(line, name=renames.get(line.name, line.name), links=tuple(map(renamed, line.links)))
            for line in lines]


def _replace_symbol(expression: sp.Expr, name: str, value: sp.Expr) -> sp.Expr:
    with sp.evaluate(False):  # 2*(x4 - y), not 2*x4 - 2*y
        return expression.xreplace({sp.Symbol(name): value})


def _times(local: Value, unit: Value) -> Value:
    """The consumer's local derivative times the part's (all 1 or all -1), in the path's shape."""
    sign = next(iter(unit.flat)) if is_tensor(unit) else unit
    if is_tensor(unit) and not is_tensor(local):
        out = unit.copy()
        out.fill(local * sign)
        return out
    if sign == 1:
        return local
    return np.vectorize(lambda e: -e, otypes=[object])(local) if is_tensor(local) else -local


def _zero(value: Value) -> bool:
    return all(e == 0 for e in value.flat) if is_tensor(value) else value == 0


def drop_dead_paths(lines: list[ChainLine], keep: str) -> tuple[list[ChainLine], bool]:
    """The lines without paths that carry no gradient (an upstream gradient of exactly 0, as
    where a one-hot label is 0), and whether any was dropped; the line ``keep`` always stays."""
    dropped = False
    out = []
    for line in lines:
        links = [link for link in line.links if not _zero(link.upstream)]
        if len(links) < len(line.links):
            dropped = True
            line = line.with_links(links)
        if not links and line.seed is None and line.name != keep:
            dropped = True
            continue
        out.append(line)
    return out, dropped
