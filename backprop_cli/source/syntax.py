"""The inert syntax tree that :func:`backprop_cli.source.expr.parse` builds.

Frozen dataclasses, one per construct the exercise language has (numbers,
names, negation, binary operators, calls); each node keeps its character span
in the original text so that errors and explanations can point into it.
Nothing here evaluates anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterator, Protocol

import sympy

CONSTANTS = frozenset({"pi"})


class Signature(Protocol):
    """What the parser needs to know of a function: how many arguments, which keywords."""

    arity: int
    keywords: tuple[str, ...]


@dataclass(frozen=True)
class Node:
    start: int  # 0-based offset of the first character in the original text
    end: int  # one past the last character


@dataclass(frozen=True)
class Num(Node):
    value: sympy.Rational  # exact Integer or Rational
    decimal: bool  # the literal has a '.' or an exponent
    text: str  # the literal as written


@dataclass(frozen=True)
class Name(Node):
    id: str


@dataclass(frozen=True)
class Neg(Node):
    operand: Node


@dataclass(frozen=True)
class Binary(Node):
    op: str  # "+", "-", "*", "/", "**" or "@"
    left: Node
    right: Node


@dataclass(frozen=True)
class Call(Node):
    func: str  # a key of FUNCTIONS
    args: tuple[Node, ...]
    kwargs: tuple[tuple[str, Node], ...] = ()


# ---------------------------------------------------------------- tree helpers

def children(node: Node) -> tuple[Node, ...]:
    if isinstance(node, Neg):
        return (node.operand,)
    if isinstance(node, Binary):
        return (node.left, node.right)
    if isinstance(node, Call):
        return node.args + tuple(value for _, value in node.kwargs)
    return ()


def walk(node: Node) -> Iterator[Node]:
    """All nodes in pre-order (iterative, so any depth is fine)."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(children(current)))


def names(node: Node) -> list[str]:
    """The distinct Name ids in first-occurrence order ("pi" included)."""
    return list(dict.fromkeys(n.id for n in walk(node) if isinstance(n, Name)))


def first_too_deep(root, children: Callable, counts: Callable, limit: int):
    """The first node found deeper than ``limit`` (iteratively), or None."""
    stack = [(root, int(counts(root)))]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return node
        stack.extend((c, depth + int(counts(c))) for c in children(node))
    return None


_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2, "@": 2, "**": 4}
_UNARY, _ATOM = 3, 5


def _precedence(node: Node) -> int:
    if isinstance(node, Binary):
        return _PRECEDENCE[node.op]
    return _UNARY if isinstance(node, Neg) else _ATOM


def _wrap(node: Node, parens: bool) -> str:
    return f"({unparse(node)})" if parens else unparse(node)


def unparse(node: Node) -> str:
    """Text that parses back to an equal tree (spans aside), minimal parentheses."""
    if isinstance(node, Num):
        return node.text
    if isinstance(node, Name):
        return node.id
    if isinstance(node, Neg):
        return "-" + _wrap(node.operand, _precedence(node.operand) < _UNARY)
    if isinstance(node, Call):
        parts = [unparse(a) for a in node.args] + [f"{k}={unparse(v)}" for k, v in node.kwargs]
        return f"{node.func}({', '.join(parts)})"
    if isinstance(node, Binary):
        p = _PRECEDENCE[node.op]
        if node.op == "**":  # right-associative; the exponent may be unary
            return (_wrap(node.left, _precedence(node.left) <= p) + "**"
                    + _wrap(node.right, _precedence(node.right) < _UNARY))
        left = _wrap(node.left, _precedence(node.left) < p)
        return f"{left} {node.op} {_wrap(node.right, _precedence(node.right) <= p)}"
    raise TypeError(f"not an expression node: {node!r}")

