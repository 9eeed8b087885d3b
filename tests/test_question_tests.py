"""Question tests (``tests:`` in an exercise): sample answers with the verdicts expected.

``validate`` must catch a deliberately wrong hand-written key, report each expectation
that does not hold at its line, and refuse a malformed ``tests:`` block with positions.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_runner import invoke

from backprop_cli.authoring.questiontests import read_tests, run_test, solved_answers
from backprop_cli.exercise.load import load_exercise
from backprop_cli.source.errors import BackpropError
from backprop_cli.source.yamlsrc import load_file

HEAD = """backprop: 1
given:
  x: 1
  y: 2
  w: 1
steps:
  y_hat: x * w
  r: y_hat - y
  loss: r**2
ask: [loss, dloss/dr, dloss/dw]
"""


def write(tmp_path, tests: str) -> Path:
    path = tmp_path / "ex.yaml"
    path.write_text(HEAD + "tests:\n" + tests, encoding="utf-8")
    return path


def at(path: Path, line: int, anchor: str) -> str:
    """``file:line:col: `` of the first ``anchor`` on that line (columns from 1)."""
    text = path.read_text(encoding="utf-8").splitlines()[line - 1]
    assert anchor in text, (text, anchor)
    return f"{path}:{line}:{text.index(anchor) + 1}: "


def test_a_wrong_hand_written_key_is_caught(tmp_path):
    """The teacher believes dloss/dw is -4 (it is -2): the test that says so does not hold."""
    path = write(tmp_path, "  - name: my key\n    answers: {loss: 1, dloss/dr: -2, dloss/dw: -4}\n"
                           "    expect: all-correct\n")
    result = invoke("validate", path)
    assert result.exit_code == 2
    assert at(path, 12, "name") + ("question test 'my key' does not hold: it expects every answer correct, "
                                   "but dloss/dw is incorrect\n") in result.stderr
    assert "failed" in result.stdout and "0 of 1 question test pass" in result.stdout


def test_a_wrong_key_expected_correct_per_key(tmp_path):
    path = write(tmp_path, "  - name: the factor 2\n    answers: {dloss/dw: -1}\n"
                           "    expect: {dloss/dw: {status: correct}}\n")
    result = invoke("validate", path)
    assert result.exit_code == 2
    assert at(path, 14, "{status") + ("question test 'the factor 2' does not hold: dloss/dw is incorrect "
                                      "[missing-factor], but the test expects correct") in result.stderr


def test_holding_tests_pass(tmp_path):
    path = write(tmp_path, """  - name: forgot the factor 2
    answers: {dloss/dw: -1}
    expect: {dloss/dw: {status: incorrect, diagnosis: missing-factor}}
  - name: the key itself
    answers: key
    expect: all-correct
  - name: a formula over the givens
    answers: {dloss/dw: "2*x*(x*w - y)"}
    expect: {dloss/dw: correct}
  - name: nothing answered
    answers: {}
    expect: {loss: missing, dloss/dw: {status: missing, diagnosis: null}}
  - name: unreadable
    answers: {dloss/dw: "2x"}
    expect: {dloss/dw: invalid}
