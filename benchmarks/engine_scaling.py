"""How the engine's cost grows with the size of a network, against naive symbolic differentiation.

For each MLP (sigmoid layers, squared loss summed to a scalar, exact weights k/10 from a
seeded random.Random) two routes compute every dloss/dW and dloss/db exactly:

- engine: the network is written as an exercise (YAML text in a temporary file, the way a
  teacher writes it), read with ``load_exercise`` and solved with ``Solution``: one forward
  pass and one backward pass over whole tensors, exact SymPy entries.  The time covers
  reading the file, the forward pass and the backward pass.
- naive: the whole loss is built as one SymPy expression in which every weight and bias
  entry is a Symbol (the input and the target are numbers), then ``sympy.diff`` is called
  for each parameter and the parameters' values are substituted into the derivative.

Both routes stop at exact values: neither turns them into decimals.  The naive route runs
under a time budget per size (--budget, default 30 s).  It differentiates the parameters in
a seeded random order; if the budget runs out first, the remaining parameters are not done
and its time is extrapolated: build time + (mean time per parameter done) * (all
parameters), marked "extrapolated from k/N".  A size whose expression alone takes longer
than the budget to build, or whose first derivative does not finish within the budget, is
"skipped (> budget)".  The engine is always run in full.

Where both routes finished (or at least the parameters the naive route did), a few entries
are compared at 30 digits so that the table compares two ways of computing the same thing.

There are no assertions on time.  Run:  python benchmarks/engine_scaling.py [--budget 30]
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import sys
import tempfile
import time
from fractions import Fraction

import mpmath
import sympy as sp

from backprop_cli.exercise.load import load_exercise
from backprop_cli.autodiff.numbers import approx
from backprop_cli.grading.solver import Solution
from backprop_cli.exercise.keys import GradKey

SIZES = [(2, 4, 1), (2, 8, 1), (4, 8, 8, 2), (4, 16, 16, 2), (8, 32, 32, 4)]
SEED = 2024


class OutOfTime(Exception):
    pass


def _alarm(signum, frame):
    raise OutOfTime


def network(sizes, seed=SEED):
    """Deterministic exact parameters: weights and biases k/10 with k in -5..5, k != 0."""
    rng = random.Random(seed + len(sizes) * 1000 + sum(sizes))

    def entry():
        return Fraction(rng.choice([k for k in range(-5, 6) if k]), 10)

    layers = []
    for n_in, n_out in zip(sizes, sizes[1:]):
        W = [[entry() for _ in range(n_in)] for _ in range(n_out)]
        b = [entry() for _ in range(n_out)]
        layers.append((W, b))
    x = [Fraction(rng.randint(1, 9), 10) for _ in range(sizes[0])]
    y = [Fraction(rng.randint(1, 9), 10) for _ in range(sizes[-1])]
    return layers, x, y


def _num(q: Fraction) -> str:
    return str(q.numerator) if q.denominator == 1 else f'"{q.numerator}/{q.denominator}"'


def exercise_yaml(sizes, layers, x, y) -> str:
    lines = ["backprop: 1", f"id: mlp-{'-'.join(map(str, sizes))}", "given:",
             f"  x: [{', '.join(map(_num, x))}]", f"  y: [{', '.join(map(_num, y))}]"]
    for i, (W, b) in enumerate(layers, start=1):
        rows = ", ".join("[" + ", ".join(map(_num, row)) + "]" for row in W)
        lines.append(f"  W{i}: [{rows}]")
        lines.append(f"  b{i}: [{', '.join(map(_num, b))}]")
    lines.append("steps:")
    a = "x"
    for i in range(1, len(layers) + 1):
        lines.append(f"  z{i}: W{i} @ {a} + b{i}")
        lines.append(f"  a{i}: sigmoid(z{i})")
        a = f"a{i}"
    lines.append(f"  loss: sum(({a} - y)**2)")
    names = [f"{p}{i}" for i in range(1, len(layers) + 1) for p in ("W", "b")]
    lines.append("ask: [" + ", ".join(f"dloss/d{n}" for n in names) + "]")
    return "\n".join(lines) + "\n"


def run_engine(sizes, layers, x, y):
    """(total seconds, seconds to read + forward, every gradient by parameter name)."""
    text = exercise_yaml(sizes, layers, x, y)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "net.yaml")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        start = time.perf_counter()
        exercise = load_exercise(path)  # parses, builds the graph, runs the forward pass
        loaded = time.perf_counter() - start
        solution = Solution(exercise)
        grads = {str(a.key.wrt): solution.expected(a.key) for a in exercise.asks
                 if isinstance(a.key, GradKey)}
        seconds = time.perf_counter() - start
    return seconds, loaded, grads


def naive_params(layers):
    """(name, row, col, Symbol, exact value) for every weight and bias entry."""
    params = []
    for i, (W, b) in enumerate(layers, start=1):
        for r, row in enumerate(W):
            for c, v in enumerate(row):
                params.append((f"W{i}", r, c, sp.Symbol(f"W{i}_{r}_{c}"), sp.Rational(v.numerator, v.denominator)))
        for r, v in enumerate(b):
            params.append((f"b{i}", r, 0, sp.Symbol(f"b{i}_{r}"), sp.Rational(v.numerator, v.denominator)))
    return params


def naive_loss(layers, x, y, params):
    symbol = {(name, r, c): s for name, r, c, s, _ in params}
    a = [sp.Rational(v.numerator, v.denominator) for v in x]
    for i, (W, b) in enumerate(layers, start=1):
        a = [1 / (1 + sp.exp(-(sum(symbol[(f"W{i}", r, c)] * a[c] for c in range(len(a)))
                               + symbol[(f"b{i}", r, 0)])))
             for r in range(len(W))]
    return sum((a_k - sp.Rational(t.numerator, t.denominator)) ** 2 for a_k, t in zip(a, y))


def run_naive(layers, x, y, budget: float):
    """(seconds or None, how many parameters were done, total, derivatives done, note)."""
    params = naive_params(layers)
    values = {s: v for _, _, _, s, v in params}
    order = list(range(len(params)))
    random.Random(SEED).shuffle(order)
    done: dict[tuple, sp.Expr] = {}
    old = signal.signal(signal.SIGALRM, _alarm)
    start = time.perf_counter()
    built = None
    signal.setitimer(signal.ITIMER_REAL, budget)
    try:
        loss = naive_loss(layers, x, y, params)
        built = time.perf_counter() - start
        for k in order:
            name, r, c, s, _ = params[k]
            done[(name, r, c)] = sp.diff(loss, s).subs(values)
    except OutOfTime:
        pass
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    elapsed = time.perf_counter() - start
    total = len(params)
    if len(done) == total:
        return elapsed, len(done), total, done, "all parameters"
    if not done:
        why = "building the loss" if built is None else f"loss built in {built:.1f} s, first derivative"
        return None, 0, total, done, f"skipped (> {budget:g} s; {why} unfinished)"
    per = (elapsed - built) / len(done)
    return built + per * total, len(done), total, done, f"extrapolated from {len(done)}/{total}"


def spot_check(engine_grads, naive_done, limit=3, budget=20.0):
    """Compare a few entries both routes computed, at 30 digits; 'n/a' if none or too slow."""
    keys = list(naive_done)[:limit]
    if not keys:
        return "n/a"
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, budget)
    try:
        for name, r, c in keys:
            # approx evaluates shared subexpressions once (SymPy's N walks both deep forms as
            # trees); it is checked against N itself in tests/test_numbers.py.
            a = approx(engine_grads[name][r, c], 35)
            b = approx(naive_done[(name, r, c)], 35)
            if abs(a - b) > mpmath.mpf(10) ** -30 * max(1, abs(b)):
                return f"MISMATCH at {name}[{r + 1},{c + 1}]: {a} vs {b}"
    except OutOfTime:
        return f"not compared (> {budget:g} s to evaluate)"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    return f"{len(keys)} entries agree"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=30.0,
                        help="seconds the naive route may spend per size (default 30)")
    parser.add_argument("--sizes", nargs="*", default=None,
                        help="sizes such as 2-4-1 4-8-8-2 (default: the standard five)")
    args = parser.parse_args(argv)
    sizes = [tuple(int(n) for n in s.split("-")) for s in args.sizes] if args.sizes else SIZES

    print(f"Engine vs naive sympy.diff, exact gradients of a summed squared loss "
          f"(naive budget {args.budget:g} s per size)")
    print(f"python {sys.version.split()[0]}, sympy {sp.__version__}\n")
    header = (f"{'network':<12} {'params':>6} {'engine s':>9} {'(fwd':>7} {'bwd)':>6} {'s/param':>8} "
              f"{'naive s':>9} {'naive/engine':>12}  naive route; check")
    print(header)
    print("-" * len(header))
    rows = []
    for size in sizes:
        layers, x, y = network(size)
        engine_s, forward_s, grads = run_engine(size, layers, x, y)
        naive_s, n_done, total, done, note = run_naive(layers, x, y, args.budget)
        check = spot_check(grads, done)
        ratio = f"{naive_s / engine_s:12.1f}" if naive_s is not None else f"{'-':>12}"
        naive_text = f"{naive_s:9.3f}" if naive_s is not None else f"{'-':>9}"
        print(f"{'-'.join(map(str, size)):<12} {total:>6} {engine_s:9.3f} {forward_s:7.2f} "
              f"{engine_s - forward_s:6.2f} {engine_s / total:8.4f} "
              f"{naive_text} {ratio}  {note}; {check}", flush=True)
        rows.append((size, total, engine_s))
    if len(rows) >= 2:
        (s0, p0, t0), (s1, p1, t1) = rows[0], rows[-1]
        print(f"\nFrom {'-'.join(map(str, s0))} to {'-'.join(map(str, s1))}: parameters x{p1 / p0:.1f}, "
              f"engine time x{t1 / t0:.1f}.")
    print("engine s = read the YAML + forward pass (fwd) + backward pass (bwd); "
          "naive s = build the loss + diff and subs for every parameter.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
