"""Question tests: sample answer sets with the verdicts the teacher expects.

```yaml
tests:
  - name: forgot the factor 2
    answers: {dloss/dw: -1}
    expect: {dloss/dw: {status: incorrect, diagnosis: missing-factor}}
  - name: the key itself
    answers: key            # the solved answers
    expect: all-correct
```

Each test's answers are graded exactly as ``check`` grades a student's, and
``validate`` reports every expectation that does not hold.  An answer may be
written over the givens (``2*x*(x*w - y)``), so one test serves every variant
of a template.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from backprop_cli.authoring.findings import Code, Finding, error
from backprop_cli.autodiff.numbers import shown
from backprop_cli.exercise.asks import Form, answer_label
from backprop_cli.exercise.model import Exercise
from backprop_cli.exercise.reading import read_text, where_in, where_of
from backprop_cli.grading import formula
from backprop_cli.grading.solver import Solution
from backprop_cli.grading.verdicts import Status, Verdict, grade
from backprop_cli.source.errors import BackpropError, Problem, Where
from backprop_cli.source.limits import DEFAULT, Limits
from backprop_cli.source.yamlsrc import YMapping, YNode, YScalar, YSequence, is_missing, node_problem

FIELDS = ("name", "answers", "expect")
MAX_TESTS = 200  # question tests in one exercise (each grades a set of answers)
KEY = "key"  # answers: key -- the solved answers
ALL_CORRECT = "all-correct"
# The codes SPEC.md names; a test expecting another is a typo.
DIAGNOSES = ("carried-forward", "update-sign", "transpose", "missing-mean", "missing-upstream",
             "activation-not-derivative", "missing-path", "missing-factor", "sign", "rounding",
             "flipped-kernel", "batch-not-summed", "softmax-missing-onehot")
ANY = object()  # no diagnosis written: any will do
STATUSES = tuple(s.value for s in Status)


@dataclass(frozen=True)
class Expectation:
    status: Status
    diagnosis: object  # a code, None (no diagnosis), or ANY
    where: Where


@dataclass(frozen=True)
class QuestionTest:
    name: str
    where: Where
    answers: YMapping | None  # None: the solved answers
    answers_node: YNode
    expect: dict[str, Expectation] | None  # None: every asked answer correct


@dataclass(frozen=True)
class TestOutcome:
    name: str
    passed: bool
    failures: tuple[Problem, ...] = ()


def read_tests(root: YNode, exercise: Exercise) -> list[QuestionTest]:
    """The exercise's ``tests:``, checked against what it asks; every problem at once."""
    node = root.get("tests") if isinstance(root, YMapping) else None
    if is_missing(node):
        return []
    if not isinstance(node, YSequence):
        raise BackpropError(node_problem(node, "'tests' must be a list of question tests",
                                         "each test has 'name', 'answers' and 'expect'"))
    if len(node.items) > MAX_TESTS:
        raise BackpropError(node_problem(node, f"an exercise has at most {MAX_TESTS} question tests "
                                               f"(this one has {len(node.items)})"))
    asked = {ask.answer_key for ask in exercise.asks}
    tests, problems = [], []
    for i, item in enumerate(node.items):
        try:
            tests.append(_read_test(item, i + 1, asked))
        except BackpropError as err:
            problems += err.problems
    if problems:
        raise BackpropError(problems)
    return tests


def _read_test(item: YNode, number: int, asked: set[str]) -> QuestionTest:
    if not isinstance(item, YMapping):
        raise BackpropError(node_problem(item, "a question test is a mapping with 'name', 'answers' "
                                               "and 'expect'"))
    problems = [node_problem(item.key_node(k), f"unknown field '{k}' in a question test",
                             "a test has " + ", ".join(FIELDS)) for k in item.keys() if k not in FIELDS]
    problems += [node_problem(item, f"this question test has no '{k}'") for k in FIELDS[1:]
                 if item.get(k) is None]
    if problems:
        raise BackpropError(problems)
    name = read_text(item.get("name"), "a test's name").strip() if item.get("name") else f"test {number}"
    answers_node, expect_node = item.get("answers"), item.get("expect")
    answers = None
    if isinstance(answers_node, YMapping):
        answers = answers_node
        for key, _ in answers.items:
            _asked_label(key, asked, f"test '{name}' answers")
    elif not (isinstance(answers_node, YScalar) and answers_node.text.strip() == KEY):
        raise BackpropError(node_problem(answers_node, f"test '{name}': 'answers' is a mapping of "
                                                       "key: answer, or the word 'key' for the solved answers"))
    if isinstance(expect_node, YScalar) and expect_node.text.strip() == ALL_CORRECT:
        expect = None
    elif isinstance(expect_node, YMapping):
        expect = {_asked_label(key, asked, f"test '{name}' expects"): _expectation(value, name)
                  for key, value in expect_node.items}
    else:
        raise BackpropError(node_problem(expect_node, f"test '{name}': 'expect' is '{ALL_CORRECT}', or a "
                                                      "mapping of key: {status, diagnosis}"))
    return QuestionTest(name, where_of(item), answers, answers_node, expect)


