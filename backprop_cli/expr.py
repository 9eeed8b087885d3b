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
   :class:`~backprop_cli.errors.ExpressionError` at the offending column.

The only SymPy use is building exact numbers from digits parsed here.
Trees returned by :func:`parse` are at most ``limits.max_expr_depth`` deep.
"""

from __future__ import annotations

import ast
import difflib
import keyword
import re
import unicodedata
import warnings
from dataclasses import dataclass, replace
from typing import Callable, Iterator

import sympy

from backprop_cli.errors import ExpressionError
from backprop_cli.limits import DEFAULT, Limits

FUNCTIONS: dict[str, tuple[int, int]] = {
    **{f: (1, 1) for f in ("exp", "log", "sqrt", "sin", "cos", "tan", "tanh",
                           "sigmoid", "relu", "abs", "softplus")},
    "max": (2, 2),
    "min": (2, 2),
    **{f: (1, 1) for f in ("sum", "mean", "transpose", "softmax")},
    "conv2d": (2, 2),
}
FUNCTION_KEYWORDS: dict[str, frozenset[str]] = {"conv2d": frozenset({"stride", "padding"})}
CONSTANTS = frozenset({"pi"})


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

def _children(node: Node) -> tuple[Node, ...]:
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
        stack.extend(reversed(_children(current)))


def names(node: Node) -> list[str]:
    """The distinct Name ids in first-occurrence order ("pi" included)."""
    return list(dict.fromkeys(n.id for n in walk(node) if isinstance(n, Name)))


def _first_too_deep(root, children: Callable, counts: Callable, limit: int):
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


# ------------------------------------------------------------- text pre-checks

_WHITESPACE = " \t\n\r\f\v"
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# A number-like token as Python's tokenizer would start it ("2x", "0x1F", "1e-3", "1_000").
_RAW_NUMBER = re.compile(r"(?:[0-9A-Za-z_.]|(?<=[0-9.][eE])[+-](?=[0-9]))+")
_DECIMAL = re.compile(r"(?P<mantissa>[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE](?P<exp>[+-]?[0-9]+))?")
_PREFIXED = {"0x": ("hexadecimal", r"0[xX][0-9a-fA-F_]+"), "0o": ("octal", r"0[oO][0-7_]+"),
             "0b": ("binary", r"0[bB][01_]+")}
_LOOKALIKES = {"\u2212": "-", "\u2013": "-", "\u00d7": "*", "\u00b7": "*", "\u22c5": "*"}


def _check_characters(text: str) -> None:
    for i, ch in enumerate(text):
        if ord(ch) > 127:
            name = unicodedata.name(ch, "unnamed character")
            plain = _LOOKALIKES.get(ch) or unicodedata.normalize("NFKC", ch)
            hint = f"did you mean '{plain}'?" if plain.isascii() and plain.strip() else (
                "delete it (it may be invisible)")
            raise ExpressionError(f"non-ASCII character U+{ord(ch):04X} ({name}) at column {i + 1}",
                                  i, 1, hint)
        if (ch < " " and ch not in _WHITESPACE) or ch == "\x7f":
            raise ExpressionError(f"control character U+{ord(ch):04X} at column {i + 1}", i)


def _group_end(text: str, i: int) -> int:
    """If text[i] is '(', the offset after its matching ')'; otherwise i."""
    if text[i:i + 1] != "(":
        return i
    depth = 0
    for j in range(i, len(text)):
        depth += {"(": 1, ")": -1}.get(text[j], 0)
        if depth == 0:
            return j + 1
    return i


def _missing_operator(text: str, left: tuple[int, int], right: tuple[int, int]) -> ExpressionError:
    right_end = _group_end(text, right[1])
    product = f"{text[left[0]:left[1]]}*{text[right[0]:right_end]}"
    return ExpressionError("missing operator", right[0], right[1] - right[0], f"write {product}")


def _check_number(text: str, start: int, end: int, limits: Limits) -> None:
    """Check one number-like token; raise unless it is a plain decimal literal."""
    token = text[start:end]
    prefixed = _PREFIXED.get(token[:2].lower())
    if prefixed and re.fullmatch(prefixed[1], token):
        raise ExpressionError(f"{prefixed[0]} literals are not allowed", start, len(token),
                              "write the number in decimal")
    if "_" in token and _DECIMAL.fullmatch(token.replace("_", "")):
        raise ExpressionError("underscores in numbers are not allowed", start, len(token),
                              f"write {token.replace('_', '')}")
    match = _DECIMAL.match(token)
    rest = token[match.end():]
    if rest in ("j", "J"):
        raise ExpressionError(f"complex literals ({token}) are not allowed", start, len(token),
                              f"write {token[:-1]}*{rest} to multiply by a variable {rest}")
    if rest[:1].isalpha() or rest[:1] == "_":
        raise _missing_operator(text, (start, start + match.end()), (start + match.end(), end))
    if rest:
        raise ExpressionError(f"malformed number '{token}'", start, len(token))
    mantissa, exponent = match.group("mantissa"), match.group("exp")
    if len(mantissa.replace(".", "")) > limits.max_int_digits:
        raise ExpressionError(f"number has too many digits (limit {limits.max_int_digits})",
                              start, len(token))
    if exponent is not None:
        digits = exponent.lstrip("+-").lstrip("0") or "0"
        if len(digits) > 9 or int(digits) > limits.max_literal_exponent:
            raise ExpressionError(f"exponent too large (limit {limits.max_literal_exponent})",
                                  start, len(token))
    elif len(token) > 1 and token[0] == "0" and "." not in token:
        plain = token.lstrip("0") or "0"
        message, hint = "leading zeros are not allowed", f"write {plain}"
        if set(token) <= set("01234567") and plain != "0":  # YAML 1.1 octal, e.g. 010 == 8
            message += f": YAML 1.1 would read {token} as octal {int(token, 8)}"
            hint += f" (or {int(token, 8)})"
        raise ExpressionError(message, start, len(token), hint)


def _skip_string(text: str, i: int) -> int:
    """The offset after the string literal starting at i (strings are rejected later)."""
    quote = text[i] * 3 if text.startswith(text[i] * 3, i) else text[i]
    close = text.find(quote, i + len(quote))
    return len(text) if close < 0 else close + len(quote)


def _scan(text: str, limits: Limits) -> None:
    """Token-level checks on the original text before Python sees it.

    Catches bad number literals, juxtaposition ("2x", "x y"), comments,
    backslashes, ':=' and bracket or unary nesting deep enough to strain
    ast.parse.
    """
    too_deep = (f"expression nested too deeply (limit {limits.max_expr_depth} levels; each operator "
                "in a long chain such as a + b + c + ... counts as a level)")
    opens: list[int] = []  # where the operand owning each open bracket starts
    prev: tuple[str, int, int] | None = None  # (kind, operand start, end) of previous token
    unary_run, i = 0, 0
    while i < len(text):
        ch = text[i]
        if ch in _WHITESPACE:
            i += 1
            continue
        operand_end = prev is not None and prev[0] in ("name", "number", "close")
        if ch in "'\"":
            end, kind = _skip_string(text, i), "string"
        elif ch == "#":
            raise ExpressionError("comments ('#') are not allowed", i)
        elif ch == "\\":
            raise ExpressionError("backslashes are not allowed", i)
        elif text.startswith(":=", i):
            raise ExpressionError("assignment expressions (':=') are not allowed", i, 2)
        elif ch.isalpha() or ch == "_":
            end = _NAME.match(text, i).end()
            kind = "keyword" if keyword.iskeyword(text[i:end]) else "name"
        elif ch.isdigit() or (ch == "." and text[i + 1:i + 2].isdigit()):
            end, kind = _RAW_NUMBER.match(text, i).end(), "number"
            _check_number(text, i, end, limits)
        elif ch in "([{":
            end, kind = i + 1, "open"
            opens.append(prev[1] if prev and prev[0] == "name" else i)
            if len(opens) > limits.max_expr_depth:
                raise ExpressionError(too_deep, i)
        elif ch in ")]}":
            end, kind = i + 1, "close"
        else:
            end, kind = i + 1, "op"
        if kind in ("name", "number") and operand_end:
            raise _missing_operator(text, (prev[1], prev[2]), (i, end))
        unary = not operand_end and (ch in "+-~" or text[i:end] == "not")
        unary_run = unary_run + 1 if unary else 0
        if unary_run > limits.max_expr_depth:
            raise ExpressionError(too_deep, i)
        start = opens.pop() if kind == "close" and opens else i
        prev = (kind, start, end)
        i = end


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

    def __init__(self, text: str, limits: Limits):
        self.text, self.limits = text, limits
        parts, self.index = [], []  # self.index[k]: original offset of source[k]
        for i, ch in enumerate(text):
            if ch in _WHITESPACE and not parts:
                continue  # leading whitespace would be an "unexpected indent"
            parts.append("**" if ch == "^" else " " if ch in _WHITESPACE else ch)
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
        deep = _first_too_deep(tree, ast.iter_child_nodes, _counts_for_depth, limit)
        if deep is not None:
            raise self.error(f"expression nested too deeply (limit {limit} levels; each operator in a "
                             "long chain such as a + b + c + ... counts as a level)", deep)
        try:
            node = self.convert(tree.body)
        except RecursionError:  # only reachable with a huge custom max_expr_depth
            raise ExpressionError("expression is too complex", 0, len(self.text)) from None
        if _first_too_deep(node, _children, lambda n: True, limit) is not None:
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
        if type(node) in _BEFORE_SYMBOL:  # point at the '<', 'and', 'if' or '['
            raise self.symbol_error(message, _BEFORE_SYMBOL[type(node)](node).end_col_offset)
        raise self.error(message, node)

    def constant(self, node: ast.Constant) -> Node:
        start, end = self.span(node)
        value, literal = node.value, self.text[start:end]
        if isinstance(value, bool) or value is None:
            raise self.error(f"'{literal}' is not allowed: only numbers and names", node)
        if isinstance(value, (int, float)):
            return _number(literal, start, end)
        kinds = {str: "strings are", bytes: "bytes literals are", complex: "complex literals are"}
        raise self.error(f"{kinds.get(type(value), repr(literal) + ' is')} not allowed", node)

    def name(self, node: ast.Name) -> Node:
        self.check_name(node)
        if node.id in FUNCTIONS:
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
        if name not in FUNCTIONS:
            raise self.error(f"unknown function '{name}'", func, _unknown_function_hint(name))
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                raise self.error("'*' arguments are not allowed", arg)
        self.check_keywords(name, node.keywords)
        low, high = FUNCTIONS[name]
        if not low <= len(node.args) <= high:
            expected = f"{low}" if low == high else f"{low} to {high}"
            plural = "" if expected == "1" else "s"
            raise self.error(f"{name}() takes {expected} argument{plural} "
                             f"({len(node.args)} given)", func)
        args = tuple(self.convert(a) for a in node.args)
        kwargs = tuple((k.arg, self.convert(k.value)) for k in node.keywords)
        return Call(*self.span(node), name, args, kwargs)

    def check_keywords(self, name: str, keywords: list[ast.keyword]) -> None:
        allowed, seen = FUNCTION_KEYWORDS.get(name, frozenset()), set()
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


def _unknown_function_hint(name: str) -> str:
    close = difflib.get_close_matches(name, FUNCTIONS, n=1)
    if close:
        return f"did you mean '{close[0]}'?"
    known = f"known functions: {', '.join(sorted(FUNCTIONS))}"
    return known + (f"; to multiply, write {name}*(...)" if len(name) <= 2 else "")


def _number(literal: str, start: int, end: int) -> Num:
    """An exact Num from a literal already checked by _check_number."""
    match = _DECIMAL.fullmatch(literal)
    if match is None:
        raise ExpressionError(f"malformed number '{literal}'", start, end - start)
    whole, _, fraction = match.group("mantissa").partition(".")
    exponent = int(match.group("exp") or 0) - len(fraction)
    digits = int(whole + fraction or "0")
    if exponent >= 0:
        value = sympy.Integer(digits * 10**exponent)
    else:
        value = sympy.Rational(digits, 10**-exponent)
    return Num(start, end, value, "." in literal or match.group("exp") is not None, literal)


def parse(text: str, limits: Limits = DEFAULT) -> Node:
    """Parse untrusted expression text; raise ExpressionError for anything not accepted."""
    if not text.strip(_WHITESPACE):
        raise ExpressionError("empty expression", 0, max(1, len(text)))
    if len(text) > limits.max_expr_length:
        raise ExpressionError(f"expression is too long ({len(text)} characters, limit "
                              f"{limits.max_expr_length})", limits.max_expr_length)
    _check_characters(text)
    _scan(text, limits)
    return _Converter(text, limits).parse()
