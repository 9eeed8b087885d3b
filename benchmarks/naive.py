"""The baseline: a grader as a teacher might write it with SymPy, one file at a time.

For each file: read the YAML, compose the steps into SymPy expressions,
substitute the givens first to get the values, differentiate with
``sympy.diff`` for each gradient asked, read each answer with ``sympify``,
compare, and print the results as JSON.  It is the benchmark's yardstick, run
only on files the benchmark wrote itself; backprop never reads text this way
(``sympify`` evaluates what it reads).

    python -m benchmarks.naive FILE...
"""

from __future__ import annotations

import json
import sys

import sympy as sp
import yaml


def sigmoid(z):
    return 1 / (1 + sp.exp(-z))


def grade(path: str) -> dict:
    with open(path, encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    symbols = {name: sp.Symbol(name) for name in [*doc["given"], *doc["steps"]]}
    names = {**symbols, "sigmoid": sigmoid, "exp": sp.exp, "log": sp.log, "tanh": sp.tanh}
    given = {symbols[name]: sp.nsimplify(str(value)) for name, value in doc["given"].items()}
    steps = {name: sp.sympify(str(text), locals=names) for name, text in doc["steps"].items()}
    values = dict(given)
    for name, expr in steps.items():
        values[symbols[name]] = expr.subs(values)

    def expected(key: str):
        if "/" not in key:
            return values[symbols[key]]
        of, wrt = key[1:].split("/d", 1)
        expr = symbols[of]
        for name in reversed(steps):  # write `of` over `wrt` and the givens
            if name != wrt:
                expr = expr.subs(symbols[name], steps[name])
        return sp.diff(expr, symbols[wrt]).subs(values)

    items = []
    for key in doc["ask"]:
        right = expected(key)
        answer = doc.get("answers", {}).get(key)
        status = "missing"
        if answer is not None:
            value = sp.sympify(str(answer), locals=names).subs(given)
            close = abs(sp.N(value - right)) <= 1e-9 + 1e-3 * abs(sp.N(right))
            status = "correct" if value == right or close else "incorrect"
        items.append({"key": key, "status": status, "expected": str(right)})
    return {"file": path, "items": items}


def main(paths: list[str]) -> int:
    print(json.dumps([grade(path) for path in paths], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