def _asked_label(key: YScalar, asked: set[str], what: str) -> str:
    label = answer_label(key.text)
    if label is None or label not in asked:
        close = difflib.get_close_matches(key.text, sorted(asked), n=1)
        hint = f"did you mean '{close[0]}'?" if close else "asked: " + ", ".join(sorted(asked))
        raise BackpropError(node_problem(key, f"{what} '{key.text}', which is not asked", hint))
    return label


def _expectation(node: YNode, name: str) -> Expectation:
    if isinstance(node, YScalar):  # a bare status: {dloss/dw: correct}
        return Expectation(_status(node, name), ANY, where_in(node))
    if not isinstance(node, YMapping):
        raise BackpropError(node_problem(node, f"test '{name}': expect {{status, diagnosis}} for a key"))
    for key in node.keys():
        if key not in ("status", "diagnosis"):
            raise BackpropError(node_problem(node.key_node(key), f"unknown field '{key}' in an expectation",
                                             "an expectation has 'status' and 'diagnosis'"))
    if node.get("status") is None:
        raise BackpropError(node_problem(node, f"test '{name}': this expectation has no 'status'"))
    diagnosis: object = ANY
    if node.get("diagnosis") is not None:
        written = node.get("diagnosis")
        diagnosis = None if is_missing(written) else read_text(written, "diagnosis").strip()
        if diagnosis is not None and diagnosis not in DIAGNOSES:
            close = difflib.get_close_matches(diagnosis, DIAGNOSES, n=1)
            raise BackpropError(node_problem(written, f"unknown diagnosis '{diagnosis}'",
                                             f"did you mean '{close[0]}'?" if close else
                                             "diagnoses: " + ", ".join(DIAGNOSES)))
    return Expectation(_status(node.get("status"), name), diagnosis, where_of(node))


def _status(node: YNode, name: str) -> Status:
    text = read_text(node, "status").strip()
    if text not in STATUSES:
        raise BackpropError(node_problem(node, f"test '{name}': unknown status '{text}'",
                                         "a status is " + ", ".join(STATUSES)))
    return Status(text)


# ------------------------------------------------------------------ running

def solved_answers(exercise: Exercise, at: YNode, solution: Solution | None = None) -> YMapping:
    """The exercise's own key as an answers mapping (what ``answers: key`` means)."""
    solution = solution or Solution(exercise)
    items = []
    for ask in exercise.asks:
        if ask.form is Form.FORMULA:
            value, _ = formula.formula_text(exercise, ask.key)  # None: the language cannot write it
        else:
            value = shown(solution.expected(ask.key))
        if value is not None:
            items.append((_scalar(at, ask.answer_key), _node(at, value)))
    return YMapping(at.location, at.source, items)


def _scalar(at: YNode, text: str) -> YScalar:
    return YScalar(at.location, at.source, text, "double")


def _node(at: YNode, value) -> YNode:
    if isinstance(value, list):
        return YSequence(at.location, at.source, [_node(at, v) for v in value])
    return _scalar(at, value)


def _verdict_words(verdict: Verdict) -> str:
    words = verdict.status.value
    return words + (f" [{verdict.diagnosis}]" if verdict.diagnosis else "")


def _expected_words(expect: Expectation) -> str:
    if expect.diagnosis is ANY:
        return expect.status.value
    return expect.status.value + (f" [{expect.diagnosis}]" if expect.diagnosis else " with no diagnosis")


def run_test(test: QuestionTest, exercise: Exercise, limits: Limits = DEFAULT,
             solution: Solution | None = None) -> TestOutcome:
    solution = solution or Solution(exercise)
    answers = test.answers if test.answers is not None else solved_answers(exercise, test.answers_node, solution)
    report = grade(exercise, answers, limits, solution=solution)
    failures = []
    if test.expect is None:
        for verdict in report.items:
            if verdict.status is not Status.CORRECT:
                failures.append(test.where.problem(
                    f"question test '{test.name}' does not hold: it expects every answer correct, but "
                    f"{verdict.label} is {_verdict_words(verdict)}"))
    else:
        by_label = {v.label: v for v in report.items}
        for label, expect in test.expect.items():
            verdict = by_label[label]
            if verdict.status is not expect.status or (
                    expect.diagnosis is not ANY and verdict.diagnosis != expect.diagnosis):
                failures.append(expect.where.problem(
                    f"question test '{test.name}' does not hold: {label} is {_verdict_words(verdict)}, "
                    f"but the test expects {_expected_words(expect)}"))
    return TestOutcome(test.name, not failures, tuple(failures))


def run_tests(root: YNode, exercise: Exercise, limits: Limits = DEFAULT,
              solution: Solution | None = None) -> tuple[list[TestOutcome], list[Finding]]:
    """Every question test of the file, graded against ``exercise``; a finding per failure."""
    try:
        tests = read_tests(root, exercise)
    except BackpropError as err:
        return [], [error(Code.QUESTION_TEST, p) for p in err.problems]
    solution = solution or Solution(exercise)
    outcomes = [run_test(t, exercise, limits, solution) for t in tests]
    return outcomes, [error(Code.QUESTION_TEST, p) for o in outcomes for p in o.failures]
