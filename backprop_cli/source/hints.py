"""Hints for what people really type: blackboard notation, NumPy, and typos.

A student writes ``σ(0)``, ``ln(2)``, ``e^-1``, ``0,5`` or ``np.array([[1, 2]])``;
an author writes ``tahn(z)``.  Each is refused (the language stays small), but the
hint says what to write instead, in the student's own expression where it can.
Nothing here evaluates anything: hints are built from the text and the syntax tree.
"""

from __future__ import annotations

import ast
import difflib
import re
from typing import Iterable

from backprop_cli.source.syntax import Binary, Name, Node, unparse, walk

# Symbols from the blackboard, and the words the language uses for them.
# (Operator look-alikes such as − and × get "did you mean '-'?" from the scanner instead.)
SYMBOLS = {"σ": "sigmoid", "π": "pi", "√": "sqrt", "Σ": "sum", "∑": "sum", "⊙": "*", "∂": "d",
           "ᵀ": ".T", "²": "**2", "³": "**3", "ℯ": "exp(1)"}
# Function names from other languages and textbooks: (the name here, what to add).
FUNCTION_ALIASES = {
    "ln": ("log", "log is the natural logarithm"),
    "sig": ("sigmoid", None), "logistic": ("sigmoid", None), "expit": ("sigmoid", None),
    "ReLU": ("relu", None), "Relu": ("relu", None), "RELU": ("relu", None),
    "arctan": (None, "there is no arctan; the functions are listed in docs/format.md"),
    "transpose": ("transpose", None),
}
# Calls that build an array in NumPy, PyTorch or SymPy: an answer is a YAML list instead.
ARRAY_CALLS = {"array", "asarray", "tensor", "matrix", "Matrix", "mat", "np.array", "numpy.array",
               "torch.tensor", "np.asarray", "sympy.Matrix", "sp.Matrix", "np.matrix"}
_DECIMAL_COMMA = re.compile(r"\s*(-?\d+),(\d+)\s*")


def symbol_hint(text: str, index: int) -> str | None:
    """For a blackboard symbol at ``index``: 'write sigmoid(0)' (the text with it replaced)."""
    word = SYMBOLS.get(text[index])
    if word is None:
        return None
    fixed = text.replace(text[index], word).strip()
    if len(fixed) <= 60 and fixed.isascii():
        return f"write {fixed}"
    return f"write {word} instead of {text[index]}"


def distance(a: str, b: str) -> int:
    """Edits from a to b, a swap of neighbours counting as one (tahn -> tanh is 1)."""
    rows = [list(range(len(b) + 1))]
    for i, ca in enumerate(a, 1):
        row = [i]
        for j, cb in enumerate(b, 1):
            best = min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                best = min(best, rows[-2][j - 2] + 1)
            row.append(best)
        rows.append(row)
    return rows[-1][-1]


def closest(name: str, candidates: Iterable[str]) -> str | None:
    """The candidate a typo most likely meant: fewest edits, then the same letters (tahn is
    tanh, not tan), then the same length; None when nothing is close."""
    scored = []
    for candidate in candidates:
        d = distance(name.lower(), candidate.lower())
        shortest = min(len(name), len(candidate))
        if d <= (max(1, shortest // 3) if shortest >= 3 else 0):  # 'v' does not mean 'x'
            scored.append((d, sorted(name.lower()) != sorted(candidate.lower()),
                           abs(len(name) - len(candidate)), candidate))
    return min(scored)[3] if scored else None


def function_hint(name: str, call_text: str, known: Iterable[str]) -> str | None:
    """For an unknown function: 'write log(2) (log is the natural logarithm)', 'did you mean ...'."""
    if name in FUNCTION_ALIASES:
        replacement, why = FUNCTION_ALIASES[name]
        if replacement is None:
            return why
        fixed = replacement + call_text[len(name):]
        return f"write {fixed}" + (f" ({why})" if why else "")
    known = list(known)
    close = closest(name, known) or next(iter(difflib.get_close_matches(name, known, n=1)), None)
    return f"did you mean '{close}'?" if close else None


def array_hint(func: str, call: ast.Call, source: str) -> str | None:
    """For ``np.array([[7, 7], [4, 9]])``: 'write a YAML list: [[7, 7], [4, 9]]'."""
    if func not in ARRAY_CALLS or len(call.args) != 1 or not isinstance(call.args[0], ast.List):
        return None
    return f"write a YAML list: {_list_text(call.args[0], source)}"


def _list_text(node: ast.AST, source: str) -> str:
    if isinstance(node, (ast.List, ast.Tuple)):
        return "[" + ", ".join(_list_text(e, source) for e in node.elts) + "]"
    return (ast.get_source_segment(source, node) or "?").strip()


def dotted_name(node: ast.AST) -> str | None:
    """'np.array' for the callee of np.array(...); None for anything but names and dots."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    return ".".join([node.id] + parts[::-1])


def decimal_comma(text: str) -> str | None:
    """'use a decimal point: 0.5' for '0,5' (a number written with a decimal comma)."""
    m = _DECIMAL_COMMA.fullmatch(text)
    return f"use a decimal point: {m[1]}.{m[2]}" if m else None


def e_hint(tree: Node, name: Name) -> str | None:
    """For the name 'e' (Euler's number): 'write exp(-1)' for e**-1 (or e^-1), else exp(1)."""
    if name.id != "e":
        return None
    for node in walk(tree):
        if isinstance(node, Binary) and node.op == "**" and node.left is name:
            return f"write exp({unparse(node.right)})"
    return "write exp(1) for Euler's number e"
