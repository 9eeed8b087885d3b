"""The pipeline every command runs: load → grade → explain → result.

Commands call these functions and hand what they return to a renderer; how
files are scheduled (in this process, or in a bounded worker) is decided
here, not in the command line.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from backprop_cli.autodiff.numbers import shown
from backprop_cli.exercise.asks import Form, check_key
from backprop_cli.exercise.keys import parse_key
from backprop_cli.exercise.load import answer_hint, load_exercise, looks_like_answers
from backprop_cli.exercise.model import Exercise
from backprop_cli.explain.trace import Trace, make_trace
from backprop_cli.explain.training import training_trace
from backprop_cli.grading import formula, runner
from backprop_cli.grading.budget import Skips, Watch
from backprop_cli.grading.results import (Detail, Explanation, FileResult, SolvedKey, exit_code,
                                          student_view, summarize, with_times)
from backprop_cli.grading.solver import Solution
from backprop_cli.grading.stopwatch import Stopwatch
from backprop_cli.grading.verdicts import grade_file
from backprop_cli.source.errors import BackpropError, Problem
from backprop_cli.source.limits import DEFAULT, Limits
from backprop_cli.source.yamlsrc import YMapping, YScalar, load_file, node_problem

if TYPE_CHECKING:
    from backprop_cli.explain.picture import Picture  # drawn only for the HTML formats: imported then


@dataclass(frozen=True)
class Answers:
    """An answers file: the answers, and the exercise id it says it is for (if any); or, for
    a file that cannot be read, why (each exercise is then reported ungraded, its points
    still counted)."""

    mapping: YMapping | None
    exercise_id: str | None
    unusable: Problem | None = None

    @classmethod
    def unreadable(cls, path: str | os.PathLike) -> "Answers":
        return cls(None, None, Problem(f"not graded: the answers file {path} cannot be read"))


@dataclass(frozen=True)
class CheckRun:
    """The outcome of ``check`` over some files: one record per file, in the order given."""

    results: list[FileResult]
    crashes: list[Exception]  # unexpected exceptions, kept for --debug
    notes: list[str] = field(default_factory=list)  # files given that were not used, and why

    @property
    def exit_code(self) -> int:
        return exit_code(self.results)

    @property
    def score(self) -> float:
        return sum(r.score for r in self.results)

    @property
    def max_score(self) -> float:
        return sum(r.max_score for r in self.results)


def load_answers(path: str | os.PathLike, limits: Limits = DEFAULT) -> Answers:
    """Read an answers file (``key: answer`` lines, optionally ``exercise: ID``)."""
    try:
        root = load_file(path, limits)
    except BackpropError as err:
        raise BackpropError([answer_hint(p) for p in err.problems]) from None
    if not isinstance(root, YMapping):
        raise BackpropError(node_problem(root, "an answers file is a YAML mapping of key: answer"))
    node = root.get("exercise")
    if node is not None and not (isinstance(node, YScalar) and not node.is_null):
        raise BackpropError(node_problem(node, "'exercise' names the exercise id"))
    return Answers(root, node.text.strip() if node is not None else None)


def is_answers_file(path: str | os.PathLike) -> bool:
    """A YAML mapping of answer keys with no 'backprop:' line: an answers file, not an exercise."""
    try:
        root = load_file(path)
    except BackpropError:
        return False  # the exercise reader says what is wrong with it
    return isinstance(root, YMapping) and looks_like_answers(root)


def check_one(path: str, answers: Answers | None, limits: Limits, watch: Watch,
              skip: Skips, picture: bool = False, salt: str | None = None,
              traces: bool = True, detail: Detail = Detail.FOCUSED) -> runner.Outcome:
    """Grade one file and summarise it for the renderers; nothing escapes but MemoryError.

    With ``picture``, the result also carries the graph with the asked items marked.
    ``traces``: explain each wrong answer; ``detail``: how much of the trace that keeps.
    Each item's time is kept.
    """
    mapping, exercise_id, unusable = (answers.mapping, answers.exercise_id, answers.unusable) if answers \
        else (None, None, None)
    timer = Stopwatch(watch)
    report = grade_file(path, mapping, exercise_id, limits, timer, skip, salt, unusable)
    try:
        result = summarize(report, timer, skip, picture, limits, traces, detail=detail)
    except MemoryError:
        raise
    except Exception as err:  # a bug must not cost the other files their grades
        error = (f"internal error while reporting on {path}: {type(err).__name__}: {err} "
                 "(please report this)")
        return FileResult(path, None, None, error), err
    return with_times(result, timer.seconds, timer.stop()), report.crash


def check(paths: list[str], answers: Answers | None = None, limits: Limits = DEFAULT,
          bounded: bool = True, pictures: bool = False, salt: str | None = None,
          traces: bool = True, detail: Detail = Detail.FOCUSED) -> CheckRun:
    """Grade every file; with ``bounded``, in a worker that bounds each answer's time and memory.

    ``pictures`` draws each file's graph with the asked items marked (the HTML report).
    With ``salt``, each file must be a student's variant, unedited but for its answers.
    ``traces``: explain each wrong answer (only text, Markdown and Gradescope output show
    it, and deep networks take seconds to trace); ``detail``: the whole slice of the trace
    (FULL) or only the way to the wrong thing (FOCUSED, the text report's default).
    """
    grade = functools.partial(_grade_with, answers, limits, pictures, salt, traces, detail)
    outcomes = run_files(paths, grade, limits, bounded)
    return CheckRun([result for result, _ in outcomes], [crash for _, crash in outcomes if crash])


def run_files(paths: list[str], grade: runner.GradeOne, limits: Limits = DEFAULT,
              bounded: bool = True) -> list[runner.Outcome]:
    """``grade`` each path, in a bounded worker or (``bounded=False``) in this process."""
    if not bounded:
        return runner.run_inline(paths, grade)
    import sympy.tensor.tensor  # noqa: F401  SymPy imports it on the first sum it builds: here, once,
    # before the worker is forked, rather than in each worker (copying every page it touches)
    return runner.run_bounded(paths, grade, limits)


def _grade_with(answers: Answers | None, limits: Limits, pictures: bool, salt: str | None, traces: bool,
                detail: Detail, path: str, watch: Watch, skip: Skips) -> runner.Outcome:
    return check_one(path, answers, limits, watch, skip, pictures, salt, traces, detail)


def check_with_key(key_folder: str, paths: list[str], limits: Limits = DEFAULT, bounded: bool = True,
                   traces: bool = True, pictures: bool = False) -> CheckRun:
    """Grade the answers in a student's files (or folders) against the teacher's key.

    Every exercise of the key gets a result, in the key's order: a file that is
    missing has every item missing, one that cannot be read is an error.
    """
    from backprop_cli.grading.classrun import grade_files, solved_key
    from backprop_cli.grading.submissions import Found, find_files

    key = solved_key(key_folder, limits)
    files, skipped = [], []
    for path in paths:
        if os.path.isdir(path):
            found = find_files(path, path.rstrip("/") or path)
            files += found.files
            skipped += found.skipped
        else:
            files.append((path, path))
    grade = grade_files(key, "", Found(files, skipped), limits, bounded, traces, pictures)
    return CheckRun([student_view(r) for r in grade.results()], grade.crashes, grade.notes)


def grade_class(key_folder: str, submissions: str, jobs: int = 1, limits: Limits = DEFAULT,
                bounded: bool = True, progress=None, pictures: bool = False):
    """A class's gradebook (see :mod:`backprop_cli.grading.classrun`)."""
    from backprop_cli.grading.classrun import grade_class as run

    return run(key_folder, submissions, jobs, limits, bounded, progress, pictures)


@dataclass(frozen=True)
class Solved:
    """The answer key of one exercise: each asked key (or every key) under the label an answers
    file uses, with its right answer as ``solve`` prints it."""

    exercise: Exercise
    keys: list[SolvedKey]


def solve(path: str | os.PathLike, every: bool = False) -> Solved:
    """The right answer of each asked key (or of ``every`` key, ``solve --all``), so that what
    ``solve`` writes ``check --answers`` reads back: a key asked both as a value and as a
    formula under two labels, and a formula ask's answer its formula."""
    exercise = load_exercise(path)
    solution = Solution(exercise)
    if every:
        return Solved(exercise, [SolvedKey(str(key), shown(solution.expected(key)))
                                 for key in solution.every_key()])
    solved = []
    for ask in exercise.asks:
        if ask.form is Form.FORMULA:
            text, why = formula.formula_text(exercise, ask.key)
            solved.append(SolvedKey(ask.answer_key, text, why))
        else:
            solved.append(SolvedKey(ask.answer_key, shown(solution.expected(ask.key))))
    return Solved(exercise, solved)


def load(path: str | os.PathLike, limits: Limits = DEFAULT) -> Exercise:
    """Read and check one exercise file (``validate``)."""
    return load_exercise(path, limits)


def load_expression(expression: str, given: list[str], upstream: list[str]) -> Exercise:
    """A one-step exercise from ``explain --expr``'s text."""
    from backprop_cli.exercise.expression import load_expression as build

    return build(expression, given, upstream)


def explain(exercise: Exercise, of: str | None = None, wrt: str | None = None,
            entry: str | None = None) -> Trace:
    """The trace of d(of)/d(...): whole, the slice that leads to ``wrt``, or one entry's chain;
    for ``of`` a training value (``w@2``), each update that leads to it."""
    if of is not None and "@" in of:
        return _training_trace(exercise, Solution(exercise), of)
    run, wrt_node = backward_pass(exercise, of, wrt)
    if entry is not None:
        from backprop_cli.explain.entries import entry_trace, parse_entry

        return entry_trace(run, wrt_node, parse_entry(entry, exercise.values[wrt_node], wrt))
    return make_trace(run, wrt_node)


def picture(exercise: Exercise, of: str | None = None, wrt: str | None = None,
            limits: Limits = DEFAULT) -> Picture:
    """The graph drawn with values and gradients of ``of``; ``wrt``'s paths highlighted."""
    from backprop_cli.explain.picture import build as build_picture
    from backprop_cli.explain.picture import too_big, without_values

    note = too_big(len(exercise.graph.nodes), limits.max_picture_nodes)
    if note is not None:
        raise BackpropError(f"{note}: use --format text, markdown or json")
    run, wrt_node = backward_pass(exercise, of, wrt)
    drawn = build_picture(run, exercise.title or exercise.id, wrt_node)
    return without_values(drawn) if exercise.hide_expected else drawn


def explanation(exercise: Exercise, of: str | None = None, wrt: str | None = None,
                limits: Limits = DEFAULT) -> Explanation:
    """The trace and, when the graph is small enough to draw, its picture (the HTML page)."""
    trace = explain(exercise, of, wrt)
    return Explanation(exercise.title or exercise.id, exercise.prompt, trace,
                       *drawing(exercise, of, wrt, limits))


def drawing(exercise: Exercise, of: str | None = None, wrt: str | None = None,
            limits: Limits = DEFAULT) -> tuple[Picture | None, str | None]:
    """The picture, or None and why the graph is not drawn (it is too big, or ``of`` is a
    value after training updates, which the trace explains instead)."""
    from backprop_cli.explain.picture import too_big

    if of is not None and "@" in of:
        return None, f"{of} is a value after training updates: the trace explains it"
    note = too_big(len(exercise.graph.nodes), limits.max_picture_nodes)
    return (picture(exercise, of, wrt, limits), None) if note is None else (None, note)


def backward_pass(exercise: Exercise, of: str | None = None, wrt: str | None = None):
    """The backward pass of ``of`` (default: the loss) and the ``wrt`` node, both checked."""
    solution = Solution(exercise)
    of = of or solution.loss_name
    if "@" in of:
        raise BackpropError(f"--of {of}: a value after training updates has a trace "
                            "(--format text, markdown or json) but no picture")
    if of not in exercise.graph.by_name and not (exercise.upstream and of == exercise.upstream.name):
        raise BackpropError(f"--of {of}: there is no step or outside loss called '{of}'")
    wrt_node = None
    if wrt is not None:
        wrt_node = exercise.graph.by_name.get(wrt)
        if wrt_node is None:
            raise BackpropError(f"--wrt {wrt}: there is no given or step called '{wrt}'")
    return solution.backward(of), wrt_node


def _training_trace(exercise: Exercise, solution: Solution, of: str) -> Trace:
    """``explain --of w@2``: each update of a parameter up to the second, or a step after them."""
    key = parse_key(of)
    problem = check_key(key, of, exercise.graph, exercise.upstream and exercise.upstream.name,
                        exercise.training)
    if problem is not None:
        raise BackpropError(f"--of {of}: {problem}")
    return training_trace(exercise.training, solution.trajectory(), exercise.graph, key, solution.loss_name)
