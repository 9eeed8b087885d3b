"""Proving the answer key three ways: the engine, ``sympy.diff``, and finite differences.

For every asked gradient dA/dB, entry by entry:

* **the engine**: the exact backward pass that grading uses;
* **sympy.diff**: the forward pass run over symbols (one per entry of every
  given, built by our own engine from the parsed steps, never from text)
  composes A as a SymPy expression; SymPy differentiates it and the result is
  evaluated at the given values.  A gradient with respect to a step B holds B
  as symbols of its own.  Bounded: skipped with a note when the composed
  expression is larger than ``limits.proof_max_nodes`` or the leg runs out of
  its ``limits.proof_seconds``;
* **finite differences**: (f(x + h) - f(x - h)) / 2h of the engine's own
  forward rules in double precision (53-bit floats), as in CS231n's gradient
  check.  They agree with the engine when the relative error
  |a - b| / max(|a|, |b|) is at most 1e-5, or when both are near zero.

A key whose path crosses a kink (relu at 0, a max tie) is not compared: there
the three legitimately differ, and :mod:`.lint` warns about the kink instead.
"""

from __future__ import annotations

import signal
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass

import mpmath
import numpy as np
import sympy as sp

from backprop_cli.authoring.findings import Code, Finding, error
from backprop_cli.authoring.lint import kinks, node_words
from backprop_cli.autodiff.engine import Values, forward
from backprop_cli.autodiff.graph import Node, Role
from backprop_cli.autodiff.numbers import approx, is_short
from backprop_cli.autodiff.tensor import Value, as_scalar, is_tensor
from backprop_cli.exercise.keys import GradKey
from backprop_cli.exercise.model import Exercise
from backprop_cli.grading.solver import Solution
from backprop_cli.source.errors import BackpropError, Where
from backprop_cli.source.limits import DEFAULT, Limits

STEP = 1e-5  # h, times max(1, |x|)
RELATIVE = 1e-5  # CS231n's relative error above which finite differences disagree
NEAR_ZERO = 1e-8  # an absolute difference below this (times max(1, |f|)) always agrees
DIGITS = 30  # the engine's and sympy.diff's values are compared at this precision
_EXACT_AGREE = mpmath.mpf(10) ** -20


class OutOfTime(BaseException):
    """A leg's time is up (a BaseException, so that no ``except Exception`` swallows it)."""


class Clock:
    """One leg's time budget, spent across keys; each run is cut off when it is used up."""

    def __init__(self, seconds: float) -> None:
        self.left = seconds

    @contextmanager
    def running(self):
        if self.left <= 0:
            raise OutOfTime
        start = time.monotonic()
        try:
            with _alarm(self.left):
                yield
        finally:
            self.left -= time.monotonic() - start


@contextmanager
def _alarm(seconds: float):
    """Interrupt the block after ``seconds`` (a timer signal; only in the main thread)."""
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield  # no interruption: the clock still stops the next key from starting
        return

    def ring(signum, frame):
        raise OutOfTime

    previous = signal.signal(signal.SIGALRM, ring)
    start = time.monotonic()
    outer, interval = signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer > 0:  # someone else's timer was running: give it back what is left of it
            signal.setitimer(signal.ITIMER_REAL, max(outer - (time.monotonic() - start), 1e-3), interval)


class _Skip(Exception):
    """A leg cannot be run for this key; the message says why."""


@dataclass(frozen=True)
class EntryCheck:
    index: tuple[int, int] | None  # 1-based row and column in a tensor; None for a number
    engine: float
    sympy: float | None  # None when that leg was skipped
    finite_difference: float | None
    relative_error: float | None  # of the engine against finite differences
    agrees: bool


@dataclass(frozen=True)
class KeyProof:
    key: str
    where: Where
    entries: tuple[EntryCheck, ...]
    notes: tuple[str, ...] = ()
    compared: bool = True  # False at a kink

    @property
    def agrees(self) -> bool:
        return all(e.agrees for e in self.entries)

    @property
    def legs(self) -> list[str]:
        """The checks that ran beside the engine."""
        legs = ["sympy.diff"] if any(e.sympy is not None for e in self.entries) else []
        return legs + (["finite differences"] if any(e.finite_difference is not None
                                                      for e in self.entries) else [])


def _entry(value: Value, index: tuple) -> sp.Expr:
    return value[index] if is_tensor(value) else value


