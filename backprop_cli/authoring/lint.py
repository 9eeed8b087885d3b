"""Warnings: an exercise that is valid, but may not teach what its author meant.

* a kink at the given values (relu or abs at 0, a max or min tie), where the
  derivative is a convention rather than a derivative;
* a given that no step uses;
* a degenerate exercise: the loss is 0, or every asked gradient is 0 (a ReLU
  network whose units are all off);
* an asked answer that gives another away (dloss/dz and dloss/db when b is
  added to z: equal, so a student who has one has both);
* decimal givens that make exact answers long.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from backprop_cli.authoring.findings import Code, Finding, warning
from backprop_cli.autodiff import ops
from backprop_cli.autodiff.graph import Node, Role
from backprop_cli.autodiff.numbers import equal, exact_text, sign_of
from backprop_cli.autodiff.tensor import Value, as_scalar, broadcast_shape, entries, is_tensor, shape
from backprop_cli.exercise.asks import Form
from backprop_cli.exercise.generators import units_text
from backprop_cli.exercise.keys import GradKey
from backprop_cli.exercise.model import Exercise
from backprop_cli.grading.solver import Solution

UNWIELDY_DIGITS = 10  # digits of an exact answer beyond which it is long to write
_TIES = (ops.MAX.name, ops.MIN.name)
_CONVENTION = {ops.RELU.name: "relu'(0) = 0", ops.ABS.name: "abs'(0) = 0",
               ops.MAX.name: "a tie splits the gradient evenly", ops.MIN.name: "a tie splits the gradient evenly"}


@dataclass(frozen=True)
class Kink:
    node: Node  # the relu, abs, max or min
    entry: tuple | None  # 0-based index in a tensor, None for a scalar

    def words(self) -> str:
        name = self.node.op.name
        where = f" (entry {self.entry[0] + 1},{self.entry[1] + 1})" if self.entry else ""
        what = "a tie between its arguments" if name in _TIES else "its argument is 0"
        return (f"{node_words(self.node)} is at the kink of {name}: {what}{where}; there the "
                f"derivative is a convention ({_CONVENTION[name]}, as in PyTorch), which finite "
                f"differences do not see")


def node_words(node: Node) -> str:
    if node.role is Role.PART:
        return f"step '{node.step}' (at {node.definition()})"
    return f"step '{node.name}'"


def _entry(value: Value, index: tuple) -> sp.Expr:
    return value[index] if is_tensor(value) else value


def kinks(exercise: Exercise) -> list[Kink]:
    """Every relu or abs whose argument is 0 and every max or min with tied arguments."""
    found = []
    for node in exercise.graph.nodes:
        if node.op is None or node.op.name not in _CONVENTION:
            continue
        args = [exercise.values[i] for i in node.inputs]
        common = broadcast_shape([shape(a) for a in args])
        for index in (list(np.ndindex(*common)) if common else [()]):
            at = [_entry(a, index) for a in args]
            gap = at[0] if len(at) == 1 else at[0] - at[1]
            if sign_of(gap) == 0:
                found.append(Kink(node, index or None))
                break
    return found


def lint(exercise: Exercise, solution: Solution | None = None) -> list[Finding]:
    solution = solution or Solution(exercise)
    found = [warning(Code.KINK, k.node.where.problem(k.words())) for k in kinks(exercise)]
    found += _unused(exercise)
    found += _degenerate(exercise, solution)
    found += _give_aways(exercise, solution)
    found += _unwieldy(exercise, solution)
    return found


def _unused(exercise: Exercise) -> list[Finding]:
    graph = exercise.graph
    return [warning(Code.UNUSED_GIVEN, node.where.problem(f"given '{node.name}' is not used by any step"))
            for node in graph.nodes if node.role is Role.GIVEN and not graph.consumers(node)]


def _is_zero(value: Value) -> bool:
    return all(e == 0 for e in entries(value))


def _degenerate(exercise: Exercise, solution: Solution) -> list[Finding]:
    found = []
    output = as_scalar(exercise.values[exercise.output])
    if exercise.upstream is None and output is not None and output == 0:
        found.append(warning(Code.DEGENERATE, exercise.output.where.problem(
            f"the output '{exercise.output.name}' is 0 at the given values: a loss of 0 leaves "
            "nothing to learn, and its gradients are often all 0")))
    grads = [ask for ask in exercise.asks if isinstance(ask.key, GradKey)]
    if grads and all(_is_zero(solution.expected(ask.key)) for ask in grads):
        found.append(warning(Code.DEGENERATE, grads[0].where.problem(
            "every asked gradient is 0 at the given values (a ReLU network whose units are all off?): "
            "an answer of 0 everywhere is right without any work")))
    return found


def _give_aways(exercise: Exercise, solution: Solution) -> list[Finding]:
    found, seen = [], []
    for ask in exercise.asks:
        key = ask.key
        if not isinstance(key, GradKey) or ask.form is not Form.VALUE:
            continue
        value = solution.expected(key)
        if _is_zero(value):
            continue
        for other, other_value in seen:
            if other.of == key.of and _on_one_path(exercise, key.wrt, other.wrt) \
                    and shape(other_value) == shape(value) \
                    and all(equal(a, b) for a, b in zip(entries(value), entries(other_value))):
                found.append(warning(Code.GIVE_AWAY, ask.where.problem(
                    f"'{key}' has the same value as '{other}': an answer to one gives the other "
                    "away, and a student who leaves out the factor between them is still right",
                    "ask only one of them, or choose values that tell them apart")))
                break
        seen.append((key, value))
    return found


def _on_one_path(exercise: Exercise, a: str, b: str) -> bool:
    """One of the two nodes is computed from the other: the chain runs through both."""
    graph = exercise.graph
    first, second = sorted((graph.by_name[a], graph.by_name[b]), key=lambda n: n.index)
    return first in graph.ancestors(second)


def _decimal_givens(exercise: Exercise) -> bool:
    return any(e.is_Rational and not e.is_Integer and _terminates(e.q)
               for value in exercise.given.values() for e in entries(value))


def _terminates(q: int) -> bool:
    """1/q has a finite decimal expansion: q has no prime factors but 2 and 5."""
    for p in (2, 5):
        while q % p == 0:
            q //= p
    return q == 1


def _places(q: sp.Rational) -> int | None:
    """Decimal places that write ``q`` exactly, or None when its expansion does not end."""
    if not _terminates(q.q):
        return None
    places = 0
    while (q * 10**places).q != 1:
        places += 1
    return places


def exact_digits(q: sp.Rational) -> int:
    """Digits needed to write a rational exactly: as a decimal if it ends, else as p/q."""
    places = _places(q)
    if places is None:
        return len(str(abs(q.p))) + len(str(q.q))
    return len(str(abs((q * 10**places).p)))  # 0.4096 -> 4096: four digits


def exact_words(q: sp.Rational) -> str:
    places = _places(q)
    return exact_text(q) if places is None else units_text(int(q * 10**places), places)


def _unwieldy(exercise: Exercise, solution: Solution) -> list[Finding]:
    if not _decimal_givens(exercise):
        return []
    found = []
    for ask in exercise.asks:
        if ask.form is not Form.VALUE:
            continue
        values = entries(solution.expected(ask.key))
        if not all(v.is_Rational for v in values):
            continue
        longest = max(values, key=exact_digits)
        digits = exact_digits(longest)
        if digits > UNWIELDY_DIGITS:
            found.append(warning(Code.UNWIELDY, ask.where.problem(
                f"the exact answer to '{ask.key}' needs {digits} digits ({exact_words(longest)}): the "
                "decimal givens make exact answers long to write",
                "rounder givens keep them short; decimal answers are graded within the tolerance")))
    return found
