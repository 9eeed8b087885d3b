"""Coverage-guided fuzzing of the expression parser with atheris (optional; not part of the suite).

Run it from the project root:

    pip install atheris
    python fuzz/fuzz_parse.py                       # runs until stopped (Ctrl-C) or a crash
    python fuzz/fuzz_parse.py -runs=200000          # a bounded run
    python fuzz/fuzz_parse.py -max_len=4096 corpus/ # keep interesting inputs in corpus/

The property: ``backprop_cli.source.expr.parse`` returns an inert tree whose nodes are all on the
whitelist (named functions, names not starting with '_', + - * / ** @, exact rationals),
at most ``max_expr_depth`` deep, with positions inside the text -- or raises
``ExpressionError`` with an offset inside the text.  Any other exception, or a tree that
breaks the whitelist, is a finding: atheris stops and writes the input to crash-<hash>.

This file is not collected by pytest (its name does not start with test_, and pytest's
testpaths is tests/); the tests never import it.
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports():
    from backprop_cli.autodiff.registry import FUNCTIONS
    from backprop_cli.exercise.reading import parse_expression
    from backprop_cli.source import expr
    from backprop_cli.source.errors import ExpressionError
    from backprop_cli.source.limits import DEFAULT

BINARY_OPS = {"+", "-", "*", "/", "**", "@"}


def _children(node):
    if isinstance(node, expr.Neg):
        return (node.operand,)
    if isinstance(node, expr.Binary):
        return (node.left, node.right)
    if isinstance(node, expr.Call):
        return node.args + tuple(value for _, value in node.kwargs)
    return ()


def check(text: str) -> None:
    try:
        tree = parse_expression(text)
    except ExpressionError as err:
        if not 0 <= err.offset <= len(text):
            raise AssertionError(f"error offset {err.offset} outside the text: {text!r}")
        return
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > DEFAULT.max_expr_depth:
            raise AssertionError(f"tree deeper than {DEFAULT.max_expr_depth}: {text!r}")
        if not 0 <= node.start <= node.end <= len(text):
            raise AssertionError(f"span outside the text: {node!r} in {text!r}")
        if isinstance(node, expr.Name):
            if node.id.startswith("_") or not node.id.isascii():
                raise AssertionError(f"name off the whitelist: {node.id!r} in {text!r}")
        elif isinstance(node, expr.Call):
            if node.func not in FUNCTIONS:
                raise AssertionError(f"call off the whitelist: {node.func!r} in {text!r}")
        elif isinstance(node, expr.Binary):
            if node.op not in BINARY_OPS:
                raise AssertionError(f"operator off the whitelist: {node.op!r} in {text!r}")
        elif not isinstance(node, (expr.Num, expr.Neg)):
            raise AssertionError(f"node off the whitelist: {node!r} in {text!r}")
        stack.extend((child, depth + 1) for child in _children(node))


def test_one_input(data: bytes) -> None:
    provider = atheris.FuzzedDataProvider(data)
    check(provider.ConsumeUnicodeNoSurrogates(len(data)))


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
