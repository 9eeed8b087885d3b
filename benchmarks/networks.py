"""Sigmoid MLPs with exact weights, as exercise files and as one SymPy expression.

Every layer is ``z = W a + b`` followed by a sigmoid, and the loss is
``sum((a_L - y)**2)``.  Weights, biases, the input and the target are exact
fractions k/10 from a seeded ``random.Random``, so every run builds the same
networks.  The naive route builds the whole loss as one SymPy expression with
a Symbol for every weight and bias entry and calls ``sympy.diff`` once per
parameter, then substitutes the parameters' values.
"""

from __future__ import annotations

import random
import signal
import time
from fractions import Fraction

import sympy as sp

SEED = 2024


def network(sizes: tuple[int, ...], seed: int = SEED):
    """(layers [(W, b)], x, y) with entries k/10, k in -5..5 and k != 0 for W and b."""
    rng = random.Random(seed + len(sizes) * 1000 + sum(sizes))

    def entry():
        return Fraction(rng.choice([k for k in range(-5, 6) if k]), 10)

    layers = []
    for n_in, n_out in zip(sizes, sizes[1:]):
        layers.append(([[entry() for _ in range(n_in)] for _ in range(n_out)], [entry() for _ in range(n_out)]))
    x = [Fraction(rng.randint(1, 9), 10) for _ in range(sizes[0])]
    y = [Fraction(rng.randint(1, 9), 10) for _ in range(sizes[-1])]
    return layers, x, y


def parameters(sizes: tuple[int, ...]) -> int:
    return sum(n_out * (n_in + 1) for n_in, n_out in zip(sizes, sizes[1:]))


def _num(q: Fraction) -> str:
    return str(q.numerator) if q.denominator == 1 else f'"{q.numerator}/{q.denominator}"'


def exercise_yaml(sizes, layers, x, y) -> str:
    """The network as a teacher writes it: tensors in flow style, one step per line, every gradient asked."""
    lines = ["backprop: 1", f"id: mlp-{'-'.join(map(str, sizes))}", "given:",
             f"  x: [{', '.join(map(_num, x))}]", f"  y: [{', '.join(map(_num, y))}]"]
    for i, (W, b) in enumerate(layers, start=1):
        lines.append(f"  W{i}: [{', '.join('[' + ', '.join(map(_num, row)) + ']' for row in W)}]")
        lines.append(f"  b{i}: [{', '.join(map(_num, b))}]")
    lines.append("steps:")
    a = "x"
    for i in range(1, len(layers) + 1):
        lines += [f"  z{i}: W{i} @ {a} + b{i}", f"  a{i}: sigmoid(z{i})"]
        a = f"a{i}"
    lines.append(f"  loss: sum(({a} - y)**2)")
    names = [f"{p}{i}" for i in range(1, len(layers) + 1) for p in ("W", "b")]
    lines.append("ask: [" + ", ".join(f"dloss/d{n}" for n in names) + "]")
    return "\n".join(lines) + "\n"


class OutOfTime(Exception):
    pass


def _alarm(signum, frame):
    raise OutOfTime


def naive_gradients(layers, x, y, budget: float):
    """sympy.diff of the whole loss for each parameter, within ``budget`` seconds of CPU time.

    Returns (seconds, {(name, row, col): value} done, number of parameters); the
    parameters are done in a seeded random order, so a partial run is a fair sample.
    """
    params = []
    for i, (W, b) in enumerate(layers, start=1):
        params += [(f"W{i}", r, c, sp.Symbol(f"W{i}_{r}_{c}"), sp.Rational(v.numerator, v.denominator))
                   for r, row in enumerate(W) for c, v in enumerate(row)]
        params += [(f"b{i}", r, 0, sp.Symbol(f"b{i}_{r}"), sp.Rational(v.numerator, v.denominator))
                   for r, v in enumerate(b)]
    symbol = {(name, r, c): s for name, r, c, s, _ in params}
    values = {s: v for _, _, _, s, v in params}
    order = list(range(len(params)))
    random.Random(SEED).shuffle(order)
    done = {}
    old = signal.signal(signal.SIGPROF, _alarm)  # CPU time: a busy machine does not shrink the budget
    start = time.perf_counter()
    signal.setitimer(signal.ITIMER_PROF, budget)
    try:
        a = [sp.Rational(v.numerator, v.denominator) for v in x]
        for i, (W, b) in enumerate(layers, start=1):
            a = [1 / (1 + sp.exp(-(sum(symbol[(f"W{i}", r, c)] * a[c] for c in range(len(a)))
                                   + symbol[(f"b{i}", r, 0)]))) for r in range(len(W))]
        loss = sum((a_k - sp.Rational(t.numerator, t.denominator)) ** 2 for a_k, t in zip(a, y))
        for k in order:
            name, r, c, s, _ = params[k]
            done[(name, r, c)] = sp.diff(loss, s).subs(values)
    except OutOfTime:
        pass
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, old)
    return time.perf_counter() - start, done, len(params)
