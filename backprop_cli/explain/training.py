"""Training explained: each gradient-descent update as a chain of numbers.

``w@1 = w - rate · ∂loss/∂w = 1 - 1/10 · (-2) = 6/5``, one line per quantity the
optimizer keeps (momentum's buffer ``b``, Adam's ``m`` and ``v``), read from the
states the training run recorded, so the explanation is the computation.  A
step's value after k updates (``loss@2``) is its definition computed again with
the updated parameters.
"""

from __future__ import annotations

from typing import Callable

from backprop_cli.autodiff.graph import Graph
from backprop_cli.autodiff.tensor import Value, is_tensor
from backprop_cli.autodiff.training import State, Training
from backprop_cli.exercise.keys import TrainKey
from backprop_cli.explain.chain import BackwardEntry, Notation
from backprop_cli.explain.trace import Trace
from backprop_cli.explain.text import brief, brief_result, decimal_or_none, factor, number
from backprop_cli.explain.written import written_definition


class _Writer:
    """Names and numbers of one parameter's updates, whole or at one entry."""

    def __init__(self, name: str, of: str, index: tuple | None, notation: Notation) -> None:
        self.name, self.of, self.index = name, of, index
        self.suffix = "" if index is None else "[" + ",".join(str(i + 1) for i in index) + "]"
        self.brief = notation is Notation.BRIEF

    def at(self, value: Value) -> Value:
        if self.index is not None and is_tensor(value):
            return value[self.index] if len(self.index) == 2 else value[self.index[0], 0]
        return value

    def show(self, value: Value) -> str:
        return factor(brief(self.at(value)) if self.brief else number(self.at(value)))

    def under(self, value: Value) -> str:
        """A value written after '/': a fraction in parentheses too."""
        text = self.show(value)
        return f"({text})" if "/" in text and not text.startswith("(") else text

    def label(self, what: str, t: int) -> str:
        """'w' before any update, else 'w@t' (with the entry: 'W1@1[1,2]')."""
        return f"{what}{self.suffix}" if t == 0 else f"{what}@{t}{self.suffix}"

    def grad(self, t: int) -> str:
        """The gradient used by update t, taken at the values after t - 1 updates."""
        at = "" if t == 1 else f" at {self.name}@{t - 1}"
        return f"∂{self.of}/∂{self.name}{self.suffix}{at}"

    def entry(self, target: str, stages: list[str], value: Value) -> BackwardEntry:
        value = self.at(value)
        if self.brief:
            result = brief_result(value)
            last = stages[-1] + (" " if result.startswith("≈") else " = ") + result
            return BackwardEntry(target, target, tuple(stages[:-1] + [last]), result, None)
        return BackwardEntry(target, target, tuple(stages + [number(value)]), number(value),
                             decimal_or_none(value))


def update_entries(training: Training, states: list[State], name: str, upto: int, of: str,
                   index: tuple | None = None, notation: Notation = Notation.FULL) -> list[BackwardEntry]:
    """The updates of parameter ``name`` from the first to the ``upto``-th, each as a chain."""
    w = _Writer(name, of, index, notation)
    rules: dict[str, Callable] = {"sgd": _sgd, "momentum": _momentum, "adam": _adam}
    entries: list[BackwardEntry] = []
    for t in range(1, upto + 1):
        before = states[t - 1]  # the values update t starts from, its gradient and new memory
        prior = states[t - 2].memory[name] if t >= 2 else None  # the memory update t starts from
        step = _Step(before.given[name], before.grads[name], before.memory[name], prior,
                     states[t].given[name])
        entries += rules[training.optimizer](w, training, t, step)
    return entries


class _Step:
    def __init__(self, old: Value, g: Value, memory: tuple, prior: tuple | None, new: Value) -> None:
        self.old, self.g, self.memory, self.new = old, g, memory, new
        self.prior = prior or tuple(m * 0 for m in memory)  # the memory starts at zero


