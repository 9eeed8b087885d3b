"""Check results as plain strings and numbers, ready for any renderer.

Grading works on exact SymPy values; renderers (terminal, JSON, and CI
formats) should not have to.  :func:`summarize` turns each
:class:`~backprop_cli.grading.Report` into a :class:`FileResult`, choosing the
printed form of every value and cutting the trace slice for wrong items.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import sympy as sp

from backprop_cli.grading.budget import Phase, Skips, Watch, failure_words, no_watch, skipped, stopped
from backprop_cli.grading.verdicts import Report, Status, Verdict, graph_order
from backprop_cli.exercise.keys import GradKey, TrainKey, ValueKey
from backprop_cli.autodiff.numbers import exact_text, shown
from backprop_cli.autodiff.tensor import is_tensor
from backprop_cli.exercise.model import Visibility
from backprop_cli.source.errors import Location
from backprop_cli.explain.text import brief_result
from backprop_cli.explain.trace import ForwardRow, Trace, make_trace, value_trace
from backprop_cli.explain.training import training_trace
from backprop_cli.grading.focus import Focus, Focuser
from backprop_cli.source.limits import DEFAULT, Limits

if TYPE_CHECKING:
    from backprop_cli.explain.picture import Picture  # drawn only for the HTML formats: imported then

PICTURE = "the graph picture"  # the label grading reports while it draws one
FORWARD = "the forward table"  # ... and while it writes the steps wrong values depend on


class Detail(str, enum.Enum):
    """How much of the trace a wrong answer's explanation keeps."""

    FOCUSED = "focused"  # the way to the wrong thing (grading.focus): check's text report
    FULL = "full"  # the whole slice of the trace that leads to each wrong item (--verbose, pages)


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
    trace: Trace | None = None  # the slice of the trace that leads to the right answer
    location: Location | None = None  # where the answer is written, for annotations
    seconds: float = 0.0  # time spent on this item (reading, comparing, diagnosing, tracing)
    note: str | None = None  # what was cut short (naming the mistake, the explanation) and why; how
    # an answer was read when that may not be what was meant (a flat list taken as a row)
    focus: Focus | None = None  # the way to the wrong thing (Detail.FOCUSED)
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
    notes: list[str] = field(default_factory=list)  # e.g. that a student changed the exercise
    hide_expected: bool = False
    visibility: Visibility = Visibility.VISIBLE
    seconds: float = 0.0  # time spent on the whole file
    forward: list[ForwardRow] = field(default_factory=list)  # FOCUSED: the steps wrong values depend on
    more: str | None = None  # FOCUSED: the command that shows everything that was left out
    points_shown: bool = False  # the exercise weighs its items or gives partial credit

    @property
    def first_wrong(self) -> str | None:
        """The first answered item that is wrong, in graph order: an item with no answer yet is
        not a mistake to point at (a student runs check before filling in the file)."""
        answered = {i.key for i in self.items if i.status in (Status.INCORRECT, Status.INVALID)}
        return next((label for label in self.wrong_in_order if label in answered), None)

    @property
    def ok(self) -> bool:
        return self.error is None and all(i.status is Status.CORRECT for i in self.items)


@dataclass(frozen=True)
class SolvedKey:
    """One line of ``solve``: the key an answer is written under and the right answer."""

    label: str  # 'dloss/dw', or 'dloss/dw (formula)' when the key is asked both ways
    value: str | list[list[str]] | None  # as `expected` prints it; a formula ask: the formula
    note: str | None = None  # why there is no value (a formula the language cannot write)


@dataclass(frozen=True)
class Explanation:
    """What ``explain`` shows: the trace, and the graph drawn with values and gradients."""

    title: str
    prompt: str | None
    trace: Trace
    picture: Picture | None = None
    picture_note: str | None = None  # why there is no picture


