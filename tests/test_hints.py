"""Hints that point the right way: what students and authors really type, and what to write.

Each input below is one the issue lists, typed as an answer (or, for the function typo
and the YAML mistakes, in an exercise); the item is invalid and its message says what to
write instead.  Answer keys written the way the trace writes them are accepted, and a
near miss is named next to the item.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from backprop_cli.source.hints import closest, distance
from cli_runner import invoke

EXERCISE = """backprop: 1
given:
  x: 1
  w: 2
  y: 3
steps:
  a2: sigmoid(w*x)
  z: x*w
  loss: (a2 - y)**2
ask: [loss, z, dloss/dw]
answers:
  {key}: {answer}
"""


def check_json(tmp_path: Path, text: str, *args, code=1) -> dict:
    path = tmp_path / "ex.yaml"
    path.write_text(text, encoding="utf-8")
    result = invoke("check", path, "--format", "json", *args)
    assert result.exit_code == code, result.output
    return {i["key"]: i for i in json.loads(result.stdout)["exercises"][0]["items"]}


def answered(tmp_path: Path, key: str, answer: str) -> dict:
    return check_json(tmp_path, EXERCISE.format(key=key, answer=answer))[key]


@pytest.mark.parametrize("answer, hint", [
    ("σ(0)", "hint: write sigmoid(0)"),
    ("ln(2)", "hint: write log(2) (log is the natural logarithm)"),
    ("e^-1", "hint: write exp(-1)"),
    ("e**2", "hint: write exp(2)"),
    ("0,5", "hint: use a decimal point: 0.5"),
    ("-2,0", "hint: use a decimal point: -2.0"),
    ('"[[7, 7], [4, 9]]"', "hint: remove the quotes: [[7, 7], [4, 9]]"),
    ("array([[7,7],[4,9]])", "hint: write a YAML list: [[7, 7], [4, 9]]"),
    ("np.array([[7, 7], [4, 9]])", "hint: write a YAML list: [[7, 7], [4, 9]]"),
    ("tensor([[7, 7], [4, 9]])", "hint: write a YAML list: [[7, 7], [4, 9]]"),
    ("torch.tensor([1, 2])", "hint: write a YAML list: [1, 2]"),
])
def test_an_answer_gets_the_hint_that_fixes_it(tmp_path, answer, hint):
    item = answered(tmp_path, "z", answer)
    assert item["status"] == "invalid", item
    assert hint in item["message"], item["message"]
    assert "non-ASCII" not in item["message"] or "sigmoid" in item["message"]
    assert "ln*(" not in item["message"] and "lists are not allowed" not in item["message"]


def test_a_quoted_matrix_is_not_shown_as_if_it_were_right(tmp_path):
    path = tmp_path / "ex.yaml"
    path.write_text(EXERCISE.format(key="z", answer='"[[7, 7], [4, 9]]"'), encoding="utf-8")
    out = invoke("check", path).stdout
    line = next(line for line in out.splitlines() if line.startswith("  ") and " z " in line)
    assert "invalid" in line and "expected" not in line, line
    assert "remove the quotes" in out


def test_a_step_name_in_an_answer_is_named_as_a_step(tmp_path):
    item = answered(tmp_path, "dloss/dw", "2*(a2 - y)")
    assert item["status"] == "invalid"
    assert "'a2' is a step: write its value (or use only the givens)" in item["message"]


def test_a_value_answer_without_givens_says_so(tmp_path):
    item = answered(tmp_path, "loss", "a2**2")
    assert "'a2' is a step" in item["message"], item["message"]


def test_e_in_a_step_is_eulers_number(tmp_path):
    path = tmp_path / "ex.yaml"
    path.write_text("backprop: 1\ngiven:\n  x: 1\nsteps:\n  f: e**x\n", encoding="utf-8")
    result = invoke("validate", path)
    assert result.exit_code == 2
    assert "unknown name 'e'" in result.stderr and "hint: write exp(x)" in result.stderr


def test_tahn_in_an_exercise_means_tanh(tmp_path):
    path = tmp_path / "ex.yaml"
    path.write_text("backprop: 1\ngiven:\n  z: 1\nsteps:\n  a: tahn(z)\n", encoding="utf-8")
    result = invoke("validate", path)
    assert result.exit_code == 2
    assert "unknown function 'tahn'" in result.stderr
    assert "did you mean 'tanh'?" in result.stderr and "'tan'" not in result.stderr


@pytest.mark.parametrize("typo, meant", [("tahn", "tanh"), ("sigmod", "sigmoid"), ("softmx", "softmax"),
                                         ("sqr", "sqrt"), ("rleu", "relu")])
def test_closest_prefers_the_same_letters(typo, meant):
    functions = ["exp", "log", "sqrt", "sin", "cos", "tan", "tanh", "sigmoid", "relu", "abs",
                 "softplus", "max", "min", "sum", "mean", "transpose", "softmax", "conv2d"]
    assert closest(typo, functions) == meant


def test_distance_counts_a_swap_as_one():
    assert distance("tahn", "tanh") == 1
    assert distance("tan", "tanh") == 1
    assert distance("abc", "abc") == 0
    assert distance("", "ab") == 2


# ------------------------------------------------------------------ answer keys

def test_keys_in_the_traces_notation_and_with_spaces_are_the_same_key(tmp_path):
    text = EXERCISE.replace("answers:\n  {key}: {answer}\n",
                            'answers:\n  "∂loss/∂w": 1\n  "z ": 2\n  "loss": 1\n')
    items = check_json(tmp_path, text)
    assert items["dloss/dw"]["status"] != "missing", items["dloss/dw"]
    assert items["dloss/dw"]["answer"] == "1"
    assert items["z"]["status"] == "correct"
    text = EXERCISE.replace("answers:\n  {key}: {answer}\n", 'answers:\n  "dloss / dw": 1\n')
    assert check_json(tmp_path, text)["dloss/dw"]["answer"] == "1"


def test_a_near_miss_key_is_named_next_to_the_item(tmp_path):
    text = EXERCISE.replace("answers:\n  {key}: {answer}\n", "answers:\n  dloss/dW: 1\n  los: 2\n")
    items = check_json(tmp_path, text)
    assert items["dloss/dw"]["status"] == "missing"
    assert items["dloss/dw"]["hint"] == "you wrote dloss/dW: did you mean dloss/dw?"
    assert items["loss"]["hint"] == "you wrote los: did you mean loss?"
    assert items["z"]["hint"] is None
    out = invoke("check", tmp_path / "ex.yaml").stdout
    row = next(line for line in out.splitlines() if "dloss/dw" in line and "missing" in line)
    assert "no answer yet (you wrote dloss/dW: did you mean dloss/dw?)" in row, out


def test_each_written_key_is_the_near_miss_of_one_item_at_most(tmp_path):
    text = EXERCISE.replace("ask: [loss, z, dloss/dw]", "ask: [loss, z, dloss/dw, dloss/dx]").replace(
        "answers:\n  {key}: {answer}\n", "answers:\n  dloss/dW: 1\n  dlos/dx: 2\n")
    items = check_json(tmp_path, text)
    assert items["dloss/dw"]["hint"] == "you wrote dloss/dW: did you mean dloss/dw?"
    assert items["dloss/dx"]["hint"] == "you wrote dlos/dx: did you mean dloss/dx?"


# ------------------------------------------------------------------ the command line

@pytest.fixture
def files(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("ex.yaml").write_text(EXERCISE.replace("answers:\n  {key}: {answer}\n", ""), encoding="utf-8")
    Path("a.yaml").write_text("loss: 1\nz: 2\n", encoding="utf-8")
    Path("b.yaml").write_text("exercise: ex\nz: 3\n", encoding="utf-8")


def test_answers_given_twice_is_an_error(files):
    result = invoke("check", "ex.yaml", "--answers", "a.yaml", "--answers", "b.yaml")
    assert result.exit_code == 2
    assert "--answers is given 2 times (a.yaml, b.yaml)" in result.output


def test_a_second_answers_file_is_not_read_as_an_exercise(files):
    result = invoke("check", "ex.yaml", "--answers", "a.yaml", "b.yaml")
    assert result.exit_code == 2
    assert "b.yaml is an answers file, not an exercise: --answers takes one file (a.yaml)" in result.output
    assert "Score" not in result.output  # nothing was graded


def test_an_answers_file_given_as_the_exercise_says_so(files):
    result = invoke("check", "a.yaml")
    assert result.exit_code == 2
    assert "a.yaml:1:1: this is an answers file (key: answer), not an exercise" in result.output
    assert "--answers" in result.output and "missing 'backprop: 1'" not in result.output


def test_one_answers_file_still_works(files):
    result = invoke("check", "ex.yaml", "--answers", "a.yaml")
    assert result.exit_code == 1 and "✓ correct   z" in result.stdout


# ------------------------------------------------------------------ YAML in a student's file

def test_an_unclosed_bracket_is_reported_where_it_opened(tmp_path):
    path = tmp_path / "ex.yaml"
    path.write_text(EXERCISE.format(key="dloss/dw", answer="[1, 2"), encoding="utf-8")
    result = invoke("check", path)
    assert result.exit_code == 2
    assert f"{path}:12:13: invalid YAML: this '[' is never closed" in result.output, result.output
    assert "<stream end>" not in result.output


def test_a_tab_gets_use_spaces(tmp_path):
    path = tmp_path / "ex.yaml"
    path.write_text(EXERCISE.format(key="z", answer="2").replace("  z: 2", "\tz: 2"), encoding="utf-8")
    result = invoke("check", path)
    assert result.exit_code == 2
    assert f"{path}:12:1: invalid YAML: a tab character" in result.output
    assert "hint: use spaces to indent" in result.output
