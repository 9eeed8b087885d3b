"""Formula asks (SPEC section 3): an expression over the givens, right when it is the same
function of the givens as the derivative, not merely the same number at the given point.

Everything goes through ``backprop check --format json`` (click's CliRunner).  Hostile
formulas must get a verdict (incorrect or invalid) without a traceback and without
costing the other answers in the file their grades; their times are printed, not asserted.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
import yaml

from cli_runner import invoke

ROOT = Path(__file__).resolve().parents[1]

# linear-model.yaml: x = 1, y = 2, w = 1; dloss/dw = 2 x (x w - y) = -2 there.
# At x = 1 many wrong formulas give the right number, which is the point of these tables.
LINEAR = {"backprop": 1, "given": {"x": 1, "y": 2, "w": 1},
          "steps": {"y_hat": "x * w", "r": "y_hat - y", "loss": "r**2"}}

# a = sigmoid(w x) at x = 1, w = 2: da/dw = x sigmoid(w x) (1 - sigmoid(w x)).
SIGMOID = {"backprop": 1, "given": {"x": 1, "w": 2}, "steps": {"a": "sigmoid(w*x)"}}




def grade(tmp_path: Path, exercise: dict, ask: list, answers: dict) -> dict:
    data = {**exercise, "ask": ask, "answers": answers}
    path = tmp_path / "exercise.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, width=10_000), encoding="utf-8")
    result = invoke("check", path, "--format", "json")
    doc = json.loads(result.stdout)
    [ex] = doc["exercises"]
    assert ex["error"] is None, f"{ex['error']}\n(exit {result.exit_code})"
    assert result.exit_code in (0, 1), result.output
    return {i["key"]: i for i in ex["items"]}


def formula(tmp_path: Path, answer: str, exercise: dict = LINEAR, key: str = "dloss/dw") -> dict:
    return grade(tmp_path, exercise, [{"key": key, "form": "formula"}], {key: answer})[key]


def grade_many(directory: Path, cases: list[tuple[dict, str, str]]) -> list[dict]:
    """Grade many one-formula exercises (exercise, key, answer) with a single ``check`` run."""
    paths = []
    for n, (exercise, key, answer) in enumerate(cases):
        data = {**exercise, "ask": [{"key": key, "form": "formula"}], "answers": {key: answer}}
        path = directory / f"case{n:03d}.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False, width=10_000), encoding="utf-8")
        paths.append(path)
    result = invoke("check", *paths, "--format", "json")
    exercises = json.loads(result.stdout)["exercises"]
    assert len(exercises) == len(cases)
    items = []
    for (exercise, key, answer), ex in zip(cases, exercises):
        assert ex["error"] is None, (answer, ex["error"])
        [it] = ex["items"]
        assert it["key"] == key and it["answer"] == answer, it
        items.append(it)
    return items


# ------------------------------------------------------------------ equivalence tables

EQUAL_LINEAR = [
    "2*x*(x*w - y)",
    "2*(w*x - y)*x",
    "2*x**2*w - 2*x*y",
    "2*x^2*w - 2*x*y",
    "(x*w-y)*2*x",
    "-2*x*(y - x*w)",
    "x*(x*w - y) + x*(w*x - y)",
    "4*x*(x*w - y)/2",
    "2*exp(log(x))*(x*w - y)",
    "log(exp(2*x*(x*w - y)))",
    "2*x*(x*w - y)*(sin(x)**2 + cos(x)**2)",
    "2*x*(x*w - y)*exp(0)",
    "(x*w - y)*2*x + pi - pi",
    "2*x*(x*w - y)*(x/x)",
    "((x*w - y)**2 - (x*w - y - x)**2 + x**2)",  # expands to 2x(xw - y)
]


@pytest.mark.parametrize("answer", EQUAL_LINEAR)
def test_equal_forms_are_accepted(table, answer):
    it = table[LINEAR_ID, "dloss/dw", answer]
    assert it["status"] == "correct", it


NEAR_MISSES_LINEAR = [
    "2*x*(x*w + y)",                   # sign inside
    "x*(x*w - y)",                     # the 2 left out (-1 at the point)
    "2*x*(x*w - y) + 1e-9",            # a hair off, written as a decimal
    "2*x*(x*w - y) + 0.000000001",     # the same without an exponent
    "2*(x*w - y)",                     # x left out: agrees at x = 1 only
    "2*x**2*(x*w - y)",                # an extra x: agrees at x = 1 only
    "-2",                              # the number, not the function
    "2*x*(x*w - y) + sin(pi*x)",       # agrees at every integer x
    "2*x*(x*w - y)*w",                 # agrees at w = 1 only
    "(x*w - y)**2",                    # the loss, not its derivative
    "2*max(x, w)*(x*w - y)",           # agrees where x = w
]


@pytest.mark.parametrize("answer", NEAR_MISSES_LINEAR)
def test_near_misses_are_rejected(table, answer):
    it = table[LINEAR_ID, "dloss/dw", answer]
    assert it["status"] == "incorrect", it


EQUAL_SIGMOID = [
    "x*sigmoid(w*x)*(1 - sigmoid(w*x))",
    "x*sigmoid(w*x)*sigmoid(-w*x)",
    "x*exp(-w*x)/(1 + exp(-w*x))**2",
    "x/(1 + exp(-w*x))*(1 - 1/(1 + exp(-w*x)))",
    "x*exp(w*x)/(1 + exp(w*x))**2",
]

NEAR_MISSES_SIGMOID = [
    "x*sigmoid(w*x)",                                    # the activation for its derivative
    "sigmoid(w*x)*(1 - sigmoid(w*x))",                   # x left out: agrees at x = 1 only
    "x*sigmoid(w*x)*(1 - sigmoid(w*x))**2",
    "x/(1 + exp(w*x))*(1 - 1/(1 + exp(w*x)))*exp(0)*2",  # twice the derivative
]


@pytest.mark.parametrize("answer", EQUAL_SIGMOID)
def test_sigmoid_written_out_is_sigmoid(table, answer):
    assert table[SIGMOID_ID, "da/dw", answer]["status"] == "correct"


@pytest.mark.parametrize("answer", NEAR_MISSES_SIGMOID)
def test_sigmoid_near_misses(table, answer):
    assert table[SIGMOID_ID, "da/dw", answer]["status"] == "incorrect"


def test_deep_sigmoid_chain_formula(tmp_path):
    """sigmoid-chain.yaml's dC/dw2 as a function of all six givens, both spellings."""
    data = yaml.safe_load((ROOT / "exercises" / "sigmoid-chain.yaml").read_text(encoding="utf-8"))
    exercise = {k: data[k] for k in ("backprop", "given", "steps")}
    a1 = "sigmoid(w1*x + b1)"
    a2 = f"sigmoid(w2*{a1} + b2)"
    right = f"2*({a2} - y)*{a2}*(1 - {a2})*{a1}"
    s1 = "1/(1 + exp(-(w1*x + b1)))"
    z2 = f"(w2*{s1} + b2)"
    spelled = f"2*(1/(1 + exp(-{z2})) - y)*exp(-{z2})/(1 + exp(-{z2}))**2*{s1}"
    activation = f"2*({a2} - y)*{a2}*{a1}"  # sigmoid(z2) where sigmoid'(z2) belongs
    answers = [right, spelled, activation, "-1/8"]  # the last: the value, not the function
    items = grade_many(tmp_path, [(exercise, "dC/dw2", a) for a in answers])
    assert [i["status"] for i in items] == ["correct", "correct", "incorrect", "incorrect"]