def summarize(report: Report, watch: Watch = no_watch, skip: Skips | None = None,
              picture: bool = False, limits: Limits = DEFAULT, traces: bool = True,
              reveal: bool = False, detail: Detail = Detail.FULL) -> FileResult:
    """Strings and numbers for the renderers; ``watch`` and ``skip`` as in grading.grade.

    With ``picture``, the result carries the graph with the asked items marked on it.
    ``traces``: explain each wrong item (only text, Markdown and Gradescope show it), with
    the whole slice of the trace or, ``detail`` FOCUSED, only the way to the wrong thing.
    ``reveal``: keep expected values and diagnoses of a ``hide_expected`` exercise, for
    the teacher's gradebook; :func:`student_view` hides them again.
    """
    ex = report.exercise
    if report.problems or ex is None:
        error = "\n".join(p.render() for p in report.problems) or "the file could not be used"
        if ex is None:
            return FileResult(report.file, None, None, error)
        # The exercise is known (only its answers could not be used): its points still count.
        asked = float(sum((ask.points for ask in ex.asks), sp.Integer(0)))
        return FileResult(report.file, ex.id, ex.title, error, max_score=asked)
    skip = skip or {}
    watch(Phase.LOADING, "")  # how the right answers print is the exercise's work, not an answer's
    expected = {v.label: _once(report.solution, "shown", v, _shown) for v in report.items}
    readable = {v.label: _once(report.solution, "readable", v, _readable) for v in report.items}
    wrong = sorted((v for v in report.items if v.status is not Status.CORRECT),
                   key=lambda v: graph_order(v.key, ex))
    explain = traces and (reveal or not ex.hide_expected)
    focused = explain and detail is Detail.FOCUSED
    focuser, focuses = Focuser(report), {}
    for verdict in wrong if focused else []:  # the first wrong step first: later ones refer back
        watch(Phase.TRACE, verdict.label)
        if skipped(skip, Phase.ANSWER, verdict.label) is None and skipped(skip, Phase.TRACE, verdict.label) is None:
            focuses[verdict.label] = _guarded(report, lambda v=verdict: focuser.item(v),
                                              "the explanation", "worked out")
    items = []
    for verdict in report.items:
        if verdict.status is not Status.CORRECT:  # a right item has nothing to explain: no stretch of its own
            watch(Phase.TRACE, verdict.label)
        items.append(_item(report, verdict, expected[verdict.label], readable[verdict.label], skip,
                           explain and not focused, focuses.get(verdict.label, (None, None)), focused))
    forward: list[ForwardRow] = []
    if focused:
        watch(Phase.TRACE, FORWARD)
        forward = [] if skipped(skip, Phase.TRACE, FORWARD) is not None else focuser.forward_rows()
    drawn, note = (None, None)
    if picture:
        watch(Phase.TRACE, PICTURE)
        drawn, note = _picture_guarded(report, [v.label for v in wrong if v.status is not Status.MISSING],
                                       skipped(skip, Phase.TRACE, PICTURE) is not None, limits)
    more = f"backprop check --verbose {report.file}" if any(i.focus for i in items) else None
    result = FileResult(report.file, ex.id, ex.title, None, items, list(report.not_asked),
                        float(report.score), float(report.max_score), [v.label for v in wrong],
                        drawn, note, hide_expected=ex.hide_expected, visibility=ex.visibility,
                        forward=forward, more=more, points_shown=_weighted(ex))
    return result if reveal else student_view(result)


def _weighted(exercise) -> bool:
    """Points per item are worth printing: some ask has its own weight, or credit can be partial."""
    return (any(ask.points != 1 or ask.partial for ask in exercise.asks)
            or exercise.carry_forward != 0)


def _readable(value):
    """The expected value for a person: exact when short, with its decimal beside it."""
    try:
        if is_tensor(value):
            return [[brief_result(e) for e in row] for row in value]
        return brief_result(value)
    except MemoryError:
        raise
    except Exception:
        return None  # the renderer falls back on the printed form


def _guarded(report: Report, make, what: str, verb: str):
    """``(make(), None)``, or ``(None, words)`` when it fails: the grades stand, and a bug is
    kept for --debug."""
    try:
        return make(), None
    except MemoryError:
        raise
    except Exception as err:
        words, bug = failure_words(err, what, verb)
        if bug and report.crash is None:
            report.crash = err
        return None, words


def _picture_guarded(report: Report, wrong: list[str], skipped: bool,
                     limits: Limits) -> tuple[Picture | None, str | None]:
    """The picture; a failure leaves it out and says so (the grades stand)."""
    made, words = _guarded(report, lambda: _picture(report, wrong, skipped, limits),
                           "the graph picture", "drawn")
    return made if made is not None else (None, words)


def _picture(report: Report, wrong: list[str], skipped: bool,
             limits: Limits) -> tuple[Picture | None, str | None]:
    """The graph with each asked item marked on the node it is about."""
    from backprop_cli.explain import picture as pictures
    from backprop_cli.explain import picture as pictures
    from backprop_cli.explain.picture import Asked

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


