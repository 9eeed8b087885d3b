"""Token-level checks on expression text, before Python's parser sees it.

Bad number literals (``0x1F``, ``010``, ``1_000``, ``2x``), juxtaposition
(``x y``), comments, backslashes and nesting deep enough to strain
:func:`ast.parse` are refused here with the column and a hint; number
literals are turned into exact rationals here too.
"""

from __future__ import annotations

import keyword
import re
import unicodedata

import sympy

from backprop_cli.source.errors import ExpressionError
from backprop_cli.source.hints import symbol_hint
from backprop_cli.source.limits import Limits
from backprop_cli.source.syntax import Num

WHITESPACE = " \t\n\r\f\v"
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# A number-like token as Python's tokenizer would start it ("2x", "0x1F", "1e-3", "1_000").
_RAW_NUMBER = re.compile(r"(?:[0-9A-Za-z_.]|(?<=[0-9.][eE])[+-](?=[0-9]))+")
_DECIMAL = re.compile(r"(?P<mantissa>[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE](?P<exp>[+-]?[0-9]+))?")
_PREFIXED = {"0x": ("hexadecimal", r"0[xX][0-9a-fA-F_]+"), "0o": ("octal", r"0[oO][0-7_]+"),
             "0b": ("binary", r"0[bB][01_]+")}
_LOOKALIKES = {"\u2212": "-", "\u2013": "-", "\u00d7": "*", "\u00b7": "*", "\u22c5": "*"}


def check_characters(text: str) -> None:
    for i, ch in enumerate(text):
        if ord(ch) > 127:
            name = unicodedata.name(ch, "unnamed character")
            plain = _LOOKALIKES.get(ch) or unicodedata.normalize("NFKC", ch)
            hint = symbol_hint(text, i) or (f"did you mean '{plain}'?" if plain.isascii() and plain.strip()
                                            else "delete it (it may be invisible)")
            raise ExpressionError(f"non-ASCII character U+{ord(ch):04X} ({name}) at column {i + 1}",
                                  i, 1, hint)
        if (ch < " " and ch not in WHITESPACE) or ch == "\x7f":
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


def check_number(text: str, start: int, end: int, limits: Limits) -> None:
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


def scan(text: str, limits: Limits) -> None:
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
        if ch in WHITESPACE:
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
            check_number(text, i, end, limits)
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


def number(literal: str, start: int, end: int) -> Num:
    """An exact Num from a literal already checked by check_number."""
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

