"""Grading a student's answers against an exercise's exact solution.

One :class:`Verdict` per asked key; a :class:`Report` per exercise file.
Each answer is read exactly (a number, a tensor, or an expression over the
givens), compared with the right value, and, when wrong, matched against the
mistakes :mod:`backprop_cli.grading.diagnosis` replays on the exercise's own graph.
These are plain data: the renderers take them as they are.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Iterable

import sympy as sp

from backprop_cli.autodiff.tensor import Value, from_rows, is_tensor, shape, shape_text
from backprop_cli.exercise.asks import Ask, Form, answer_label
from backprop_cli.exercise.keys import GradKey, Key, ValueKey
from backprop_cli.exercise.load import exercise_part
from backprop_cli.exercise.model import Exercise
from backprop_cli.exercise.reading import Number, read_grid, read_number
from backprop_cli.grading import advice, cache, compare, formula
from backprop_cli.grading.budget import Phase, Skips, Watch, failure_words, no_watch, skipped, stopped
from backprop_cli.grading.carried import carried_forward
from backprop_cli.grading.diagnosis import replayed
from backprop_cli.grading.replay import Candidate, Replay, StudentWork
from backprop_cli.grading.solver import Solution
from backprop_cli.source.errors import BackpropError, Location, Problem
from backprop_cli.source.limits import DEFAULT, Limits
from backprop_cli.source.yamlsrc import YMapping, YNode, YScalar, YSequence, is_missing, node_problem


class Status(str, enum.Enum):
    CORRECT = "correct"
    INCORRECT = "incorrect"
    MISSING = "missing"
    INVALID = "invalid"


Grid = compare.Grid


@dataclass
class Verdict:
    key: Key
    label: str  # the answer key, e.g. 'dloss/dw' or 'dloss/dw (formula)'
    status: Status
    expected: Value
    max_points: sp.Expr
    form: Form = Form.VALUE
    answer: str | list[list[str]] | None = None  # as the student wrote it; rows for a tensor
    problem: Problem | None = None  # why an invalid answer cannot be read
    shape_message: str | None = None  # a tensor answer of the wrong shape
    right_entries: list[list[bool]] | None = None  # a tensor answer of the right shape
    diagnosis: str | None = None
    feedback: str | None = None
    hint: str | None = None  # a missing answer written under a near-miss key: "did you mean ...?"
    share: sp.Expr = sp.Integer(0)  # of max_points earned short of correct (partial, carried forward)
    grid: Grid | None = None  # the answer as read, for diagnosis
    location: Location | None = None  # where the answer is written (file, line, column)
    notes: list[str] = field(default_factory=list)  # parts of the work cut short; how an answer was read

    @property
    def points(self) -> sp.Expr:
        return self.max_points if self.status is Status.CORRECT else self.max_points * self.share


@dataclass
class Report:
    """The outcome for one exercise file: graded items, or the problems that stopped it."""

    file: str
    exercise: Exercise | None = None
    solution: Solution | None = None
    items: list[Verdict] = field(default_factory=list)
    not_asked: list[str] = field(default_factory=list)  # answered keys nobody asked for
    problems: list[Problem] = field(default_factory=list)
    crash: Exception | None = None  # an unexpected exception, kept for --debug

    @property
    def ok(self) -> bool:
        return not self.problems and all(v.status is Status.CORRECT for v in self.items)

    @property
    def score(self) -> sp.Expr:
        return sum((v.points for v in self.items), sp.Integer(0))

    @property
    def max_score(self) -> sp.Expr:
        return sum((v.max_points for v in self.items), sp.Integer(0))


def graph_order(key: Key, exercise: Exercise) -> tuple:
    """Where an item stands in the work: forward values first, then gradients from the
    output back, then training steps; sorting wrong items by it finds the first wrong step."""
    nodes = exercise.graph.by_name
    if isinstance(key, ValueKey):
        return (0, nodes[key.name].index)
    if isinstance(key, GradKey):
        return (1, -nodes[key.wrt].index)
    return (2, key.step, nodes[key.name].index)


def answer_entries(answers: YMapping | None) -> tuple[dict[str, YNode], list[str]]:
    """Answers by canonical key, and the keys that are not keys at all."""
    found: dict[str, YNode] = {}
    unreadable: list[str] = []
    for key_node, value in answers.items if answers else []:
        if key_node.text == "exercise":
            continue
        label = answer_label(key_node.text)
        if label is None:
            unreadable.append(key_node.text)
        else:
            found[label] = value
    return found, unreadable


def grade(exercise: Exercise, answers: YMapping | None = None, limits: Limits = DEFAULT,
          watch: Watch = no_watch, skip: Skips | None = None, solution: Solution | None = None) -> Report:
    """Grade ``answers`` (default: the exercise's own ``answers:``) item by item.

    ``watch(phase, label)`` is called as work on each part starts (the sandbox
    times them by it).  The right answers are worked out first, on the
    exercise's clock; then each answer on its own.  Parts in ``skip`` are not
    done again: a stopped answer is invalid with the reason given, a stopped
    diagnosis leaves the verdict standing.  Whatever goes wrong while grading
    one answer makes that answer invalid, never the file's error.
    ``solution`` shares backward passes and training runs between gradings of
    one exercise (question tests grade several answer sets).
    """
    skip = skip or {}
    watch(Phase.LOADING, "")
    solution = solution or Solution(exercise)
    for ask in exercise.asks:  # the exercise's own work, the same for every student: cached
        solution.expected(ask.key)
    report = Report(exercise.file, exercise, solution)
    given, unreadable = answer_entries(answers if answers is not None else exercise.answers)
    for ask in exercise.asks:
        watch(Phase.ANSWER, ask.answer_key)
        node = given.get(ask.answer_key)
        why = skipped(skip, Phase.ANSWER, ask.answer_key)
        if why is not None:
            verdict = _unreadable(ask, node, solution, Problem(stopped(Phase.ANSWER, why)))
        else:
            verdict = _grade_guarded(ask, node, solution, limits, report)
        report.items.append(verdict)
    _explain_mistakes(report, watch, skip)
    asked = {ask.answer_key for ask in exercise.asks}
    report.not_asked = [label for label in given if label not in asked] + unreadable
    missing = {v.label: v for v in report.items if v.status is Status.MISSING}
    for label, written in advice.near_misses(list(missing), report.not_asked).items():
        missing[label].hint = f"you wrote {written}: did you mean {label}?"
    return report


def _unreadable(ask: Ask, node: YNode | None, solution: Solution, problem: Problem) -> Verdict:
    return Verdict(ask.key, ask.answer_key, Status.INVALID, solution.expected(ask.key), ask.points,
                   ask.form, problem=problem, answer=node.text.strip() if isinstance(node, YScalar) else None,
                   location=node.location if node is not None else None)


def _grade_guarded(ask: Ask, node: YNode | None, solution: Solution, limits: Limits,
                   report: Report) -> Verdict:
    """Grade one answer; any failure on the way is this answer's ``invalid``, never the file's."""
    try:
        return _grade_one(ask, node, solution, limits)
    except MemoryError:
        raise  # the sandbox decides which item ran out of memory
    except Exception as err:
        message, bug = failure_words(err, "this answer")
        if bug and report.crash is None:
            report.crash = err
        problem = node_problem(node, message) if node is not None else Problem(message)
        return _unreadable(ask, node, solution, problem)


def _grade_one(ask: Ask, node: YNode | None, solution: Solution, limits: Limits) -> Verdict:
    ex = solution.exercise
    expected = solution.expected(ask.key)
    verdict = Verdict(ask.key, ask.answer_key, Status.MISSING, expected, ask.points, ask.form,
                      location=node.location if node is not None else None)
    if is_missing(node):
        return verdict
    if isinstance(node, YScalar):
        verdict.answer = node.text.strip()
    try:
        if ask.form is Form.FORMULA:
            return _grade_formula(verdict, ask, node, solution, limits)
        answer = _read_once(node, solution, limits)  # `2*x*w` is read at the given values
    except BackpropError as err:
        verdict.status, verdict.problem = Status.INVALID, err.problems[0]
        return verdict
    grid, note = _as_read(answer, node, expected, ask.key)
    verdict.notes += [note] if note else []
    verdict.answer = [[n.text for n in row] for row in grid] if isinstance(answer, list) else answer.text
    verdict.grid = grid
    right = cache.table(solution, "answers judged").get_or_make(
        (ask.key, compare.content(grid)), lambda: compare.entry_verdicts(grid, expected, ex))
    got = (len(grid), len(grid[0]))
    if right is None:
        verdict.status = Status.INCORRECT
        verdict.shape_message = _shape_message(got, ask.key, expected)
        return verdict
    if isinstance(answer, list):
        verdict.right_entries = right
    n_right = sum(sum(row) for row in right)
    verdict.status = Status.CORRECT if n_right == got[0] * got[1] else Status.INCORRECT
    if ask.partial and verdict.status is Status.INCORRECT:
        verdict.share = sp.Rational(n_right, got[0] * got[1])
    return verdict


def _grade_formula(verdict: Verdict, ask: Ask, node: YNode, solution: Solution, limits: Limits) -> Verdict:
    """A formula over the givens, the same function as the right answer: one expression
    (``W.T @ (W @ x - y)``), or a list of rows of them, graded entry by entry for a tensor
    (a 1x1 result and a single formula are the same thing)."""
    ex = solution.exercise
    symbols = formula.given_symbols(ex)
    written: formula.Written
    if isinstance(node, YSequence):
        written = read_grid(node, "this formula", limits, symbols, step_names(ex))
        verdict.answer = [[n.text for n in row] for row in written]
    else:
        written = read_number(node, "this formula", limits, symbols, step_names(ex))
        verdict.answer = written.text
    got = shape(formula.written_value(written))
    if (got or (1, 1)) != (shape(verdict.expected) or (1, 1)):
        verdict.status = Status.INCORRECT
        verdict.shape_message = _shape_message(got, verdict.key, verdict.expected)
        return verdict
    right = formula.same_function(written, ex, verdict.key, verdict.label, limits)
    verdict.status = Status.CORRECT if all(right) else Status.INCORRECT
    if isinstance(written, list):
        width = len(written[0])
        verdict.right_entries = [right[i:i + width] for i in range(0, len(right), width)]
    if ask.partial and verdict.status is Status.INCORRECT:
        verdict.share = sp.Rational(sum(right), len(right))
    return verdict


def _shape_message(got: tuple, key: Key, expected: Value) -> str:
    return (f"wrong shape: your answer is {shape_text(got)}, but {key} is "
            f"{shape_text(shape(expected))}")


def step_names(exercise: Exercise) -> list[str]:
    """The steps an answer may not use (it uses the givens, or numbers)."""
    return [n.name for n in exercise.graph.named() if n.name not in exercise.given]


def read_answer(node: YNode, limits: Limits = DEFAULT, names=None, steps=()) -> Number | Grid:
    """A number, or the rows of a tensor (a flat list is a column vector)."""
    if isinstance(node, YSequence):
        return read_grid(node, "this answer", limits, names, steps)
    number = read_number(node, "this answer", limits, names, steps)
    if is_tensor(number.value):  # an expression such as W @ x, written over tensor givens
        return [[Number(number.text, e, number.decimal) for e in row] for row in number.value]
    return number



def _read_once(node: YNode, solution: Solution, limits: Limits) -> Number | Grid:
    """:func:`read_answer`, once per answer text and exercise (a problem is placed anew each time)."""
    def read() -> Number | Grid:
        return read_answer(node, limits, solution.exercise.given, step_names(solution.exercise))

    key = cache.answer_key(node)
    return read() if key is None else cache.table(solution, "answers read").get_or_make((key, limits), read)


def _as_read(answer: Number | Grid, node: YNode, expected: Value, key: Key) -> tuple[Grid, str | None]:
    """The answer as a grid of entries, and a note when it was read in a way the student may
    not have meant: a flat list (a column, by the format) for a row, read as that row; a bare
    0 for a tensor that is zero everywhere, read as that zero tensor."""
    s = shape(expected)
    if isinstance(answer, list):
        flat = isinstance(node, YSequence) and not any(isinstance(i, YSequence) for i in node.items)
        if flat and s and s[0] == 1 and s[1] > 1 and len(answer) == s[1]:
            return [[row[0] for row in answer]], (
                f"a flat list is a column, but {key} is a row ({shape_text(s)}); your list was read "
                f"as that row: write a row as [[...]]")
        return answer, None
    if s and answer.value == 0 and all(e == 0 for e in expected.flat):
        return [[answer] * s[1] for _ in range(s[0])], f"0 was read as the {shape_text(s)} zero matrix"
    return [[answer]], None


# ------------------------------------------------------------------ naming the mistakes

def _explain_mistakes(report: Report, watch: Watch, skip: Skips) -> None:
    """Diagnose each wrong answer; credit carried-forward items; link formulas to numbers."""
    ex, solution = report.exercise, report.solution
    readable = [v for v in report.items
                if v.form is Form.VALUE and v.grid is not None and v.shape_message is None]
    work = StudentWork({v.key: _grid_value(v.grid, v.expected) for v in readable},
                       {v.key for v in readable if v.status is Status.INCORRECT},
                       {v.key: _written(v.answer) for v in readable})
    formulas = {v.key: v for v in report.items if v.form is Form.FORMULA}
    replays = None  # made for the first wrong answer: converting every value costs a walk
    for verdict in report.items:
        if verdict.status is not Status.INCORRECT or verdict.form is Form.FORMULA or verdict.grid is None:
            continue
        watch(Phase.DIAGNOSIS, verdict.label)
        why = skipped(skip, Phase.DIAGNOSIS, verdict.label)
        if why is not None:
            verdict.notes.append(stopped(Phase.DIAGNOSIS, why))
            match = None
        else:
            replays = replays or (Replay(solution, work, exact=False), Replay(solution, work, exact=True))
            match = _diagnose_guarded(verdict, solution, work, replays, report)
        if match is not None:
            verdict.diagnosis, verdict.feedback = match
            if verdict.diagnosis == "carried-forward":
                verdict.share = max(verdict.share, ex.carry_forward)
        twin = formulas.get(verdict.key)
        if twin is not None and twin.status is Status.CORRECT:
            note = (f"your formula for {verdict.key} is right, but the number is not: put in the "
                    f"given values to get it")
            verdict.feedback = f"{verdict.feedback}; {note}" if verdict.feedback else note[0].upper() + note[1:]


def _written(answer: str | list[list[str]]) -> str:
    if isinstance(answer, str):
        return answer
    return "[" + ", ".join("[" + ", ".join(row) + "]" for row in answer) + "]"


def _grid_value(grid: Grid, expected: Value) -> Value:
    """The answer as a value of the expected one's kind: a 1x1 step answered ``5`` is [[5]]."""
    if not is_tensor(expected):
        return grid[0][0].value
    return from_rows([[n.value for n in row] for row in grid])


def _diagnose_guarded(verdict: Verdict, solution: Solution, work: StudentWork,
                      replays: tuple[Replay, Replay], report: Report) -> tuple[str, str] | None:
    """Name the mistake if we can; a failure leaves the verdict as it is, with no name."""
    try:
        return _diagnose(verdict, solution, work, *replays)
    except MemoryError:
        raise
    except Exception as err:  # a number too large to compare is no mistake we know; a bug is said
        words, bug = failure_words(err, "naming the mistake", "done")
        if bug:
            verdict.notes.append(words)
            report.crash = report.crash or err
        return None


def _diagnose(verdict: Verdict, solution: Solution, work: StudentWork, near: Replay,
              exact: Replay) -> tuple[str, str] | None:
    """The first classic mistake whose value is the answer: each is tried on floats first, and
    only one that matches there is computed exactly and compared as grading compares.  The
    mistakes that do not depend on the student's other answers are matched once per answer."""
    ex = solution.exercise
    found = _first_match(carried_forward(solution, verdict.key, work), verdict.grid, ex, near, exact)
    if found is not None:
        return found
    return cache.table(solution, "answers diagnosed").get_or_make(
        (verdict.key, compare.content(verdict.grid)), lambda: (_classic(verdict, solution, near, exact),))[0]


def _classic(verdict: Verdict, solution: Solution, near: Replay, exact: Replay) -> tuple[str, str] | None:
    ex = solution.exercise
    found = _first_match(replayed(solution, verdict.key), verdict.grid, ex, near, exact)
    if found is not None:
        return found
    off = advice.how_close(verdict.grid, verdict.expected)
    if compare.matches(verdict.grid, verdict.expected, ex, widen=10):
        tol = ex.tolerance
        return "rounding", (f"your answer is close ({off}), but outside the tolerance (relative "
                            f"{advice.tolerance_text(tol.rel)}, absolute {advice.tolerance_text(tol.abs)}): "
                            "keep more digits in the intermediate results")
    if off is not None:
        return None, f"{off}: carry more digits through the chain"
    return None


def _first_match(found: Iterable[Candidate], grid: Grid, ex: Exercise, near: Replay,
                 exact: Replay) -> tuple[str, str] | None:
    for candidate in found:
        try:
            if compare.near(grid, candidate.value(near), ex) and \
                    compare.matches(grid, candidate.value(exact), ex):
                return candidate.code, candidate.feedback
        except (BackpropError, ValueError, ArithmeticError):
            continue  # a replayed mistake that leaves a function's domain matches nothing
    return None


def grade_file(path: str, answers: YMapping | None = None, answers_for: str | None = None,
               limits: Limits = DEFAULT, watch: Watch = no_watch, skip: Skips | None = None,
               salt: str | None = None, unusable: Problem | None = None) -> Report:
    """Load and grade one file; whatever goes wrong stays inside its report.

    ``answers_for`` is the ``exercise:`` id an answers file names, if any; with ``salt`` the
    file must be a student's variant whose givens were not edited; ``unusable`` says why the
    answers cannot be graded at all (an answers file that cannot be read).  When the file
    cannot be graded but its exercise is known (only its ``answers:`` block is broken, the
    answers are for another exercise, or cannot be read), the report keeps the exercise, so
    that its points still count in the total.
    """
    report = Report(path)
    loaded = None
    try:
        try:
            loaded = cache.load(path, limits, salt, watch)
            report.exercise = loaded.exercise
        except BackpropError as err:
            report.exercise, err = exercise_part(path, err, limits, salt) or (None, err)
            raise err from None
        if unusable is not None:
            raise BackpropError(unusable)
        if answers_for is not None and answers_for != report.exercise.id:
            raise BackpropError(Problem(f"the answers file is for exercise '{answers_for}', but {path} "
                                        f"is '{report.exercise.id}'"))
        return grade(report.exercise, answers, limits, watch, skip, loaded.solution)
    except BackpropError as err:
        report.problems = loaded.own(err.problems) if loaded else err.problems
    except MemoryError:
        raise  # the sandbox decides which item ran out of memory
    except Exception as err:  # a bug must not cost the other files their grades
        report.problems = [Problem(f"internal error while grading {path}: "
                                   f"{type(err).__name__}: {err} (please report this)")]
        report.crash = err
    return report