def student_view(result: FileResult) -> FileResult:
    """What a student may see: no expected values, diagnoses or traces when they are hidden."""
    if not result.hide_expected:
        return result
    # Every classic mistake can be undone to give the right value, so hiding the
    # expected values hides what is said about the mistake too.
    return replace(result, forward=[],
                   items=[replace(i, expected=None, expected_text=None, diagnosis=None, feedback=None,
                                  trace=None, focus=None) for i in result.items])


def with_times(result: FileResult, seconds: dict[str, float], total: float) -> FileResult:
    """The result with the time spent on each item and on the whole file."""
    return replace(result, seconds=total,
                   items=[replace(i, seconds=seconds.get(i.key, 0.0)) for i in result.items])


def _once(solution, tag: str, verdict: Verdict, make):
    """How the right answer prints (``make`` of it): the same for every copy of the exercise,
    so worked out once."""
    key = (tag, verdict.key)
    if key not in solution.memo:
        solution.memo[key] = make(verdict.expected)
    return solution.memo[key]


def _shown(value) -> str | list[list[str]]:
    """The printed right answer; its exact form when a decimal cannot be worked out (sin(10**10**9))."""
    if is_tensor(value):
        return [[_shown(e) for e in row] for row in value]
    try:
        return shown(value)
    except MemoryError:
        raise
    except Exception:
        try:
            text = exact_text(value)
        except MemoryError:
            raise
        except Exception:
            text = None
        return text if text and len(text) <= 200 else "(too large to print)"


def _item(report: Report, verdict: Verdict, expected, readable, skip: Skips, trace: bool,
          focus: tuple[Focus | None, str | None] = (None, None), focused: bool = False) -> ItemResult:
    """One item; ``trace``: cut its trace slice if it is wrong (and that part was not stopped);
    ``focus``: the way to it already worked out (Detail.FOCUSED), and why not, if it failed."""
    wrong = verdict.status in (Status.INCORRECT, Status.INVALID, Status.MISSING)
    notes = list(verdict.notes)
    way = None
    if wrong and (trace or focused) and skipped(skip, Phase.ANSWER, verdict.label) is None:
        why = skipped(skip, Phase.TRACE, verdict.label)
        if why is not None:
            notes.append(stopped(Phase.TRACE, why))
        elif trace:
            way = _slice_guarded(report, verdict, notes)
    if focus[1] is not None:
        notes.append(focus[1])
    return ItemResult(
        key=verdict.label,
        status=verdict.status,
        answer=verdict.answer,
        expected=expected,
        points=float(verdict.points),
        max_points=float(verdict.max_points),
        diagnosis=verdict.diagnosis,
        feedback=verdict.feedback,
        message=verdict.problem.render() if verdict.problem else verdict.shape_message,
        right_entries=verdict.right_entries,
        trace=way,
        location=verdict.location,
        note="; ".join(notes) or None,
        focus=focus[0],
        expected_text=readable,
        hint=verdict.hint,
    )


def _slice_guarded(report: Report, verdict: Verdict, notes: list[str]) -> Trace | None:
    """The trace slice; a failure leaves it out and says so (the grade stands)."""
    trace, words = _guarded(report, lambda: _slice(report, verdict), "the explanation", "worked out")
    if words:
        notes.append(words)
    return trace


def _slice(report: Report, verdict: Verdict) -> Trace | None:
    """The part of the trace that leads to this item's right answer (cut once per exercise and key)."""
    ex, key, memo = report.exercise, verdict.key, report.solution.memo
    if ("trace", key) not in memo:
        if isinstance(key, GradKey):
            memo["trace", key] = make_trace(report.solution.backward(key.of), ex.node(key.wrt))
        elif isinstance(key, ValueKey):
            memo["trace", key] = value_trace(ex.node(key.name), ex.values, ex.graph)
        elif isinstance(key, TrainKey):
            solution = report.solution
            memo["trace", key] = training_trace(ex.training, solution.trajectory(), ex.graph, key,
                                                solution.loss_name)
        else:
            memo["trace", key] = None
    return memo["trace", key]


def exit_code(results: list[FileResult]) -> int:
    """0 all correct, 1 some answer not correct, 2 some file unusable."""
    if any(r.error is not None for r in results):
        return 2
    return 0 if all(r.ok for r in results) else 1
