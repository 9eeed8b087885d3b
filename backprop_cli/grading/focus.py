"""The way to each wrong answer, and nothing else: what ``check`` shows by default.

For a wrong gradient, the path from the output to it (not the whole backward
pass); for a tensor of the right shape, the scalar chain of its first wrong
entry, as ``explain --wrt W --entry I,J`` spells it; for a tensor of the
wrong shape, the shapes along the way.  Parts of a step that only pass a
gradient on are folded into their step, paths that carry no gradient are
left out, and a line shown for one wrong answer is not repeated for the next.
Wrong forward values share one table of the steps they depend on.
``check --verbose`` shows the whole slice of the trace instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from backprop_cli.autodiff.graph import Node
from backprop_cli.autodiff.tensor import is_tensor
from backprop_cli.exercise.keys import GradKey, TrainKey, ValueKey
from backprop_cli.explain.chain import SEED_NOTE, BackwardEntry, ChainLine, Notation, write_entry
from backprop_cli.explain.entries import entry_lines, entry_name
from backprop_cli.explain.fold import drop_dead_paths, fold
from backprop_cli.explain.trace import ForwardRow, chain_lines, step_rows
from backprop_cli.explain.training import step_entry, update_entries
from backprop_cli.grading.verdicts import Report, Status, Verdict


@dataclass(frozen=True)
class Focus:
    """The lines that lead to one wrong answer."""

    title: str  # "How to get dloss/dW2 at W2[3,3] (the first wrong entry):"
    backward: list[BackwardEntry]
    notes: list[str] = field(default_factory=list)  # said after the lines: what was left out
    command: str | None = None  # what shows more: "Other entries: backprop explain ..."


class Focuser:
    """Builds the focus of each wrong item of one report, remembering what it has shown."""

    def __init__(self, report: Report) -> None:
        self.report = report
        self.exercise = report.exercise
        self.shown: set[str] = set()
        self.value_nodes: list[Node] = []

    def item(self, verdict: Verdict) -> Focus | None:
        if verdict.status is not Status.INCORRECT:
            return None  # a missing answer gives nothing away; an unreadable one says why instead
        key = verdict.key
        if isinstance(key, ValueKey):
            self.value_nodes.append(self.exercise.node(key.name))
            return None
        if isinstance(key, GradKey):
            return self._gradient(verdict, key)
        if isinstance(key, TrainKey):
            return self._training(verdict, key)
        return None

    def _training(self, verdict: Verdict, key: TrainKey) -> Focus:
        """A wrong ``w@k``: each update up to the k-th as a chain (at the first wrong entry);
        a wrong ``loss@k``: the step computed again with the updated parameters."""
        ex, solution = self.exercise, self.report.solution
        training, states = ex.training, solution.trajectory()
        index = _first_wrong(verdict.right_entries) if is_tensor(verdict.expected) else None
        name = f"{key}" + ("" if index is None or verdict.expected.shape == (1, 1)
                           else "[" + ",".join(str(i + 1) for i in index) + "]")
        if key.name in training.params:
            entries = update_entries(training, states, key.name, key.step, solution.loss_name, index,
                                     Notation.BRIEF)
            command = None
        else:
            entries = [step_entry(ex.graph, states, key.name, key.step, training.params, index,
                                  Notation.BRIEF)]
            command = f"Each update: backprop explain {self.report.file} --of {key}"
        entries, notes = self._unseen([(e, e.target) for e in entries], entries[-1].target)
        return Focus(f"How to get {name}:", entries, notes, command)

    def _unseen(self, written: list[tuple[BackwardEntry, str]], own: str):
        """The entries not shown for an earlier wrong answer (``own``, the item's own line, always
        is), and a note counting those left out."""
        entries, repeated = [], 0
        for entry, seen in written:
            if seen in self.shown and seen != own:
                repeated += 1
                continue
            self.shown.add(seen)
            entries.append(entry)
        notes = [f"({repeated} line{'s' if repeated > 1 else ''} shown above "
                 f"{'are' if repeated > 1 else 'is'} not repeated.)"] if repeated else []
        return entries, notes

    def forward_rows(self) -> list[ForwardRow]:
        """The steps the wrong values depend on, each once, in the order of the work."""
        graph, nodes = self.exercise.graph, set()
        for node in self.value_nodes:
            nodes.update(graph.ancestors(node))
        return step_rows(sorted(nodes, key=lambda n: n.index), self.exercise.values)

    def _gradient(self, verdict: Verdict, key: GradKey) -> Focus:
        ex = self.exercise
        run = self.report.solution.backward(key.of)
        wrt = ex.node(key.wrt)
        value = ex.values[wrt]
        command = None
        if verdict.shape_message is not None:
            lines = chain_lines(run, ex.graph.between(run.target, wrt))
            notation, name = Notation.SHAPES, wrt.name
            title = f"The shapes along the way to {key}:"
        elif is_tensor(value) and value.shape != (1, 1):
            index = _first_wrong(verdict.right_entries)
            name = entry_name(wrt.name, index, value)
            lines = entry_lines(run, wrt, index)
            notation = Notation.BRIEF
            title = f"How to get {key} at {name} (the first wrong entry):"
            command = f"Other entries: backprop explain {self.report.file} --wrt {wrt.name} --entry ROW,COL"
        else:
            lines = (entry_lines(run, wrt, (0, 0)) if is_tensor(value)
                     else chain_lines(run, ex.graph.between(run.target, wrt)))
            notation, name = Notation.BRIEF, wrt.name
            title = f"How to get {key}:"
        lines = fold(lines)
        lines, dropped = drop_dead_paths(lines, name)
        lines = [line for line in lines if not _plain_seed(line)]
        written = [(write_entry(line, run.of, run.values, notation), line) for line in lines]
        own = next((f"{notation.value} {e.target}" for e, line in written if line.name == name), None)
        entries, notes = self._unseen([(e, f"{notation.value} {e.target}") for e, _ in written], own)
        if dropped:
            notes.append("(Paths that carry a gradient of 0 are left out.)")
        return Focus(title, entries, notes, command)


def _plain_seed(line: ChainLine) -> bool:
    """d(loss)/d(loss) = 1 says nothing; an outside loss's upstream gradient does."""
    return line.seed == SEED_NOTE


def _first_wrong(right: list[list[bool]] | None) -> tuple[int, int]:
    for i, row in enumerate(right or []):
        for j, ok in enumerate(row):
            if not ok:
                return i, j
    return 0, 0