VALUE_FORMULAS = [
    ("(x*w - y)**2", "correct"),
    ("(y - x*w)**2", "correct"),
    ("x**2*w**2 - 2*x*w*y + y**2", "correct"),
    ("(x*w - y)**2*x", "incorrect"),  # agrees at x = 1 only
    ("1", "incorrect"),
]


@pytest.mark.parametrize("answer,status", VALUE_FORMULAS)
def test_formula_for_a_forward_value(table, answer, status):
    assert table[LINEAR_ID, "loss", answer]["status"] == status


# ------------------------------------------------------------------ names

NOT_GIVENS = [
    ("y_hat", "2*x*(y_hat - y)"),  # a step: formulas are over the givens
    ("r", "2*r*x"),
    ("loss", "2*sqrt(loss)*x"),
    ("z", "2*x*(x*w - y) + z"),    # no such name at all
    ("X", "2*X*(X*w - y)"),        # names are case-sensitive
]


@pytest.mark.parametrize("name,answer", NOT_GIVENS)
def test_names_that_are_not_givens_are_invalid(table, name, answer):
    it = table[LINEAR_ID, "dloss/dw", answer]
    assert it["status"] == "invalid", it
    assert f"'{name}'" in it["message"], it["message"]
    assert re.search(r"case[0-9]+\.yaml:[0-9]+:[0-9]+", it["message"]), it["message"]  # located


LINEAR_ID, SIGMOID_ID = "linear", "sigmoid"


@pytest.fixture(scope="module")
def table(tmp_path_factory) -> dict:
    """Every table above, graded with one ``check`` run over one file per answer."""
    cases = ([(LINEAR_ID, "dloss/dw", a) for a in EQUAL_LINEAR + NEAR_MISSES_LINEAR]
             + [(LINEAR_ID, "dloss/dw", a) for _, a in NOT_GIVENS]
             + [(LINEAR_ID, "loss", a) for a, _ in VALUE_FORMULAS]
             + [(SIGMOID_ID, "da/dw", a) for a in EQUAL_SIGMOID + NEAR_MISSES_SIGMOID])
    exercises = {LINEAR_ID: LINEAR, SIGMOID_ID: SIGMOID}
    items = grade_many(tmp_path_factory.mktemp("formulas"),
                       [(exercises[e], key, a) for e, key, a in cases])
    return dict(zip(cases, items))


