"""Parse exercise steps and student answers into a small, inert syntax tree.

Steps such as ``loss: (y_hat - y)^2`` and answers such as ``exp(-1)/(1+exp(-1))^2``
are untrusted text from colleagues, the internet and students.  Nothing here
ever evaluates them: no ``eval``/``exec``/compile-to-code, no ``sympify``,
``parse_expr`` or ``sympy.S`` on text.  Instead the text is

1. pre-checked (length, characters, number literals, juxtaposition, nesting),
   so that hostile input fails fast with a clear message;
2. parsed with :func:`ast.parse`, which only builds a tree; ``^`` is rewritten
   to ``**`` first and an offset map keeps every position in the ORIGINAL text;
3. converted, node by node against a strict whitelist, into the frozen
   dataclasses below.  Everything not on the whitelist is an
   :class:`~backprop_cli.source.errors.ExpressionError` at the offending column.

The only SymPy use is building exact numbers from digits parsed here.
Trees returned by :func:`parse` are at most ``limits.max_expr_depth`` deep.
"""


from __future__ import annotations

import ast
import re
import warnings
from dataclasses import replace
from typing import Mapping

from backprop_cli.source import hints
from backprop_cli.source.errors import ExpressionError
from backprop_cli.source.limits import DEFAULT, Limits
from backprop_cli.source.scan import WHITESPACE, check_characters, number, scan
from backprop_cli.source.syntax import (CONSTANTS, Binary, Call, Name, Neg, Node, Num, Signature,
                                        children, first_too_deep, names, unparse, walk)

__all__ = ["parse", "Node", "Num", "Name", "Neg", "Binary", "Call", "walk", "names", "unparse",
           "CONSTANTS", "Signature"]

# -------------------------------------------------------------- ast conversion

_BINARY_OPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**",
               ast.MatMult: "@"}
_REJECTED_OPS = {
    ast.FloorDiv: "'//' is not allowed: use '/'",
    ast.Mod: "'%' is not allowed",
    ast.BitAnd: "bitwise operator '&' is not allowed",
    ast.BitOr: "bitwise operator '|' is not allowed",
    ast.BitXor: "bitwise operator '^' is not allowed",
    ast.LShift: "bitwise operator '<<' is not allowed",
    ast.RShift: "bitwise operator '>>' is not allowed",
    ast.Not: "'not' is not allowed (boolean operators are not supported)",
    ast.Invert: "bitwise operator '~' is not allowed",
}
_REJECTED_NODES = {
    ast.BoolOp: "boolean operators ('and', 'or') are not allowed",
    ast.Compare: "comparisons are not allowed",
    ast.IfExp: "conditional expressions ('a if c else b') are not allowed",
    ast.Lambda: "lambda expressions are not allowed",
    ast.Subscript: "indexing and slicing (x[...]) are not allowed",
    ast.List: "lists are not allowed",
    ast.Tuple: "tuples (commas outside a function call) are not allowed",
    ast.Dict: "dicts are not allowed",
    ast.Set: "sets are not allowed",
    ast.ListComp: "comprehensions are not allowed",
    ast.SetComp: "comprehensions are not allowed",
    ast.DictComp: "comprehensions are not allowed",
    ast.GeneratorExp: "generator expressions are not allowed",
    ast.JoinedStr: "f-strings are not allowed",
    ast.Starred: "starred expressions (*x) are not allowed",
    ast.NamedExpr: "assignment expressions (':=') are not allowed",
    ast.Await: "'await' is not allowed",
    ast.Yield: "'yield' is not allowed",
    ast.YieldFrom: "'yield from' is not allowed",
}
# For these, the error points at the symbol right after the given sub-expression.
_BEFORE_SYMBOL = {ast.Compare: lambda n: n.left, ast.BoolOp: lambda n: n.values[0],
                  ast.IfExp: lambda n: n.body, ast.Subscript: lambda n: n.value}
_SYMBOL = re.compile(r"[A-Za-z]+|[<>=!]=|<<|>>|//|\*\*|.")


