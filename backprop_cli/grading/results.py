"""Check results as plain strings and numbers, ready for any renderer.

Grading works on exact SymPy values; renderers (terminal, JSON, and CI
formats) should not have to.  :func:`summarize` turns each
:class:`~backprop_cli.grading.Report` into a :class:`FileResult`, choosing the
printed form of every value and cutting the trace slice for wrong items.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import sympy as sp

from backprop_cli.grading.budget import Phase, Skips, Watch, failure_words, no_watch, skipped, stopped
from backprop_cli.grading.verdicts import Report, Status, Verdict, graph_order
from backprop_cli.exercise.keys import GradKey, ValueKey
from backprop_cli.autodiff.numbers import exact_text, shown
from backprop_cli.autodiff.tensor import is_tensor
from backprop_cli.exercise.model import Visibility
from backprop_cli.source.errors import Location
from backprop_cli.explain.trace import Trace, make_trace, value_trace
from backprop_cli.source.limits import DEFAULT, Limits

if TYPE_CHECKING:
    from backprop_cli.explain.picture import Picture  # drawn only for the HTML formats: imported then

PICTURE = "the graph picture"  # the label grading reports while it draws one


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

    @property
    def first_wrong(self) -> str | None:
        return self.wrong_in_order[0] if self.wrong_in_order else None

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
              reveal: bool = False) -> FileResult:
    """Strings and numbers for the renderers; ``watch`` and ``skip`` as in grading.grade.

    With ``picture``, the result carries the graph with the asked items marked on it.
    ``traces``: cut the trace slice of each wrong item (only text, Markdown and
    Gradescope show them).  ``reveal``: keep expected values and diagnoses of a
    ``hide_expected`` exercise, for the teacher's gradebook; :func:`student_view`
    hides them again.
    """
    ex = report.exercise
    if report.problems or ex is None:
        error = "\n".join(p.render() for p in report.problems) or "the file could not be used"
        if ex is None:
            return FileResult(report.file, None, None, error)
        # The exercise is known (only its answers could not be used): its points still count.
        asked = float(sum((ask.points for ask in ex.asks), sp.Integer(0)))
        return FileResult(report.file, ex.id, ex.title, error, max_score=asked)
    items, skip = [], skip or {}
    watch(Phase.LOADING, "")  # how the right answers print is the exercise's work, not an answer's
    expected = {v.label: _shown_once(report.solution, v) for v in report.items}
    for verdict in report.items:
        watch(Phase.TRACE, verdict.label)
        items.append(_item(report, verdict, expected[verdict.label], skip,
                           traces and (reveal or not ex.hide_expected)))
    wrong = sorted((v for v in report.items if v.status is not Status.CORRECT),
                   key=lambda v: graph_order(v.key, ex))
    drawn, note = (None, None)
    if picture:
        watch(Phase.TRACE, PICTURE)
        drawn, note = _picture_guarded(report, [v.label for v in wrong],
                                       skipped(skip, Phase.TRACE, PICTURE) is not None, limits)
    result = FileResult(report.file, ex.id, ex.title, None, items, list(report.not_asked),
                        float(report.score), float(report.max_score), [v.label for v in wrong],
                        drawn, note, hide_expected=ex.hide_expected, visibility=ex.visibility)
    return result if reveal else student_view(result)


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
    return replace(result, items=[replace(i, expected=None, diagnosis=None, feedback=None, trace=None)
                                  for i in result.items])


def with_times(result: FileResult, seconds: dict[str, float], total: float) -> FileResult:
    """The result with the time spent on each item and on the whole file."""
    return replace(result, seconds=total,
                   items=[replace(i, seconds=seconds.get(i.key, 0.0)) for i in result.items])


def _shown_once(solution, verdict: Verdict) -> str | list[list[str]]:
    """How the right answer prints: the same for every copy of the exercise, so worked out once."""
    key = ("shown", verdict.key)
    if key not in solution.memo:
        solution.memo[key] = _shown(verdict.expected)
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


def _item(report: Report, verdict: Verdict, expected, skip: Skips, trace: bool) -> ItemResult:
    """One item; ``trace``: cut its trace slice if it is wrong (and that part was not stopped)."""
    wrong = verdict.status in (Status.INCORRECT, Status.INVALID, Status.MISSING)
    notes = list(verdict.notes)
    way = None
    if wrong and trace and skipped(skip, Phase.ANSWER, verdict.label) is None:
        why = skipped(skip, Phase.TRACE, verdict.label)
        if why is not None:
            notes.append(stopped(Phase.TRACE, why))
        else:
            way = _slice_guarded(report, verdict, notes)
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
        else:
            memo["trace", key] = None
    return memo["trace", key]


def exit_code(results: list[FileResult]) -> int:
    """0 all correct, 1 some answer not correct, 2 some file unusable."""
    if any(r.error is not None for r in results):
        return 2
    return 0 if all(r.ok for r in results) else 1
