"""What a wrong or missing answer is told beyond its verdict.

How close a decimal answer is ("off by 2%"), a tolerance as people write it
(``1e-3``, not ``1/1000``), and which asked key a student meant by a key that
is not asked (``dloss/dW`` for ``dloss/dw``).
"""

from __future__ import annotations

import sympy as sp

from backprop_cli.autodiff.numbers import approx, decimal_text, equal
from backprop_cli.autodiff.tensor import Value, is_tensor, shape
from backprop_cli.source.hints import closest, distance


def near_misses(missing: list[str], written: list[str]) -> dict[str, str]:
    """For missing keys, the not-asked keys the student most likely meant by them
    (dloss/dW for dloss/dw); each written key is matched to one missing key at most."""
    pairs = []
    for label in missing:
        for text in written:
            if text.lower() == label.lower():
                pairs.append(((0, 0, 0), label, text))
            elif closest(text, [label]) == label:
                pairs.append(((1, distance(text.lower(), label.lower()), abs(len(text) - len(label))),
                              label, text))
    found: dict[str, str] = {}
    for _, label, text in sorted(pairs):
        if label not in found and text not in found.values():
            found[label] = text
    return found


CLOSE = 0.05  # a decimal answer this close (relative) is said to be close, and how close


def how_close(grid, expected: Value) -> str | None:
    """'off by 2%' when every wrong entry is a decimal within 5% of its right value; else None."""
    if (len(grid), len(grid[0])) != (shape(expected) or (1, 1)):
        return None
    worst = 0.0
    for i, row in enumerate(grid):
        for j, answer in enumerate(row):
            right = expected[i, j] if is_tensor(expected) else expected
            if equal(answer.value, right):
                continue
            if not answer.decimal:
                return None
            size = abs(float(approx(right, 20)))
            if size == 0:
                return None
            worst = max(worst, abs(float(approx(answer.value - right, 20))) / size)
    if not 0 < worst < CLOSE:
        return None
    percent = worst * 100
    return f"off by {percent:.1g}%" if percent < 1 else f"off by {percent:.0f}%"


def tolerance_text(value: sp.Expr) -> str:
    """1e-3 for 1/1000; other tolerances as decimals."""
    if value.is_Rational and value.p == 1 and value.q > 1:
        k = len(str(value.q)) - 1
        if value.q == 10**k:
            return f"1e-{k}"
    return decimal_text(value, 6)