class _Converter:
    """Turns the ast of the rewritten text into our nodes, offsets mapped back."""

    def __init__(self, text: str, functions: Mapping[str, Signature], limits: Limits):
        self.text, self.functions, self.limits = text, functions, limits
        parts, self.index = [], []  # self.index[k]: original offset of source[k]
        for i, ch in enumerate(text):
            if ch in WHITESPACE and not parts:
                continue  # leading whitespace would be an "unexpected indent"
            parts.append("**" if ch == "^" else " " if ch in WHITESPACE else ch)
            self.index.extend([i] * len(parts[-1]))
        self.index.append(len(text))
        self.source = "".join(parts)

    # positions ---------------------------------------------------------------
    def at(self, k: int) -> int:
        return self.index[max(0, min(k, len(self.source)))]

    def span(self, node: ast.AST) -> tuple[int, int]:
        return self.at(node.col_offset), self.at(node.end_col_offset - 1) + 1

    def error(self, message: str, node: ast.AST, hint: str | None = None) -> ExpressionError:
        start, end = self.span(node)
        return ExpressionError(message, start, end - start, hint)

    def symbol_error(self, message: str, k: int, hint: str | None = None) -> ExpressionError:
        """An error at the first symbol at or after source offset k, skipping ' ' and ')'."""
        while k < len(self.source) and self.source[k] in " )":
            k += 1
        symbol = _SYMBOL.match(self.source, k) if k < len(self.source) else None
        start = self.at(k)
        length = self.at(symbol.end() - 1) + 1 - start if symbol else 1
        return ExpressionError(message, start, length, hint)

    # parsing -------------------------------------------------------------------
    def parse(self) -> Node:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                tree = ast.parse(self.source, mode="eval")
        except SyntaxError as exc:
            raise self.syntax_error(exc) from None
        except (RecursionError, MemoryError):
            raise ExpressionError("expression is too complex", 0, len(self.text)) from None
        except (ValueError, OverflowError) as exc:
            raise ExpressionError(f"cannot read expression: {exc}", 0, len(self.text)) from None
        limit = self.limits.max_expr_depth
        deep = first_too_deep(tree, ast.iter_child_nodes, _counts_for_depth, limit)
        if deep is not None:
            raise self.error(f"expression nested too deeply (limit {limit} levels; each operator in a "
                             "long chain such as a + b + c + ... counts as a level)", deep)
        try:
            node = self.convert(tree.body)
        except RecursionError:  # only reachable with a huge custom max_expr_depth
            raise ExpressionError("expression is too complex", 0, len(self.text)) from None
        if first_too_deep(node, children, lambda n: True, limit) is not None:
            raise ExpressionError(f"expression nested too deeply (limit {limit} levels; each operator in "
                                  "a long chain such as a + b + c + ... counts as a level)", 0, len(self.text))
        return node

    def syntax_error(self, exc: SyntaxError) -> ExpressionError:
        message = (exc.msg or "invalid syntax").replace(". Perhaps you forgot a comma?", "")
        if exc.lineno != 1 or not exc.offset or exc.offset < 1:
            if message == "invalid syntax":
                message = "the expression ends too early"
            return ExpressionError(f"syntax error: {message}", len(self.text))
        if self.source[exc.offset - 1:exc.offset] == "=" and message == "invalid syntax":
            message = "'=' is only allowed for conv2d keywords (stride=..., padding=...)"
        start = self.at(exc.offset - 1)
        end = self.at(exc.end_offset - 2) + 1 if (exc.end_offset or 0) > exc.offset else start + 1
        return ExpressionError(f"syntax error: {message}", start, end - start)

    def convert(self, node: ast.AST) -> Node:
        handler = self.HANDLERS.get(type(node))
        if handler is not None:
            return handler(self, node)
        message = _REJECTED_NODES.get(type(node), f"{type(node).__name__} is not allowed")
        if isinstance(node, ast.Tuple) and hints.decimal_comma(self.text):
            raise self.error("a comma is not a decimal point", node, hints.decimal_comma(self.text))
        if type(node) in _BEFORE_SYMBOL:  # point at the '<', 'and', 'if' or '['
            raise self.symbol_error(message, _BEFORE_SYMBOL[type(node)](node).end_col_offset)
        raise self.error(message, node)

    def constant(self, node: ast.Constant) -> Node:
        start, end = self.span(node)
        value, literal = node.value, self.text[start:end]
        if isinstance(value, bool) or value is None:
            raise self.error(f"'{literal}' is not allowed: only numbers and names", node)
        if isinstance(value, (int, float)):
            return number(literal, start, end)
        kinds = {str: "strings are", bytes: "bytes literals are", complex: "complex literals are"}
        raise self.error(f"{kinds.get(type(value), repr(literal) + ' is')} not allowed", node)

    def name(self, node: ast.Name) -> Node:
        self.check_name(node)
        if node.id in self.functions:
            raise self.error(f"'{node.id}' is a function: write {node.id}(...)", node)
        return Name(*self.span(node), node.id)

    def check_name(self, node: ast.Name) -> None:
        if node.id.startswith("_"):
            raise self.error("names may not start with '_'", node)

    def unary(self, node: ast.UnaryOp) -> Node:
        if type(node.op) in _REJECTED_OPS:
            raise self.symbol_error(_REJECTED_OPS[type(node.op)], node.col_offset)
        operand = self.convert(node.operand)
        start, end = self.span(node)
        if isinstance(node.op, ast.UAdd):
            return replace(operand, start=start, end=end)
        return Neg(start, end, operand)

    def binary(self, node: ast.BinOp) -> Node:
        if type(node.op) not in _BINARY_OPS:
            message = _REJECTED_OPS.get(type(node.op), "operator is not allowed")
            raise self.symbol_error(message, node.left.end_col_offset)
        left, right = self.convert(node.left), self.convert(node.right)
        return Binary(*self.span(node), _BINARY_OPS[type(node.op)], left, right)

    def attribute(self, node: ast.Attribute) -> Node:
        bad, inner = None, node
        while isinstance(inner, ast.Attribute):  # report the innermost bad attribute
            bad = inner if inner.attr != "T" else bad
            inner = inner.value
        if bad is not None:
            start = self.at(bad.end_col_offset - len(bad.attr))
            raise ExpressionError(f"attribute '.{bad.attr}' is not allowed", start,
                                  len(bad.attr), "only X.T (transpose) is allowed")
        return Call(*self.span(node), "transpose", (self.convert(node.value),))

    def call(self, node: ast.Call) -> Node:
        func = node.func
        if isinstance(func, ast.Attribute):  # a.method(...): a method call, not a product
            dotted = hints.dotted_name(func)
            array = hints.array_hint(dotted, node, self.source) if dotted else None
            if array:
                raise self.error(f"'{dotted}(...)' is not part of the exercise language", func, array)
            start = self.at(func.end_col_offset - len(func.attr))
            raise ExpressionError(f"method calls such as '.{func.attr}(...)' are not allowed", start,
                                  len(func.attr), "only the functions of the exercise language "
                                  "can be called, by name: exp(x), sigmoid(z), ...")
        parenthesised = self.source[func.end_col_offset:].lstrip().startswith(")")
        if not isinstance(func, ast.Name) or parenthesised:
            error = self.symbol_error("missing operator (only named functions can be called)",
                                      func.end_col_offset)
            start, end = self.span(node)
            product = f"{self.text[start:error.offset].rstrip()}*{self.text[error.offset:end]}"
            error.hint = f"write {product}"
            raise error
        self.check_name(func)
        name = func.id
        if name in CONSTANTS:
            raise self.error(f"'{name}' is a constant, not a function", func, f"write {name}*(...)")
        if name not in self.functions:
            start, end = self.span(node)
            hint = (hints.array_hint(name, node, self.source)
                    or hints.function_hint(name, self.text[start:end], self.functions)
                    or _unknown_function_hint(name, self.functions))
            raise self.error(f"unknown function '{name}'", func, hint)
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                raise self.error("'*' arguments are not allowed", arg)
        self.check_keywords(name, node.keywords)
        arity = self.functions[name].arity
        if len(node.args) != arity:
            plural = "" if arity == 1 else "s"
            raise self.error(f"{name}() takes {arity} argument{plural} ({len(node.args)} given)", func)
        args = tuple(self.convert(a) for a in node.args)
        kwargs = tuple((k.arg, self.convert(k.value)) for k in node.keywords)
        return Call(*self.span(node), name, args, kwargs)

    def check_keywords(self, name: str, keywords: list[ast.keyword]) -> None:
        allowed, seen = self.functions[name].keywords, set()
        for kw in keywords:
            if kw.arg is None:
                raise self.error("'**' arguments are not allowed", kw)
            if not allowed:
                raise self.error(f"{name}() takes no keyword arguments", kw)
            if kw.arg not in allowed:
                raise self.error(f"unknown keyword '{kw.arg}' for {name}()", kw,
                                 f"allowed: {', '.join(sorted(allowed))}")
            if kw.arg in seen:
                raise self.error(f"keyword '{kw.arg}' given twice", kw)
            seen.add(kw.arg)

    HANDLERS = {ast.Constant: constant, ast.Name: name, ast.UnaryOp: unary,
                ast.BinOp: binary, ast.Attribute: attribute, ast.Call: call}


def _counts_for_depth(node: ast.AST) -> bool:
    """Python ast nodes that become one of our nodes (unary plus is dropped)."""
    is_plus = isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.UAdd)
    return isinstance(node, ast.expr) and not is_plus


def _unknown_function_hint(name: str, functions: Mapping[str, Signature]) -> str:
    known = f"known functions: {', '.join(sorted(functions))}"
    return known + (f"; to multiply, write {name}*(...)" if len(name) <= 2 else "")


def parse(text: str, functions: Mapping[str, Signature], limits: Limits = DEFAULT) -> Node:
    """Parse untrusted expression text; raise ExpressionError for anything not accepted.

    ``functions`` are the callable names with their signatures: the op
    registry (:mod:`backprop_cli.autodiff.registry`), passed in so that the
    parser and the engine can never disagree on the language.
    """
    if not text.strip(WHITESPACE):
        raise ExpressionError("empty expression", 0, max(1, len(text)))
    if len(text) > limits.max_expr_length:
        raise ExpressionError(f"expression is too long ({len(text)} characters, limit "
                              f"{limits.max_expr_length})", limits.max_expr_length)
    check_characters(text)
    scan(text, limits)
    return _Converter(text, functions, limits).parse()
