"""Grading a student's answers against an exercise's exact solution.

One :class:`Verdict` per asked key; a :class:`Report` per exercise file.
These are plain data: the renderers (terminal, JSON, ...) take them as they
are.  ``diagnosis`` stays None here; naming the mistake builds on this.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

import sympy as sp

from backprop_cli.errors import BackpropError, Problem
from backprop_cli.exercise import Ask, Exercise, Number, read_grid, read_number
from backprop_cli.keys import Key, parse_key
from backprop_cli.limits import DEFAULT, Limits
from backprop_cli.numbers import equal, within_tolerance
from backprop_cli.solver import Solution
from backprop_cli.tensor import Value, is_tensor, shape, shape_text
from backprop_cli.yamlsrc import YMapping, YNode, YScalar, YSequence


class Status(str, enum.Enum):
    CORRECT = "correct"
    INCORRECT = "incorrect"
    MISSING = "missing"
    INVALID = "invalid"


@dataclass
class Verdict:
    key: Key
    status: Status
    expected: Value
    max_points: sp.Expr
    answer: str | list[list[str]] | None = None  # as the student wrote it; rows for a tensor
    problem: Problem | None = None  # why an invalid answer cannot be read
    shape_message: str | None = None  # a tensor answer of the wrong shape
    right_entries: list[list[bool]] | None = None  # a tensor answer of the right shape
    diagnosis: str | None = None
    feedback: str | None = None

    @property
    def points(self) -> sp.Expr:
        return self.max_points if self.status is Status.CORRECT else sp.Integer(0)


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


def judge(answer: Number, expected: sp.Expr, exercise: Exercise) -> bool:
    """Exact answers must be equal; decimal ones within the exercise's tolerance."""
    if answer.decimal:
        tol = exercise.tolerance
        return within_tolerance(answer.value, expected, tol.rel, tol.abs)
    return equal(answer.value, expected)


def answer_entries(answers: YMapping | None) -> tuple[dict[Key, YNode], list[str]]:
    """Answers by key, and the keys that are not keys at all."""
    found: dict[Key, YNode] = {}
    unreadable: list[str] = []
    for key_node, value in answers.items if answers else []:
        if key_node.text == "exercise":
            continue
        key = parse_key(key_node.text)
        if key is None:
            unreadable.append(key_node.text)
        else:
            found[key] = value
    return found, unreadable


def grade(exercise: Exercise, answers: YMapping | None = None, limits: Limits = DEFAULT) -> Report:
    """Grade ``answers`` (default: the exercise's own ``answers:``) item by item."""
    solution = Solution(exercise)
    report = Report(exercise.file, exercise, solution)
    given, unreadable = answer_entries(answers if answers is not None else exercise.answers)
    asked = {ask.key for ask in exercise.asks}
    for ask in exercise.asks:
        report.items.append(_grade_one(ask, given.get(ask.key), solution, limits))
    report.not_asked = [str(k) for k in given if k not in asked] + unreadable
    return report


def _grade_one(ask: Ask, node: YNode | None, solution: Solution, limits: Limits) -> Verdict:
    expected = solution.expected(ask.key)
    verdict = Verdict(ask.key, Status.MISSING, expected, ask.points)
    if node is None or (isinstance(node, YScalar) and node.is_null):
        return verdict
    if isinstance(node, YScalar):
        verdict.answer = node.text.strip()
    try:
        answer = read_answer(node, limits)
    except BackpropError as err:
        verdict.status, verdict.problem = Status.INVALID, err.problems[0]
        return verdict
    verdict.answer = [[n.text for n in row] for row in answer] if isinstance(answer, list) else answer.text
    grid = _as_grid(answer)
    want = shape(expected) or (1, 1)  # a scalar and a 1x1 answer are the same thing
    got = (len(grid), len(grid[0]))
    if got != want:
        verdict.status = Status.INCORRECT
        verdict.shape_message = (f"wrong shape: your answer is {shape_text(got)}, but {ask.key} is "
                                 f"{shape_text(shape(expected))}")
        return verdict
    expected_grid = expected if is_tensor(expected) else [[expected]]
    right = [[judge(a, expected_grid[i][j], solution.exercise) for j, a in enumerate(row)]
             for i, row in enumerate(grid)]
    if isinstance(answer, list):
        verdict.right_entries = right
    verdict.status = Status.CORRECT if all(all(r) for r in right) else Status.INCORRECT
    return verdict


def read_answer(node: YNode, limits: Limits = DEFAULT) -> Number | list[list[Number]]:
    """A number, or the rows of a tensor (a flat list is a column vector)."""
    if isinstance(node, YSequence):
        return read_grid(node, "this answer", limits)
    return read_number(node, "this answer", limits)


def _as_grid(answer: Number | list[list[Number]]) -> list[list[Number]]:
    return answer if isinstance(answer, list) else [[answer]]


def grade_file(path: str, answers: YMapping | None = None, answers_for: str | None = None,
               limits: Limits = DEFAULT) -> Report:
    """Load and grade one file; whatever goes wrong stays inside its report.

    ``answers_for`` is the ``exercise:`` id an answers file names, if any.
    """
    from backprop_cli.exercise import load_exercise

    report = Report(path)
    try:
        exercise = load_exercise(path, limits)
        if answers_for is not None and answers_for != exercise.id:
            raise BackpropError(Problem(
                f"the answers file is for exercise '{answers_for}', but {path} is '{exercise.id}'"))
        return grade(exercise, answers, limits)
    except BackpropError as err:
        report.problems = err.problems
    except Exception as err:  # a bug must not cost the other files their grades
        report.problems = [Problem(f"internal error while grading {path}: "
                                   f"{type(err).__name__}: {err} (please report this)")]
        report.crash = err
    return report