def test_value_answer_may_be_an_expression_evaluated_at_the_givens(tmp_path):
    """The contrast with a formula ask: as a *number*, 2*(x*w - y) is -2 at x = 1: right."""
    items = grade(tmp_path, LINEAR, ["dloss/dw"], {"dloss/dw": "2*(x*w - y)"})
    assert items["dloss/dw"]["status"] == "correct"
    assert formula(tmp_path, "2*(x*w - y)")["status"] == "incorrect"


# ------------------------------------------------------------------ asked both ways

BOTH = [{"key": "dloss/dw", "form": "formula"}, "dloss/dw"]


def test_right_formula_wrong_arithmetic(tmp_path):
    items = grade(tmp_path, LINEAR, BOTH, {"dloss/dw (formula)": "2*x*(x*w - y)", "dloss/dw": "-3"})
    assert set(items) == {"dloss/dw (formula)", "dloss/dw"}
    assert items["dloss/dw (formula)"]["status"] == "correct"
    number = items["dloss/dw"]
    assert number["status"] == "incorrect"
    assert "formula" in number["feedback"] and "right" in number["feedback"], number["feedback"]


def test_right_formula_wrong_arithmetic_keeps_the_diagnosis(tmp_path):
    # the number 2 is the sign mistake; the note about the formula comes with it
    items = grade(tmp_path, LINEAR, BOTH, {"dloss/dw (formula)": "2*x*(x*w - y)", "dloss/dw": "2"})
    number = items["dloss/dw"]
    assert number["diagnosis"] == "sign"
    assert "formula" in number["feedback"] and "sign" in number["feedback"], number["feedback"]


def test_wrong_formula_right_number_says_nothing_about_formulas(tmp_path):
    items = grade(tmp_path, LINEAR, BOTH, {"dloss/dw (formula)": "2*(x*w - y)", "dloss/dw": "-2"})
    assert items["dloss/dw"]["status"] == "correct"
    assert items["dloss/dw (formula)"]["status"] == "incorrect"
    assert items["dloss/dw"]["feedback"] is None


def test_both_wrong_no_arithmetic_note(tmp_path):
    items = grade(tmp_path, LINEAR, BOTH, {"dloss/dw (formula)": "x*(x*w - y)", "dloss/dw": "7"})
    assert items["dloss/dw"]["status"] == "incorrect"
    assert not (items["dloss/dw"]["feedback"] or "").count("formula")


# ------------------------------------------------------------------ hostile formulas

HOSTILE = [
    "(x+y+w+1)**64",
    "exp(exp(exp(10*pi)))",
    "x**1000000",
    "x**x**x**x**x",
    "exp(1000*x)",
    "sigmoid(1e100*x)",
    "+".join(["x"] * 500),                               # a very long sum (1000 characters)
    " + ".join(f"{k}*x*w" for k in range(1, 150)),      # a long sum of distinct terms
    "2*x*(x*w - y)" + " + 0*x" * 30,                    # long, and right
    "(" * 30 + "x" + ")" * 30,
]


@pytest.mark.parametrize("answer", HOSTILE, ids=lambda a: a[:30])
def test_hostile_formulas_get_a_verdict(tmp_path, answer):
    start = time.perf_counter()
    items = grade(tmp_path, LINEAR, [{"key": "dloss/dw", "form": "formula"}, "loss"],
                  {"dloss/dw": answer, "loss": "1"})
    print(f"{answer[:40]!r}: {items['dloss/dw']['status']} in {time.perf_counter() - start:.2f} s")
    it = items["dloss/dw"]
    if answer.startswith("2*x*(x*w - y) + 0*x"):
        assert it["status"] in ("correct", "invalid"), it
    else:
        assert it["status"] in ("incorrect", "invalid"), it
    assert items["loss"]["status"] == "correct"  # the other answers are still graded


def test_exponent_limit_makes_huge_powers_invalid(tmp_path):
    it = formula(tmp_path, "x**1000000")
    assert it["status"] == "invalid"
    assert "1000000" in it["message"] and "exercise.yaml:" in it["message"]


@pytest.mark.parametrize("answer", [
    "2*x*(x*w - y) + 1/(x - 1)",   # division by zero at the given x = 1
    "1/(w - 1)",
    "log(x - 1)",                  # log(0) at the given point
    "sqrt(x - 2)",                 # not real at the given point
    "log(-x)",
])
def test_formula_undefined_at_the_given_point(tmp_path, answer):
    """Not the derivative; the same text as a *number* is reported invalid with a located
    message.  Either verdict will do, but the file's other answers must still be graded."""
    items = grade(tmp_path, LINEAR, [{"key": "dloss/dw", "form": "formula"}, "loss"],
                  {"dloss/dw": answer, "loss": "1"})
    assert items["dloss/dw"]["status"] in ("incorrect", "invalid"), items["dloss/dw"]
    assert items["loss"]["status"] == "correct"
