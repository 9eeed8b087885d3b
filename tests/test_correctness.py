"""Bugs found by an independent autodiff oracle and by new users (issue 9), one test each.

Every reproduction is graded through the command line with its exact input.  Right values
come from computations written out here (fractions by hand, floats through a small
forward-mode dual-number oracle), never from the code under test.  Each check runs with a
generous ``--time-limit``: the tests are about what is graded, never about how fast.
"""

from __future__ import annotations

import json
import math
import re
from fractions import Fraction
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backprop_cli.source.yamlsrc import load_text
from cli_runner import invoke

ROOT = Path(__file__).resolve().parents[1]
EXERCISES = ROOT / "exercises"
SLACK = "60"  # seconds per answer: a guard against hangs only


# ------------------------------------------------------------------ helpers

def write(tmp_path: Path, text: str, name: str = "exercise.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def with_answers(name: str, ask: list, answers: dict, extra: dict | None = None) -> str:
    """A shipped exercise with its ``ask`` replaced and answers (and other keys) added."""
    data = yaml.safe_load((EXERCISES / f"{name}.yaml").read_text(encoding="utf-8"))
    data.pop("tests", None)  # the shipped question tests are about the shipped asks
    data.update(extra or {})
    data["ask"] = ask
    data["answers"] = answers
    return yaml.safe_dump(data, sort_keys=False)


def check(path: Path, *args, code: int) -> dict:
    result = invoke("check", path, *args, "--format", "json", "--time-limit", SLACK)
    assert result.exit_code == code, result.output
    return json.loads(result.stdout)


def items(document: dict, index: int = 0) -> dict:
    return {i["key"]: i for i in document["exercises"][index]["items"]}


def solve(path: Path, *args, code: int = 0):
    result = invoke("solve", path, *args)
    assert result.exit_code == code, result.output
    return result


INTERNAL = re.compile(r"\b[A-Za-z][A-Za-z0-9]*_[0-9]+\b")  # f_1, loss_3: names the graph makes up


def assert_no_internal_names(sentence: str, allowed: set[str] = frozenset()) -> None:
    found = set(INTERNAL.findall(sentence)) - set(allowed)
    assert not found, f"internal names {found} in: {sentence}"


# ------------------------------------------------------------------ 1. a zero gradient keeps its shape

ZERO = """\
backprop: 1
given: {x: 2, A: [[1, 2], [3, 4]]}
steps: {f: x * x}
ask: [df/dA]
answers: {df/dA: [[0, 0], [0, 0]]}
"""


def test_zero_gradient_of_a_tensor_has_its_shape(tmp_path):
    path = write(tmp_path, ZERO)
    it = items(check(path, code=0))["df/dA"]
    assert it["status"] == "correct" and it["expected"] == [["0", "0"], ["0", "0"]], it
    assert "df/dA: [[0, 0], [0, 0]]" in solve(path).stdout.splitlines()
    assert json.loads(solve(path, "--format", "json").stdout) == {"df/dA": [["0", "0"], ["0", "0"]]}


def test_a_bare_zero_stands_for_a_zero_tensor_with_a_note(tmp_path):
    it = items(check(write(tmp_path, ZERO.replace("[[0, 0], [0, 0]]}", "0}")), code=0))["df/dA"]
    assert it["status"] == "correct", it
    assert "2x2 zero" in it["note"], it


def test_a_bare_zero_for_a_nonzero_tensor_is_the_wrong_shape(tmp_path):
    text = ZERO.replace("steps: {f: x * x}", "steps: {f: x * sum(A)}").replace("[[0, 0], [0, 0]]}", "0}")
    it = items(check(write(tmp_path, text), code=1))["df/dA"]
    assert it["status"] == "incorrect" and "wrong shape" in it["message"], it


def test_the_trace_still_says_the_target_does_not_depend_on_it(tmp_path):
    out = invoke("explain", write(tmp_path, ZERO)).stdout
    assert "∂f/∂A = 0: f does not depend on A" in out


# ------------------------------------------------------------------ 2. default asks follow the outside loss

UPSTREAM = """\
backprop: 1
given: {x: [1, 2]}
steps: {z: 2 * x}
upstream: {L: [1, 1]}
"""


def test_default_asks_with_an_upstream_gradient(tmp_path):
    path = write(tmp_path, UPSTREAM)
    assert invoke("validate", path).exit_code == 0
    assert json.loads(solve(path, "--format", "json").stdout) == {"z": [["2"], ["4"]], "dL/dx": [["2"], ["2"]]}
    answered = write(tmp_path, UPSTREAM + "answers: {z: [2, 4], dL/dx: [2, 2]}\n", "answered.yaml")
    assert all(i["status"] == "correct" for i in items(check(answered, code=0)).values())


def test_default_asks_without_upstream_are_of_the_output(tmp_path):
    path = write(tmp_path, "backprop: 1\ngiven: {x: 3, w: 2}\nsteps: {f: x * w}\n")
    assert json.loads(solve(path, "--format", "json").stdout) == {"f": "6", "df/dx": "2", "df/dw": "3"}


# ------------------------------------------------------------------ 3. 1x1 steps answered as numbers

ONE_BY_ONE = """\
backprop: 1
given: {x: [1, 2]}
steps: {q: x.T @ x, s: 2 * q}
ask: [q, ds/dx]
answers: {q: ANSWER, ds/dx: [1, 1]}
"""


@pytest.mark.parametrize("answer", ["5", "[[5]]"])
def test_a_1x1_step_answered_as_a_number_is_replayed(tmp_path, answer):
    found = items(check(write(tmp_path, ONE_BY_ONE.replace("ANSWER", answer)), code=1))
    assert found["q"]["status"] == "correct", found
    assert found["ds/dx"]["status"] == "incorrect" and found["ds/dx"]["expected"] == [["4"], ["8"]], found


@pytest.mark.parametrize("q, t", [("6", "6"), ("[[6]]", "6"), ("6", "[[6]]")])
def test_a_wrong_1x1_step_and_its_transpose_carry_forward(tmp_path, q, t):
    # q = x.T x is 5; answered 6, every later answer is right given 6: s = t*t = 36,
    # ds/dt = 2t = 12, ds/dq = 12 (t = q.T), ds/dx = 2 x ds/dq = [24, 48]
    text = f"""\
backprop: 1
given: {{x: [1, 2]}}
steps: {{q: x.T @ x, t: q.T, s: t * t}}
ask: [q, t, s, ds/dt, ds/dq, ds/dx]
carry_forward: 0.5
answers: {{q: {q}, t: {t}, s: 36, ds/dt: 12, ds/dq: [[12]], ds/dx: [24, 48]}}
"""
    found = items(check(write(tmp_path, text), code=1))
    assert found["q"]["status"] == "incorrect" and found["q"]["diagnosis"] is None
    for key in ("t", "s", "ds/dt", "ds/dq", "ds/dx"):
        assert found[key]["diagnosis"] == "carried-forward", found[key]
        assert found[key]["points"] == 0.5, found[key]


# ------------------------------------------------------------------ 7. carried forward through training

def train_answers(w1=None, dw=None):
    """The linear model's training by hand (x = 1, y = 2, w = 1, rate 1/10), continuing from
    the student's own w@1 (or their own dloss/dw)."""
    x, y, w0, rate = Fraction(1), Fraction(2), Fraction(1), Fraction(1, 10)

    def grad(w):
        return 2 * (x * w - y) * x

    g0 = grad(w0) if dw is None else dw
    w1 = w0 - rate * g0 if w1 is None else w1
    w2 = w1 - rate * grad(w1)
    return {"loss@1": (x * w1 - y) ** 2, "w@2": w2, "loss@2": (x * w2 - y) ** 2, "w@1": w1}


def decimal(q: Fraction) -> str:
    return repr(float(q))


def test_training_keys_carry_forward_from_a_wrong_update(tmp_path):
    own = train_answers(w1=Fraction(13, 10))
    answers = {"loss": 1, "dloss/dw": -2, "w@1": 1.3, "loss@1": decimal(own["loss@1"]),
               "w@2": decimal(own["w@2"]), "loss@2": decimal(own["loss@2"])}
    text = with_answers("train-linear-model", ["loss", "dloss/dw", "w@1", "loss@1", "w@2", "loss@2"],
                        answers, {"carry_forward": 0.5})
    found = items(check(write(tmp_path, text), code=1))
    assert found["w@1"]["status"] == "incorrect" and found["w@1"]["diagnosis"] is None, found["w@1"]
    for key in ("loss@1", "w@2", "loss@2"):
        assert found[key]["diagnosis"] == "carried-forward", found[key]
        assert found[key]["points"] == 0.5, found[key]
        assert "w@1 = 1.3" in found[key]["feedback"], found[key]


def test_training_keys_carry_forward_from_a_wrong_gradient(tmp_path):
    own = train_answers(dw=Fraction(-3))
    answers = {"dloss/dw": -3, "w@1": str(own["w@1"]), "loss@1": str(own["loss@1"]),
               "w@2": str(own["w@2"])}
    text = with_answers("train-linear-model", ["dloss/dw", "w@1", "loss@1", "w@2"], answers,
                        {"carry_forward": 0.5})
    found = items(check(write(tmp_path, text), code=1))
    assert found["dloss/dw"]["diagnosis"] is None
    for key in ("w@1", "loss@1", "w@2"):
        assert found[key]["diagnosis"] == "carried-forward", found[key]
        assert found[key]["points"] == 0.5
    assert "dloss/dw" in found["w@1"]["feedback"]


def test_training_keys_that_are_simply_wrong_get_no_credit(tmp_path):
    answers = {"w@1": 1.3, "loss@1": 0.5}  # 0.5 is not the loss at 1.3 (0.49)
    text = with_answers("train-linear-model", ["w@1", "loss@1"], answers, {"carry_forward": 0.5})
    found = items(check(write(tmp_path, text), code=1))
    assert found["loss@1"]["diagnosis"] != "carried-forward" and found["loss@1"]["points"] == 0


# ------------------------------------------------------------------ 8. formula asks on tensor keys

TENSOR_FORMULA = """\
backprop: 1
given: {W: [[1, 2], [3, -1]], x: [2, 1]}
steps: {z: W @ x, loss: sum(z * z)}
ask:
  - {key: dloss/dW, form: formula, partial: true}
answers:
  dloss/dW: ANSWER
"""


@pytest.mark.parametrize("answer, status, share", [
    ('"2 * (W @ x) @ x.T"', "correct", 1),
    ('"2 * W @ x @ x.T"', "correct", 1),
    ('"2 * x @ (W @ x).T"', "incorrect", 0.5),  # the transpose: right on the diagonal only
    ('"2 * (W @ x) @ x.T + sum(x) - 3"', "incorrect", 0),  # right at x = [2, 1] only
])
def test_a_formula_over_tensor_givens_is_graded_entry_by_entry(tmp_path, answer, status, share):
    path = write(tmp_path, TENSOR_FORMULA.replace("ANSWER", answer))
    found = items(check(path, code=0 if status == "correct" else 1))["dloss/dW"]
    assert found["status"] == status, found
    assert found["points"] == share, found


def test_a_tensor_formula_of_the_wrong_shape(tmp_path):
    found = items(check(write(tmp_path, TENSOR_FORMULA.replace("ANSWER", '"W @ x"')), code=1))["dloss/dW"]
    assert found["status"] == "incorrect" and "wrong shape" in found["message"], found


def test_a_tensor_formula_written_entry_by_entry(tmp_path):
    text = """\
backprop: 1
given: {a: 2, b: 3, v: [1, 1]}
steps: {loss: sum(a * v + b)}
ask:
  - {key: dloss/dv, form: formula, partial: true}
answers:
  dloss/dv: ANSWER
"""
    right = items(check(write(tmp_path, text.replace("ANSWER", '[["a"], ["a"]]')), code=0))["dloss/dv"]
    assert right["status"] == "correct" and right["entries"] == [[True], [True]], right
    half = items(check(write(tmp_path, text.replace("ANSWER", '[["a"], ["b"]]'), "half.yaml"), code=1))
    assert half["dloss/dv"]["entries"] == [[True], [False]] and half["dloss/dv"]["points"] == 0.5


def test_the_softmax_gradient_as_a_formula(tmp_path):
    base = ["dloss/ds"]
    right = "softmax(W2 @ relu(W1 @ x + b1) + b2) * sum(y) - y"
    text = with_answers("softmax-classifier", [{"key": k, "form": "formula"} for k in base], {"dloss/ds": right})
    path = write(tmp_path, text)
    assert invoke("validate", path).exit_code == 0
    assert items(check(path, code=0))["dloss/ds"]["status"] == "correct"
    # p - y is the same number for a one-hot y, but not the same function of the givens
    one_hot = with_answers("softmax-classifier", [{"key": "dloss/ds", "form": "formula"}],
                           {"dloss/ds": "softmax(W2 @ relu(W1 @ x + b1) + b2) - y"})
    assert items(check(write(tmp_path, one_hot, "p.yaml"), code=1))["dloss/ds"]["status"] == "incorrect"


def test_solve_says_why_a_tensor_formula_is_not_written(tmp_path):
    path = write(tmp_path, TENSOR_FORMULA.replace("ANSWER", "0"))
    key = solve(path).stdout
    assert re.search(r"^# dloss/dW: .*single entries of W", key, re.M), key
    assert json.loads(solve(path, "--format", "json").stdout) == {}
    found = items(check(path, "--answers", write(tmp_path, key, "key.yaml"), code=1))
    assert found["dloss/dW"]["status"] == "missing"


# ------------------------------------------------------------------ 9. solve's YAML reads back

BOTH_WAYS = """\
backprop: 1
given: {x: 3, y: 5, w: 1}
steps: {y_hat: x * w, r: y_hat - y, loss: r**2}
ask:
  - dloss/dw
  - {key: dloss/dw, form: formula}
  - {key: loss, form: formula}
  - r
  - {key: r, form: formula}
"""


def test_solve_writes_a_key_asked_both_ways_under_two_labels(tmp_path):
    path = write(tmp_path, BOTH_WAYS)
    key = solve(path).stdout
    labels = [line.split(":")[0] for line in key.splitlines()]
    assert len(labels) == len(set(labels)), key
    assert "dloss/dw (formula)" in labels and "r (formula)" in labels
    found = items(check(path, "--answers", write(tmp_path, key, "key.yaml"), code=0))
    assert set(found) == {"dloss/dw", "dloss/dw (formula)", "loss", "r", "r (formula)"}
    assert all(i["status"] == "correct" for i in found.values())
    document = json.loads(solve(path, "--format", "json").stdout)
    assert document["dloss/dw"] == "-12" and "dloss/dw (formula)" in document


@pytest.mark.parametrize("name", sorted(p.stem for p in EXERCISES.glob("*.yaml") if "mlp" not in p.stem))
def test_solve_reads_back_with_every_ask_also_a_formula(tmp_path, name):
    data = yaml.safe_load((EXERCISES / f"{name}.yaml").read_text(encoding="utf-8"))
    asks = [a for a in data.get("ask", []) if "@" not in str(a)]
    data["ask"] = asks + [{"key": a, "form": "formula"} for a in asks]
    path = write(tmp_path, yaml.safe_dump(data, sort_keys=False))
    key = solve(path).stdout
    load_text(key, "key.yaml")  # the project's own YAML reader: duplicate keys are an error
    unwritten = [line for line in key.splitlines() if line.startswith("#")]
    found = items(check(path, "--answers", write(tmp_path, key, "key.yaml"), code=1 if unwritten else 0))
    assert len(found) == 2 * len(asks)
    for label, it in found.items():
        if it["status"] == "missing":  # a formula that solve says it cannot write
            assert label.endswith("(formula)") and any(line.startswith(f"# {label}:") for line in unwritten)
        else:
            assert it["status"] == "correct", it


# ------------------------------------------------------------------ 10. the sign of softmax cross-entropy

def softmax_classifier_by_hand():
    """dloss/ds = p - y at s = W2 relu(W1 x + b1) + b2 (a one-hot y), in floats."""
    W1, b1 = [[1, 0], [-1, 1], [1, -1]], [0, 0, 0]
    W2, b2, x, y = [[1, -1, 2], [0, 1, 1], [-1, 0, 1]], [0, 1, 0], [1, 2], [0, 1, 0]
    h = [max(0, sum(W1[i][k] * x[k] for k in range(2)) + b1[i]) for i in range(3)]
    s = [sum(W2[i][k] * h[k] for k in range(3)) + b2[i] for i in range(3)]
    total = sum(math.exp(v) for v in s)
    p = [math.exp(v) / total for v in s]
    return [pi - yi for pi, yi in zip(p, y)]


def test_a_sign_error_in_softmax_cross_entropy(tmp_path):
    flipped = [repr(-g) for g in softmax_classifier_by_hand()]  # y - p where p - y belongs
    text = with_answers("softmax-classifier", ["dloss/ds"], {"dloss/ds": flipped})
    it = items(check(write(tmp_path, text), code=1))["dloss/ds"]
    assert it["diagnosis"] == "sign", it
    assert "-1 = -1" not in it["feedback"]
    assert_no_internal_names(it["feedback"])
    assert "'loss'" in it["feedback"], it["feedback"]


def test_missing_factor_inside_a_step_speaks_in_the_authors_words(tmp_path):
    # loss = (x*w - y)**2 in one step; without the 2 of the square: dloss/dw = (x w - y) x = -6
    text = """\
backprop: 1
given: {x: 3, y: 5, w: 1}
steps: {loss: (x*w - y)**2}
ask: [dloss/dw]
answers: {dloss/dw: -6}
"""
    it = items(check(write(tmp_path, text), code=1))["dloss/dw"]
    assert it["diagnosis"] == "missing-factor", it
    assert_no_internal_names(it["feedback"])
    assert "x*w - y" in it["feedback"], it["feedback"]


def test_activation_feedback_inside_a_step_speaks_in_the_authors_words(tmp_path):
    text = """\
backprop: 1
given: {x: 0, w: 1}
steps: {a: sigmoid(w*x), loss: a * 4}
ask: [dloss/dw]
answers: {dloss/dw: 0}
"""
    # dloss/dw = 4 a (1 - a) x = 0 at x = 0; every mistake is 0 too, so use x = 2 instead
    text = text.replace("x: 0", "x: 2").replace("dloss/dw: 0", "dloss/dw: 8*sigmoid(2)")
    it = items(check(write(tmp_path, text), code=1))["dloss/dw"]
    assert it["diagnosis"] == "activation-not-derivative", it
    assert_no_internal_names(it["feedback"])
    assert "w*x" in it["feedback"], it["feedback"]


# ------------------------------------------------------------------ 11. a row written as a flat list

W3_ROW = ["-0.0128256533", "-0.0124608735", "-0.0120548451"]


def test_a_flat_list_for_a_row_is_read_as_the_row_with_a_note(tmp_path):
    text = with_answers("mlp-2-3-3-1", ["dloss/dW3"], {"dloss/dW3": [float(v) for v in W3_ROW]})
    it = items(check(write(tmp_path, text), code=0))["dloss/dW3"]
    assert it["status"] == "correct" and it["diagnosis"] is None, it
    assert it["points"] == 1 and "[[" in it["note"], it
    out = invoke("check", write(tmp_path, text, "again.yaml"), "--time-limit", SLACK).stdout
    assert "note: a flat list is a column" in out


def test_a_flat_list_for_a_row_with_a_wrong_entry_is_graded_entry_by_entry(tmp_path):
    answer = [float(v) for v in W3_ROW]
    answer[1] = 0.5
    text = with_answers("mlp-2-3-3-1", ["dloss/dW3"], {"dloss/dW3": answer})
    it = items(check(write(tmp_path, text), code=1))["dloss/dW3"]
    assert it["diagnosis"] != "transpose" and it["entries"] == [[True, False, True]], it


def test_an_explicit_column_for_a_row_is_still_the_transpose(tmp_path):
    text = with_answers("mlp-2-3-3-1", ["dloss/dW3"], {"dloss/dW3": [[float(v)] for v in W3_ROW]})
    it = items(check(write(tmp_path, text), code=1))["dloss/dW3"]
    assert it["diagnosis"] == "transpose" and it["note"] is None, it


# ------------------------------------------------------------------ 12. unreadable files keep their points

BROKEN_ANSWER = (EXERCISES / "linear-model.yaml").read_text(encoding="utf-8") + \
    "answers:\n  loss: 1\n  dloss/dw: - 2\n"


def test_a_yaml_error_in_the_answers_keeps_the_files_points(tmp_path):
    broken = write(tmp_path, BROKEN_ANSWER, "broken.yaml")
    document = check(broken, EXERCISES / "fan-out.yaml", code=2)
    first, second = document["exercises"]
    assert first["id"] == "linear-model" and first["max_score"] == 8.0 and first["score"] == 0.0
    assert document["max_score"] == 8.0 + second["max_score"]
    line = BROKEN_ANSWER.splitlines().index("  dloss/dw: - 2") + 1
    assert f"broken.yaml:{line}:" in first["error"], first["error"]
    assert "without the space" in first["error"] and "quotes" in first["error"], first["error"]
    out = invoke("check", broken, EXERCISES / "fan-out.yaml", "--time-limit", SLACK).stdout
    assert "Score: 0/8" in out and re.search(r"Total: [0-9.]+/13 over 2 files", out), out


def test_a_yaml_error_in_the_exercise_part_cannot_count_its_points(tmp_path):
    broken = write(tmp_path, BROKEN_ANSWER.replace("  x: 1\n", "  x: - 1\n"), "broken.yaml")
    [exercise] = check(broken, code=2)["exercises"]
    assert exercise["max_score"] == 0.0 and exercise["error"]


def test_an_unreadable_answers_file_still_counts_each_exercise(tmp_path):
    key = write(tmp_path, "dloss/dw: - 2\n", "key.yaml")
    result = invoke("check", EXERCISES / "linear-model.yaml", EXERCISES / "fan-out.yaml", "--answers", key,
                    "--format", "json")
    assert result.exit_code == 2
    document = json.loads(result.stdout)
    assert document["max_score"] == 8.0 + document["exercises"][1]["max_score"] > 8.0
    assert all(e["error"] and e["items"] == [] for e in document["exercises"])
    assert f"{key}:1:11:" in result.stderr and "without the space" in result.stderr, result.stderr


# ------------------------------------------------------------------ 13, 14. long scalar chains grade and solve

class Dual:
    """Forward-mode automatic differentiation in floats: the independent oracle."""

    def __init__(self, v, d=0.0):
        self.v, self.d = v, d

    @staticmethod
    def of(o):
        return o if isinstance(o, Dual) else Dual(o)

    def __add__(self, o):
        o = Dual.of(o)
        return Dual(self.v + o.v, self.d + o.d)

    __radd__ = __add__

    def __sub__(self, o):
        return self + Dual.of(o) * -1

    def __mul__(self, o):
        o = Dual.of(o)
        return Dual(self.v * o.v, self.d * o.v + self.v * o.d)

    __rmul__ = __mul__

    def __neg__(self):
        return self * -1

    def __pow__(self, n):
        return Dual(self.v ** n, n * self.v ** (n - 1) * self.d)


def _sigmoid(z):
    return 1 / (1 + math.exp(-z))


def unary(f, df):
    return lambda a: Dual(f(a.v), df(a.v) * a.d)


tanh = unary(math.tanh, lambda z: 1 - math.tanh(z) ** 2)
exp = unary(math.exp, math.exp)
sin = unary(math.sin, math.cos)
sigmoid = unary(_sigmoid, lambda z: _sigmoid(z) * (1 - _sigmoid(z)))
softplus = unary(lambda z: math.log1p(math.exp(z)), _sigmoid)
FUNCTIONS = {"tanh": tanh, "exp": exp, "sin": sin, "sigmoid": sigmoid, "softplus": softplus}

# Each step: (name, the text an exercise writes, the same function on duals).
CHAIN_13 = [
    ("g1", "tanh(c*c + -1)", lambda e: tanh(e["c"] * e["c"] + -1)),
    ("s2", "exp(-(y*g1 + 3)**2)", lambda e: exp(-(e["y"] * e["g1"] + 3) ** 2)),
    ("h3", "sin(s2 - c*s2)", lambda e: sin(e["s2"] - e["c"] * e["s2"])),
    ("k4", "softplus(h3 * -2)", lambda e: softplus(e["h3"] * -2)),
    ("r5", "tanh(k4 * 2)", lambda e: tanh(e["k4"] * 2)),
    ("g6", "sigmoid(c*r5 + 1)", lambda e: sigmoid(e["c"] * e["r5"] + 1)),
    ("m7", "sin(g6 + y)", lambda e: sin(e["g6"] + e["y"])),
    ("h8", "tanh(m7 - y*m7)", lambda e: tanh(e["m7"] - e["y"] * e["m7"])),
    ("r9", "sigmoid(h8 + c)", lambda e: sigmoid(e["h8"] + e["c"])),
    ("h10", "tanh(r9 - c*r9)", lambda e: tanh(e["r9"] - e["c"] * e["r9"])),
    ("f", "sigmoid(h10 * -2)", lambda e: sigmoid(e["h10"] * -2)),
]

CHAIN_14 = [
    ("q1", "tanh(x - x*x)", lambda e: tanh(e["x"] - e["x"] * e["x"])),
    ("q2", "sigmoid(q1 + x)", lambda e: sigmoid(e["q1"] + e["x"])),
    ("k3", "exp(-((q2*0.2)**2))", lambda e: exp(-((e["q2"] * 0.2) ** 2))),
    ("q4", "sigmoid(k3 - x*k3)", lambda e: sigmoid(e["k3"] - e["x"] * e["k3"])),
    ("r5", "tanh(q4 - y*q4)", lambda e: tanh(e["q4"] - e["y"] * e["q4"])),
    ("q6", "softplus(r5*1)", lambda e: softplus(e["r5"] * 1)),
    ("k7", "softplus(q6 - y*q6)", lambda e: softplus(e["q6"] - e["y"] * e["q6"])),
    ("f8", "tanh(k7*0.2)", lambda e: tanh(e["k7"] * 0.2)),
    ("k9", "tanh(f8*1.5)", lambda e: tanh(e["f8"] * 1.5)),
    ("L2", "exp(-((k9*2)**2))", lambda e: exp(-((e["k9"] * 2) ** 2))),
]


def oracle(given: dict, steps: list, seed: str | None = None, wrt: str | None = None) -> float:
    """d(last step)/d(the step ``seed`` or the given ``wrt``), in floats, by forward mode."""
    env = {k: Dual(float(v), 1.0 if k == wrt else 0.0) for k, v in given.items()}
    for name, _, f in steps:
        env[name] = f(env)
        if name == seed:
            env[name] = Dual(env[name].v, 1.0)
    return env[steps[-1][0]].d


def chain_file(given: dict, steps: list, extra: str = "") -> str:
    lines = ["backprop: 1", "given: " + json.dumps(given), "steps:"]
    lines += [f"  {name}: {text}" for name, text, _ in steps]
    return "\n".join(lines) + "\n" + extra


def test_a_rounding_slip_on_an_11_step_chain_is_diagnosed(tmp_path):
    given = {"y": -1.3, "c": 1.3}
    right = oracle(given, CHAIN_13, seed="k4")
    assert abs(right - 0.00175314570108778) < 1e-12
    path = write(tmp_path, chain_file(given, CHAIN_13, "ask: [df/dk4]\nanswers: {df/dk4: 0.00177}\n"))
    it = items(check(path, code=1))["df/dk4"]
    assert it["status"] == "incorrect" and it["diagnosis"] == "rounding", it
    assert it["expected"] == "0.00175314570108778"


def test_a_10_step_chain_solves_to_the_oracles_values(tmp_path):
    given = {"x": -2.6, "y": -0.8}
    solved = json.loads(solve(write(tmp_path, chain_file(given, CHAIN_14)), "--format", "json").stdout)
    for wrt in ("x", "y"):
        assert math.isclose(float(solved[f"dL2/d{wrt}"]), oracle(given, CHAIN_14, wrt=wrt), rel_tol=1e-9)


@st.composite
def chains(draw):
    """A random scalar chain over x and y, each step a function of a small expression of the
    step before: the kind of exercise the outside oracle generated."""
    steps, previous = [], "x"
    for i in range(draw(st.integers(2, 7))):
        name = draw(st.sampled_from(sorted(FUNCTIONS)))
        k = draw(st.sampled_from([0.5, -1.0, 2.0, 1.5]))
        shape = draw(st.integers(0, 3))
        p = previous
        text, inner = [
            (f"{p}*{k}", lambda e, p=p, k=k: e[p] * k),
            (f"{p} - y*{p}", lambda e, p=p: e[p] - e["y"] * e[p]),
            (f"{p} + y", lambda e, p=p: e[p] + e["y"]),
            (f"x*{p} + {k}", lambda e, p=p, k=k: e["x"] * e[p] + k),
        ][shape]
        f = FUNCTIONS[name]
        steps.append((f"s{i}", f"{name}({text})", lambda e, f=f, inner=inner: f(inner(e))))
        previous = f"s{i}"
    return steps


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(chains(), st.sampled_from([-1.5, -0.4, 0.7, 1.2]), st.sampled_from([-0.8, 0.3, 1.1]))
def test_random_chains_agree_with_the_float_oracle(tmp_path, steps, x, y):
    given = {"x": x, "y": y}
    solved = json.loads(solve(write(tmp_path, chain_file(given, steps)), "--format", "json").stdout)
    last = steps[-1][0]
    for wrt in ("x", "y"):
        value = solved[f"d{last}/d{wrt}"]
        if not re.fullmatch(r"-?[0-9.]+(e-?[0-9]+)?", value):
            continue  # a short exact form (e.g. 0): the decimal route is what the oracle checks
        assert math.isclose(float(value), oracle(given, steps, wrt=wrt), rel_tol=1e-9, abs_tol=1e-12), \
            (chain_file(given, steps), wrt)