""")
    result = invoke("validate", "--format", "json", path)
    assert result.exit_code == 0, result.stdout
    tests = json.loads(result.stdout)["files"][0]["tests"]
    assert [t["name"] for t in tests] == ["forgot the factor 2", "the key itself", "a formula over the givens",
                                          "nothing answered", "unreadable"]
    assert all(t["passed"] and t["failures"] == [] for t in tests)


def test_a_wrong_diagnosis_is_reported(tmp_path):
    path = write(tmp_path, "  - answers: {dloss/dw: 2}\n"
                           "    expect: {dloss/dw: {status: incorrect, diagnosis: missing-factor}}\n"
                           "  - answers: {dloss/dw: 2}\n"
                           "    expect: {dloss/dw: {status: incorrect, diagnosis: null}}\n")
    result = invoke("validate", path)
    assert result.exit_code == 2
    assert ("question test 'test 1' does not hold: dloss/dw is incorrect [sign], but the test expects "
            "incorrect [missing-factor]") in result.stderr
    assert ("question test 'test 2' does not hold: dloss/dw is incorrect [sign], but the test expects "
            "incorrect with no diagnosis") in result.stderr


@pytest.mark.parametrize("tests,line,anchor,words", [
    ("  answers: key\n", 12, "answers", "'tests' must be a list"),
    ("  - name: t\n    answers: key\n", 12, "name", "this question test has no 'expect'"),
    ("  - answers: key\n    expect: all-correct\n    extra: 1\n", 14, "extra", "unknown field 'extra'"),
    ("  - answers: {dloss/dx: 1}\n    expect: all-correct\n", 12, "dloss/dx", "'dloss/dx', which is not asked"),
    ("  - answers: {dlos/dw: 1}\n    expect: all-correct\n", 12, "dlos/dw", "did you mean 'dloss/dw'?"),
    ("  - answers: key\n    expect: {dloss/dw: {status: wrong}}\n", 13, "wrong", "unknown status 'wrong'"),
    ("  - answers: key\n    expect: {dloss/dw: {status: incorrect, diagnosis: missing-factr}}\n", 13,
     "missing-factr", "did you mean 'missing-factor'?"),
    ("  - answers: key\n    expect: {dloss/dw: {verdict: correct}}\n", 13, "verdict", "unknown field 'verdict'"),
    ("  - answers: [1, 2]\n    expect: all-correct\n", 12, "[1", "'answers' is a mapping"),
    ("  - answers: key\n    expect: everything\n", 13, "everything", "'expect' is 'all-correct'"),
    ("  - 3\n", 12, "3", "a question test is a mapping"),
])
def test_a_malformed_tests_block_is_positioned(tmp_path, tests, line, anchor, words):
    path = write(tmp_path, tests)
    result = invoke("validate", path)
    assert result.exit_code == 2
    where = at(path, line, anchor)
    assert where in result.stderr, result.stderr
    problem = result.stderr.split(where, 1)[1].split(f"\n{path}:", 1)[0]  # its message, snippet and hint
    assert words in problem, result.stderr


def test_every_problem_of_the_block_at_once(tmp_path):
    path = write(tmp_path, "  - answers: {dloss/dx: 1}\n    expect: all-correct\n"
                           "  - answers: key\n    expect: {dloss/dw: {status: wrong}}\n")
    stderr = invoke("validate", path).stderr
    assert at(path, 12, "dloss/dx") in stderr and at(path, 15, "wrong") in stderr


def test_check_ignores_the_tests():
    """Tests are the teacher's: check grades the answers and never runs them."""
    path = Path(__file__).resolve().parents[1] / "exercises" / "linear-model.yaml"
    result = invoke("check", path, "--format", "json")
    assert result.exit_code == 1
    items = json.loads(result.stdout)["exercises"][0]["items"]
    assert {i["status"] for i in items} == {"missing"}


def test_the_solved_answers_are_all_correct_for_every_form(tmp_path):
    path = tmp_path / "forms.yaml"
    path.write_text(HEAD.replace("ask: [loss, dloss/dr, dloss/dw]",
                                 "ask: [loss, {key: dloss/dw, form: formula}, dloss/dw]")
                    + "tests:\n  - answers: key\n    expect: all-correct\n", encoding="utf-8")
    exercise = load_exercise(path)
    tests = read_tests(load_file(path), exercise)
    outcome = run_test(tests[0], exercise)
    assert outcome.passed, outcome.failures
    answers = solved_answers(exercise, load_file(path))
    assert [k.text for k, _ in answers.items] == ["loss", "dloss/dw (formula)", "dloss/dw"]


def test_reading_refuses_a_test_of_an_unasked_key(tmp_path):
    path = write(tmp_path, "  - answers: key\n    expect: {r: correct}\n")
    with pytest.raises(BackpropError) as err:
        read_tests(load_file(path), load_exercise(path))
    assert "'r', which is not asked" in str(err.value)


def test_the_number_of_tests_is_bounded(tmp_path):
    path = write(tmp_path, "  - answers: key\n    expect: all-correct\n" * 201)
    result = invoke("validate", path)
    assert result.exit_code == 2
    assert at(path, 12, "- answers") + "an exercise has at most 200 question tests (this one has 201)" in result.stderr