def _with_entry(value: Value, index: tuple, entry: sp.Expr) -> Value:
    if not is_tensor(value):
        return entry
    out = value.copy()
    out[index] = entry
    return out


def _indices(value: Value, most: int) -> list[tuple]:
    """Every entry's index, or ``most`` of them spread evenly over the tensor."""
    every = list(np.ndindex(*value.shape)) if is_tensor(value) else [()]
    if len(every) <= most:
        return every
    return [every[i * len(every) // most] for i in range(most)]


def _objective(exercise: Exercise, of: str, values: Values) -> sp.Expr:
    """The scalar differentiated: a step, or the outside loss (linear in the output, with the
    upstream gradient as its coefficients)."""
    up = exercise.upstream
    if up is not None and of == up.name:
        out = values[exercise.output]
        return sp.Add(*(_entry(up.value, i) * _entry(out, i)
                        for i in (np.ndindex(*out.shape) if is_tensor(out) else [()])))
    return as_scalar(values[exercise.node(of)])


def _double(value: Value) -> Value:
    """A value rounded to double precision, as 53-bit SymPy floats the op table can take."""
    def one(e):
        return sp.Float(float(e) if e.is_Rational else float(approx(e, 20)), precision=53)
    if is_tensor(value):
        return np.vectorize(one, otypes=[object])(value)
    return one(value)


class _FiniteDifferences:
    def __init__(self, exercise: Exercise, limits: Limits) -> None:
        self.exercise, self.limits = exercise, limits
        self.given = {name: _double(v) for name, v in exercise.given.items()}
        self.values = forward(exercise.graph, self.given, limits)

    def scale(self, key: GradKey) -> float:
        return max(1.0, abs(float(_objective(self.exercise, key.of, self.values))))

    def gradient(self, key: GradKey, node: Node, indices: list[tuple]) -> list[float]:
        base = self.values[node]
        out = []
        for index in indices:
            x = float(_entry(base, index))
            h = STEP * max(1.0, abs(x))
            sides = []
            for moved in (x + h, x - h):
                value = _with_entry(base, index, sp.Float(moved, precision=53))
                try:
                    if node.role is Role.GIVEN:
                        values = forward(self.exercise.graph, {**self.given, node.name: value}, self.limits)
                    else:
                        values = forward(self.exercise.graph, self.given, self.limits, fixed={node: value})
                except BackpropError as err:
                    raise _Skip(f"finite differences leave the domain: {err.problems[0].message}") from None
                sides.append(float(_objective(self.exercise, key.of, values)))
            out.append((sides[0] - sides[1]) / ((x + h) - (x - h)))
        return out


class _SympyDiff:
    def __init__(self, exercise: Exercise, limits: Limits) -> None:
        self.exercise, self.limits = exercise, limits
        self.symbols: dict[str, Value] = {}
        self.point: dict[sp.Symbol, sp.Expr] = {}
        for name, value in exercise.given.items():
            self.symbols[name] = self._symbols(name, value)
        self.values = forward(exercise.graph, self.symbols, limits)

    def _symbols(self, name: str, value: Value) -> Value:
        """One real symbol per entry, remembered with the entry's exact value."""
        if not is_tensor(value):
            symbol = sp.Dummy(name, real=True)
            self.point[symbol] = value
            return symbol
        out = np.empty(value.shape, dtype=object)
        for i, j in np.ndindex(*value.shape):
            out[i, j] = sp.Dummy(f"{name}[{i + 1},{j + 1}]", real=True)
            self.point[out[i, j]] = value[i, j]
        return out

    def gradient(self, key: GradKey, node: Node, indices: list[tuple]) -> list[mpmath.mpf]:
        if node.role is Role.GIVEN:
            held, values = self.symbols[node.name], self.values
        else:  # the step's value as symbols of its own; the pass above it composes over them
            held = self._symbols(node.name, self.exercise.values[node])
            values = forward(self.exercise.graph, self.symbols, self.limits, fixed={node: held})
        composed = _objective(self.exercise, key.of, values)
        if not is_short(composed, self.limits.proof_max_nodes):
            raise _Skip(f"sympy.diff skipped: the composed expression has more than "
                        f"{self.limits.proof_max_nodes} operations")
        return [approx(sp.diff(composed, _entry(held, index)), DIGITS, at=self.point) for index in indices]


def _run(clock: Clock, leg: str, compute):
    """(result, None), or (None, why the leg was skipped)."""
    try:
        with clock.running():
            return compute(), None
    except OutOfTime:
        return None, f"{leg} skipped: over its time budget"
    except _Skip as skip:
        return None, str(skip)
    except BackpropError as err:
        return None, f"{leg} skipped: {err.problems[0].message}"


def _close(a: mpmath.mpf, b: mpmath.mpf) -> bool:
    return abs(a - b) <= _EXACT_AGREE * max(1, abs(a), abs(b))


def relative_error(a: float, b: float) -> float:
    """CS231n's |a - b| / max(|a|, |b|), 0 when both are 0."""
    top = max(abs(a), abs(b))
    return 0.0 if top == 0 else abs(a - b) / top


def _fd_agrees(a: float, b: float, scale: float) -> bool:
    return abs(a - b) <= NEAR_ZERO * scale or relative_error(a, b) <= RELATIVE


def prove(exercise: Exercise, solution: Solution | None = None,
          limits: Limits = DEFAULT) -> tuple[list[KeyProof], list[Finding]]:
    """Each asked gradient, checked three ways; an error for each that disagrees."""
    solution = solution or Solution(exercise)
    asked = list({str(a.key): a for a in reversed(exercise.asks) if isinstance(a.key, GradKey)}.values())[::-1]
    if not asked:
        return [], []
    kinked = kinks(exercise)
    fd_clock, sympy_clock = Clock(limits.proof_seconds), Clock(limits.proof_seconds)
    fd, fd_note = _run(fd_clock, "finite differences", lambda: _FiniteDifferences(exercise, limits))
    symbolic, sympy_note = _run(sympy_clock, "sympy.diff", lambda: _SympyDiff(exercise, limits))
    proofs, findings = [], []
    for ask in asked:
        key, node = ask.key, exercise.node(ask.key.wrt)
        expected = solution.expected(key)
        indices = _indices(expected, limits.proof_max_entries)
        engine = [approx(_entry(expected, i), DIGITS) for i in indices]
        total = expected.size if is_tensor(expected) else 1
        notes = [f"{len(indices)} of {total} entries checked"] if len(indices) < total else []
        path = set(exercise.graph.between(solution.backward(key.of).target, node))
        kink = next((k for k in kinked if k.node in path), None)
        if kink is not None:
            entries = tuple(EntryCheck(_one_based(i), float(a), None, None, None, True)
                            for i, a in zip(indices, engine))
            notes.append(f"not compared: {node_words(kink.node)} is at a kink")
            proofs.append(KeyProof(str(key), ask.where, entries, tuple(notes), compared=False))
            continue
        sym, note = (None, sympy_note) if symbolic is None else _run(
            sympy_clock, "sympy.diff", lambda: symbolic.gradient(key, node, indices))
        notes += [note] if note else []
        diff, note = (None, fd_note) if fd is None else _run(
            fd_clock, "finite differences", lambda: fd.gradient(key, node, indices))
        notes += [note] if note else []
        scale = fd.scale(key) if fd is not None else 1.0
        entries = []
        for k, index in enumerate(indices):
            a = engine[k]
            s, d = (sym[k] if sym else None), (diff[k] if diff else None)
            agrees = (s is None or _close(a, s)) and (d is None or _fd_agrees(float(a), d, scale))
            entries.append(EntryCheck(_one_based(index), float(a), None if s is None else float(s), d,
                                      None if d is None else relative_error(float(a), d), agrees))
        proof = KeyProof(str(key), ask.where, tuple(entries), tuple(notes))
        proofs.append(proof)
        if not proof.agrees:
            findings.append(error(Code.KEY, ask.where.problem(_disagreement(proof),
                                                              "the engine's local derivatives are "
                                                              "suspect: please report this exercise")))
    return proofs, findings


def _one_based(index: tuple) -> tuple[int, int] | None:
    return (index[0] + 1, index[1] + 1) if index else None


def number(x: float | None) -> str:
    return "skipped" if x is None else f"{x:.12g}"


def _disagreement(proof: KeyProof) -> str:
    bad = next(e for e in proof.entries if not e.agrees)
    entry = f" (entry {bad.index[0]},{bad.index[1]})" if bad.index else ""
    relative = f", relative error {bad.relative_error:.2g}" if bad.relative_error is not None else ""
    return (f"the answer key for '{proof.key}'{entry} does not hold up: engine {number(bad.engine)}, "
            f"sympy.diff {number(bad.sympy)}, finite differences {number(bad.finite_difference)}"
            f"{relative}")