def _sgd(w: _Writer, tr: Training, t: int, s: _Step) -> list[BackwardEntry]:
    return [w.entry(w.label(w.name, t), [
        f"{w.label(w.name, t - 1)} - rate · {w.grad(t)}",
        f"{w.show(s.old)} - {w.show(tr.rate)} · {w.show(s.g)}"], s.new)]


def _momentum(w: _Writer, tr: Training, t: int, s: _Step) -> list[BackwardEntry]:
    buffer, buffer_name = s.memory[0], w.label("b", t)
    if t == 1:
        first = w.entry(buffer_name, [f"{w.grad(t)}   (the first buffer is the gradient)"], buffer)
    else:
        first = w.entry(buffer_name, [
            f"momentum · {w.label('b', t - 1)} + {w.grad(t)}",
            f"{w.show(tr.momentum)} · {w.show(s.prior[0])} + {w.show(s.g)}"], buffer)
    return [first, w.entry(w.label(w.name, t), [
        f"{w.label(w.name, t - 1)} - rate · {buffer_name}",
        f"{w.show(s.old)} - {w.show(tr.rate)} · {w.show(buffer)}"], s.new)]


def _adam(w: _Writer, tr: Training, t: int, s: _Step) -> list[BackwardEntry]:
    (m, v), m_name, v_name = s.memory, w.label("m", t), w.label("v", t)
    return [
        w.entry(m_name, [f"beta1 · {w.label('m', t - 1)} + (1 - beta1) · {w.grad(t)}",
                         f"{w.show(tr.beta1)} · {w.show(s.prior[0])} + {w.show(1 - tr.beta1)} · "
                         f"{w.show(s.g)}"], m),
        w.entry(v_name, [f"beta2 · {w.label('v', t - 1)} + (1 - beta2) · ({w.grad(t)})**2",
                         f"{w.show(tr.beta2)} · {w.show(s.prior[1])} + {w.show(1 - tr.beta2)} · "
                         f"{w.show(s.g)}**2"], v),
        w.entry(w.label(w.name, t), [
            f"{w.label(w.name, t - 1)} - rate · ({m_name}/(1 - beta1**{t})) / "
            f"(sqrt({v_name}/(1 - beta2**{t})) + eps)",
            f"{w.show(s.old)} - {w.show(tr.rate)} · ({w.show(m)}/{w.under(1 - tr.beta1 ** t)}) / "
            f"(sqrt({w.show(v)}/{w.under(1 - tr.beta2 ** t)}) + {w.show(tr.eps)})"], s.new),
    ]


def step_entry(graph: Graph, states: list[State], step: str, k: int, params: tuple[str, ...],
               index: tuple | None = None, notation: Notation = Notation.FULL) -> BackwardEntry:
    """``loss@2``: the step computed again after k updates of the parameters."""
    w = _Writer(step, "", index, notation)
    node = graph.by_name[step]
    updated = ", ".join(f"{p}@{k}" for p in params)
    return w.entry(w.label(step, k), [f"{written_definition(node)}, with {updated}"], states[k].values[node])


def training_note(training: Training) -> str:
    """'Training: sgd, rate 1/10, 2 updates' (with the optimizer's own constants)."""
    extra = {"momentum": [f"momentum {number(training.momentum)}"],
             "adam": [f"beta1 {number(training.beta1)}", f"beta2 {number(training.beta2)}",
                      f"eps {number(training.eps)}"]}.get(training.optimizer, [])
    words = [training.optimizer, f"rate {number(training.rate)}", *extra,
             f"{training.steps} update{'s' if training.steps != 1 else ''}"]
    return "Training: " + ", ".join(words)


def training_trace(training: Training, states: list[State], graph: Graph, key: TrainKey, of: str) -> Trace:
    """``explain --of w@2``: each update of a parameter up to the second; for a step
    (``loss@2``), every parameter's updates and then the step computed again."""
    trace = Trace(str(key), note=training_note(training))
    params = [key.name] if key.name in training.params else list(training.params)
    trace.updates = [u for p in params for u in update_entries(training, states, p, key.step, of)]
    if key.name not in training.params:
        trace.updates.append(step_entry(graph, states, key.name, key.step, training.params))
    return trace
