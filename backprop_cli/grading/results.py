"""Check results as plain strings and numbers, ready for any renderer.

Grading works on exact SymPy values; renderers (terminal, JSON, and CI
formats) should not have to.  :func:`summarize` turns each
:class:`~backprop_cli.grading.Report` into a :class:`FileResult`, choosing the
printed form of every value and cutting the trace slice for wrong items.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from backprop_cli.grading.budget import Phase, Skips, Watch, no_watch
from backprop_cli.grading.verdicts import Report, Status, Verdict, graph_order
from backprop_cli.exercise.keys import GradKey, TrainKey, ValueKey
from backprop_cli.explain.training import training_trace
from backprop_cli.autodiff.numbers import shown
from backprop_cli.autodiff.tensor import is_tensor
from backprop_cli.explain import picture as pictures
from backprop_cli.explain.picture import Asked, Picture
from backprop_cli.explain.text import brief_result
from backprop_cli.explain.trace import ForwardRow, Trace, make_trace, value_trace
from backprop_cli.grading.focus import Focus, Focuser
from backprop_cli.source.limits import DEFAULT, Limits

PICTURE = "the graph picture"  # the label grading reports while it draws one
FORWARD = "the forward table"  # ... and while it writes the steps wrong values depend on


class Detail(str, enum.Enum):
    """How much of the trace ``check`` shows for a wrong answer."""

    FOCUSED = "focused"  # the way to the wrong thing (grading.focus)
    FULL = "full"  # the whole slice of the trace that leads to each wrong item (--verbose, HTML)


@dataclass(frozen=True)
class ItemResult:
    key: str
    status: Status
    answer: str | list[list[str]] | None  # rows of strings for a tensor
    expected: str | list[list[str]] | None  # None when the exercise hides expected values
    points: float
    max_points: float
    diagnosis: str | None = None
    feedback: str | None = None
    message: str | None = None  # why an answer cannot be read, or has the wrong shape
    right_entries: list[list[bool]] | None = None  # a tensor answer, entry by entry
    trace: Trace | None = None  # the slice of the trace that leads to the right answer (FULL)
    focus: Focus | None = None  # the way to the wrong thing (FOCUSED)
    expected_text: str | list[list[str]] | None = None  # for reading: "-1/8 ≈ -0.125", "≈ 0.2472"
    hint: str | None = None  # said next to the item: "you wrote dloss/dW: did you mean dloss/dw?"


@dataclass(frozen=True)
class FileResult:
    file: str
    id: str | None
    title: str | None
    error: str | None  # why the file could not be used
    items: list[ItemResult] = field(default_factory=list)
    not_asked: list[str] = field(default_factory=list)
    score: float = 0.0
    max_score: float = 0.0
    wrong_in_order: list[str] = field(default_factory=list)  # wrong items in graph order, first first
    picture: Picture | None = None  # the graph with the asked items marked, when asked for
    picture_note: str | None = None  # why there is no picture, when one was asked for
    forward: list[ForwardRow] = field(default_factory=list)  # FOCUSED: the steps wrong values depend on
    more: str | None = None  # FOCUSED: the command that shows everything that was left out
    points_shown: bool = False  # the exercise weighs its items or gives partial credit

    @property
    def first_wrong(self) -> str | None:
        return self.wrong_in_order[0] if self.wrong_in_order else None

    @property
    def ok(self) -> bool:
        return self.error is None and all(i.status is Status.CORRECT for i in self.items)


@dataclass(frozen=True)
class Explanation:
    """What ``explain`` shows: the trace, and the graph drawn with values and gradients."""

    title: str
    prompt: str | None
    trace: Trace
    picture: Picture | None = None
    picture_note: str | None = None  # why there is no picture


def summarize(report: Report, watch: Watch = no_watch, skip: Skips | None = None,
              picture: bool = False, limits: Limits = DEFAULT, detail: Detail = Detail.FOCUSED) -> FileResult:
    """Strings and numbers for the renderers; ``watch`` and ``skip`` as in grading.grade.

    With ``picture``, the result carries the graph with the asked items marked on it;
    ``detail`` says how much of the trace each wrong item keeps.
    """
    ex = report.exercise
    if report.problems or ex is None:
        error = "\n".join(p.render() for p in report.problems) or "the file could not be used"
        return FileResult(report.file, ex.id if ex else None, ex.title if ex else None, error)
    skip = skip or {}
    wrong = sorted((v for v in report.items if v.status is not Status.CORRECT),
                   key=lambda v: graph_order(v.key, ex))
    focuser = Focuser(report)
    explained: dict[str, tuple[Trace | None, Focus | None]] = {}
    for verdict in wrong:  # the first wrong step first: later items refer back to its lines
        watch(Phase.TRACE, verdict.label)
        skipped = (Phase.TRACE, verdict.label) in skip or (Phase.ANSWER, verdict.label) in skip
        if ex.hide_expected or skipped:
            continue
        if detail is Detail.FULL:
            explained[verdict.label] = (_slice(report, verdict), None)
        else:
            explained[verdict.label] = (None, focuser.item(verdict))
    items = []
    for verdict in report.items:  # each item's printed values, bounded like its explanation
        watch(Phase.TRACE, verdict.label)
        skipped = (Phase.TRACE, verdict.label) in skip or (Phase.ANSWER, verdict.label) in skip
        items.append(_item(report, verdict, *explained.get(verdict.label, (None, None)), skipped))
    focused = detail is Detail.FOCUSED and any(focus for _, focus in explained.values())
    forward = []
    if detail is Detail.FOCUSED:
        watch(Phase.TRACE, FORWARD)
        forward = [] if (Phase.TRACE, FORWARD) in skip else focuser.forward_rows()
    drawn, note = (None, None)
    if picture:
        watch(Phase.TRACE, PICTURE)
        drawn, note = _picture(report, [v.label for v in wrong], (Phase.TRACE, PICTURE) in skip, limits)
    return FileResult(report.file, ex.id, ex.title, None, items, list(report.not_asked),
                      float(report.score), float(report.max_score), [v.label for v in wrong],
                      drawn, note, forward,
                      f"backprop check --verbose {report.file}" if focused else None,
                      _weighted(ex))


def _picture(report: Report, wrong: list[str], skipped: bool,
             limits: Limits) -> tuple[Picture | None, str | None]:
    """The graph with each asked item marked on the node it is about."""
    ex = report.exercise
    if skipped:
        return None, "drawing the graph took too long"
    note = pictures.too_big(len(ex.graph.nodes), limits.max_picture_nodes)
    if note is not None:
        return None, note
    drawn = pictures.build(report.solution.backward(ex.loss_name), ex.title or ex.id)
    if ex.hide_expected:
        drawn = pictures.without_values(drawn)
    first = wrong[0] if wrong else None
    asked: dict[str, list[Asked]] = {}
    for verdict in report.items:
        key = verdict.key
        name = key.name if isinstance(key, ValueKey) else key.wrt if isinstance(key, GradKey) else None
        if name is not None:
            asked.setdefault(name, []).append(
                Asked(verdict.label, verdict.status is Status.CORRECT, verdict.label == first))
    return pictures.with_asked(drawn, asked), None


def _weighted(exercise) -> bool:
    """Points per item are worth printing: some ask has its own weight, or credit can be partial."""
    return (any(ask.points != 1 or ask.partial for ask in exercise.asks)
            or exercise.carry_forward != 0)


def _item(report: Report, verdict: Verdict, trace: Trace | None, focus: Focus | None,
          skipped: bool = False) -> ItemResult:
    hidden = report.exercise.hide_expected
    expected = None if hidden else shown(verdict.expected)
    return ItemResult(
        key=verdict.label,
        status=verdict.status,
        answer=verdict.answer,
        expected=expected,
        points=float(verdict.points),
        max_points=float(verdict.max_points),
        # Every classic mistake can be undone to give the right value, so hiding the
        # expected values hides what is said about the mistake too.
        diagnosis=None if hidden else verdict.diagnosis,
        feedback=None if hidden else verdict.feedback,
        message=verdict.problem.render() if verdict.problem else verdict.shape_message,
        right_entries=verdict.right_entries,
        trace=trace,
        focus=focus,
        expected_text=expected if hidden or skipped else _readable(verdict.expected),
        hint=verdict.hint,
    )


def _readable(value):
    """The expected value for a person: exact when short, with its decimal beside it."""
    if is_tensor(value):
        return [[brief_result(e) for e in row] for row in value]
    return brief_result(value)


def _slice(report: Report, verdict: Verdict) -> Trace | None:
    """The part of the trace that leads to this item's right answer."""
    ex, key = report.exercise, verdict.key
    if isinstance(key, GradKey):
        return make_trace(report.solution.backward(key.of), ex.node(key.wrt))
    if isinstance(key, ValueKey):
        return value_trace(ex.node(key.name), ex.values, ex.graph)
    if isinstance(key, TrainKey):
        solution = report.solution
        return training_trace(ex.training, solution.trajectory(), ex.graph, key, solution.loss_name)
    return None


def exit_code(results: list[FileResult]) -> int:
    """0 all correct, 1 some answer not correct, 2 some file unusable."""
    if any(r.error is not None for r in results):
        return 2
    return 0 if all(r.ok for r in results) else 1
