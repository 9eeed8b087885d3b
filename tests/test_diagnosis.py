"""Diagnosis of wrong answers (SPEC section 3, "Diagnosis of wrong answers"), end to end.

The rule for every test here: the mistaken answer is built by an independent computation
in the test (the forward and backward pass written out by hand, with the one classic
mistake made on purpose), never taken from the diagnosis code.  It is written into a
temporary exercise as the student's answer, graded with ``backprop check --format json``,
and the item must carry the code and a feedback sentence that names the step.
"""

from __future__ import annotations

import json
import math
import re
from fractions import Fraction
from pathlib import Path

import pytest
import yaml

from cli_runner import invoke

ROOT = Path(__file__).resolve().parents[1]
EXERCISES = ROOT / "exercises"
REL = 1e-3  # the SPEC's default relative tolerance


# ------------------------------------------------------------------ helpers



def shipped(name: str) -> dict:
    data = yaml.safe_load((EXERCISES / f"{name}.yaml").read_text(encoding="utf-8"))
    assert "answers" not in data
    return data


def write(tmp_path: Path, data: dict, name: str = "exercise") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def check(tmp_path: Path, data: dict, answers: dict | None = None) -> dict:
    """Grade ``data`` with ``answers`` written in; return the single exercise's JSON."""
    data = dict(data)
    if answers is not None:
        data["answers"] = answers
    path = write(tmp_path, data)
    result = invoke("check", path, "--format", "json")
    assert result.exit_code in (0, 1), result.output
    doc = json.loads(result.stdout)
    [exercise] = doc["exercises"]
    assert exercise["error"] is None, exercise["error"]
    exercise["_doc"] = doc
    return exercise


def item(exercise: dict, key: str) -> dict:
    found = [i for i in exercise["items"] if i["key"] == key]
    assert len(found) == 1, (key, [i["key"] for i in exercise["items"]])
    return found[0]


def text(q) -> str:
    """An exact answer as the student would write it: '7/2', '-3'."""
    q = Fraction(q)
    return str(q.numerator) if q.denominator == 1 else f"{q.numerator}/{q.denominator}"


def column(values) -> list[str]:
    return [text(v) for v in values]


def grid(rows) -> list[list[str]]:
    return [[text(v) for v in row] for row in rows]


def transpose(rows):
    return [list(r) for r in zip(*rows)]


def assert_diagnosed(exercise: dict, key: str, code: str, *names: str) -> dict:
    """The item is incorrect, carries ``code``, and its feedback names each of ``names``."""
    it = item(exercise, key)
    assert it["status"] == "incorrect", it
    assert it["diagnosis"] == code, it
    assert isinstance(it["feedback"], str) and it["feedback"].strip(), it
    for name in names:
        assert re.search(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])", it["feedback"]), \
            (name, it["feedback"])
    return it


# ------------------------------------------------------------------ independent computations

def linear(x, y, w):
    """y_hat = x*w, r = y_hat - y, loss = r**2, worked by hand."""
    x, y, w = Fraction(x), Fraction(y), Fraction(w)
    y_hat = x * w
    r = y_hat - y
    return {"y_hat": y_hat, "r": r, "loss": r * r, "dloss/dr": 2 * r,
            "dloss/dy_hat": 2 * r, "dloss/dw": 2 * r * x}


def linear_exercise(x, y, w, ask, **extra) -> dict:
    data = {"backprop": 1, "given": {"x": x, "y": y, "w": w},
            "steps": {"y_hat": "x * w", "r": "y_hat - y", "loss": "r**2"}, "ask": ask}
    data.update(extra)
    return data


def batch_mse():
    """batch-mse.yaml by hand: y_hat = X w + b, r = y_hat - y, loss = mean(r^2)."""
    data = shipped("batch-mse")
    X = [[Fraction(v) for v in row] for row in data["given"]["X"]]
    w = [Fraction(v) for v in data["given"]["w"]]
    b = Fraction(data["given"]["b"])
    y = [Fraction(v) for v in data["given"]["y"]]
    n = len(X)
    y_hat = [sum(X[i][k] * w[k] for k in range(len(w))) + b for i in range(n)]
    r = [y_hat[i] - y[i] for i in range(n)]
    loss = sum(ri * ri for ri in r) / n
    dr = [2 * ri / n for ri in r]  # dloss/dr
    dw = [sum(X[i][k] * dr[i] for i in range(n)) for k in range(len(w))]
    db = sum(dr)
    return data, {"X": X, "y_hat": y_hat, "r": r, "loss": loss, "dw": dw, "db": db, "n": n, "y": y}


def conv_stride2(upstream=None):
    """dL/dK of conv-stride2.yaml by hand: dL/dK[u][v] = sum_ij U[i][j] X[2i+u][2j+v]."""
    data = shipped("conv-stride2")
    X = data["given"]["X"]
    U = upstream if upstream is not None else data["upstream"]["L"]
    dK = [[sum(U[i][j] * X[2 * i + u][2 * j + v] for i in range(2) for j in range(2))
           for v in range(3)] for u in range(3)]
    return data, dK


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


# ------------------------------------------------------------------ sign, missing-factor

def test_correct_answer_has_no_diagnosis(tmp_path):
    want = linear(3, 5, 1)
    ex = check(tmp_path, linear_exercise(3, 5, 1, ["dloss/dw"]), {"dloss/dw": text(want["dloss/dw"])})
    it = item(ex, "dloss/dw")
    assert it["status"] == "correct"
    assert it["diagnosis"] is None and it["feedback"] is None


def test_unmatched_wrong_answer_has_no_diagnosis(tmp_path):
    want = linear(3, 5, 1)
    g = want["dloss/dw"]  # -12
    answer = Fraction(7)
    # 7 is none of the classic mistakes: not -g, not g without the 2, not g without x.
    assert answer not in (-g, g / 2, g / 3, g)
    ex = check(tmp_path, linear_exercise(3, 5, 1, ["dloss/dw"]), {"dloss/dw": text(answer)})
    it = item(ex, "dloss/dw")
    assert it["status"] == "incorrect"
    assert it["diagnosis"] is None and it["feedback"] is None


def test_sign_scalar(tmp_path):
    # (y - y_hat) where (y_hat - y) belongs: dloss/dw = 2 (y - x w) x
    x, y, w = Fraction(3), Fraction(5), Fraction(1)
    mistaken = 2 * (y - x * w) * x
    assert mistaken == -linear(3, 5, 1)["dloss/dw"] != 0
    ex = check(tmp_path, linear_exercise(3, 5, 1, ["dloss/dw"]), {"dloss/dw": text(mistaken)})
    it = assert_diagnosed(ex, "dloss/dw", "sign", "r")
    assert "'r'" in it["feedback"]  # the subtraction step


def test_sign_tensor(tmp_path):
    data, h = batch_mse()
    mistaken = [-g for g in h["dw"]]
    ex = check(tmp_path, data, {"dloss/dw": column(mistaken)})
    assert_diagnosed(ex, "dloss/dw", "sign", "r")


@pytest.mark.parametrize("left_out", ["the 2 of the square", "the x of x*w"])
def test_missing_factor_scalar(tmp_path, left_out):
    # x = 3, y = 5, w = 1: dloss/dw = 2 r x = -12; without the 2: r x = -6; without x: 2 r = -4
    x, y, w = Fraction(3), Fraction(5), Fraction(1)
    r = x * w - y
    mistaken, step = (r * x, "loss") if left_out == "the 2 of the square" else (2 * r, "y_hat")
    others = {2 * r * x, -(2 * r * x), r * x, 2 * r} - {mistaken}
    assert mistaken not in others  # the mistakes give distinct numbers here
    ex = check(tmp_path, linear_exercise(3, 5, 1, ["dloss/dw"]), {"dloss/dw": text(mistaken)})
    it = assert_diagnosed(ex, "dloss/dw", "missing-factor", step)
    assert f"'{step}'" in it["feedback"]


def test_missing_factor_tensor(tmp_path):
    # batch-mse without the 2 of the square: (1/n) X^T r
    data, h = batch_mse()
    X, r, n = h["X"], h["r"], h["n"]
    mistaken = [sum(X[i][k] * r[i] for i in range(n)) / n for k in range(2)]
    assert mistaken not in (h["dw"], [-g for g in h["dw"]], [4 * g for g in h["dw"]],
                            [g / 4 for g in h["dw"]])
    ex = check(tmp_path, data, {"dloss/dw": column(mistaken)})
    it = assert_diagnosed(ex, "dloss/dw", "missing-factor", "loss")
    assert "'loss'" in it["feedback"]


# ------------------------------------------------------------------ missing-path

@pytest.mark.parametrize("only", ["through q", "direct"])
def test_missing_path_scalar(tmp_path, only):
    # fan-out.yaml: q = x + y, f = q * x.  df/dx = x * dq/dx + q = x + q.
    data = shipped("fan-out")
    x, y = Fraction(data["given"]["x"]), Fraction(data["given"]["y"])
    q = x + y
    right = x * 1 + q
    mistaken = x * 1 if only == "through q" else q
    assert mistaken != right and mistaken != -right
    ex = check(tmp_path, data, {"df/dx": text(mistaken)})
    it = assert_diagnosed(ex, "df/dx", "missing-path", "x", "q", "f")
    assert item(ex, "df/dx")["expected"] == text(right)
    assert "'x'" in it["feedback"]


def tensor_fan_out():
    a, b = [Fraction(1), Fraction(2)], [Fraction(3), Fraction(-5)]
    data = {"backprop": 1, "given": {"a": [1, 2], "b": [3, -5]},
            "steps": {"q": "a + b", "f": "sum(q * a)"}, "ask": ["df/da"]}
    q = [ai + bi for ai, bi in zip(a, b)]
    # df/da = df/dq * dq/da + q = a + q, elementwise
    return data, a, q


@pytest.mark.parametrize("only", ["through q", "direct"])
def test_missing_path_tensor(tmp_path, only):
    data, a, q = tensor_fan_out()
    right = [ai + qi for ai, qi in zip(a, q)]
    mistaken = a if only == "through q" else q
    assert mistaken != right
    ex = check(tmp_path, data, {"df/da": column(mistaken)})
    assert_diagnosed(ex, "df/da", "missing-path", "a", "q")


def test_missing_path_feedback_speaks_in_the_exercises_names(tmp_path):
    """The fork into `q * a` is inside step f; the feedback should name step f, not an
    internal node name such as f_1 that appears nowhere in the exercise (unless it says
    what that name is, as other feedback does: "step 'loss' (where loss_1 = r**2)")."""
    data, a, q = tensor_fan_out()
    ex = check(tmp_path, data, {"df/da": column(q)})
    it = assert_diagnosed(ex, "df/da", "missing-path", "a")
    names_in_exercise = set(data["given"]) | set(data["steps"])
    for name in re.findall(r"\b([A-Za-z][A-Za-z0-9]*_[0-9]+)\b", it["feedback"]):
        assert name in names_in_exercise or f"where {name} =" in it["feedback"], \
            f"feedback uses the internal name {name!r} without saying what it is: {it['feedback']}"


# ------------------------------------------------------------------ missing-upstream

def test_missing_upstream_scalar(tmp_path):
    # scalar-product.yaml: f = x * w, dL/df = 5.  Without the 5: dL/dx = w, dL/dw = x.
    data = shipped("scalar-product")
    x, w, up = (Fraction(data["given"]["x"]), Fraction(data["given"]["w"]),
                Fraction(data["upstream"]["L"]))
    assert up not in (1, -1)
    ex = check(tmp_path, data, {"dL/dx": text(w), "dL/dw": text(x)})
    for key in ("dL/dx", "dL/dw"):
        it = assert_diagnosed(ex, key, "missing-upstream")
        assert "dL/df" in it["feedback"] and "5" in it["feedback"]
    assert item(ex, "dL/dx")["expected"] == text(up * w)


def test_missing_upstream_tensor(tmp_path):
    # conv-stride2 with the upstream dL/dz replaced by ones
    data, right = conv_stride2()
    _, mistaken = conv_stride2(upstream=[[1, 1], [1, 1]])
    assert mistaken != right and mistaken != transpose(right)
    ex = check(tmp_path, data, {"dL/dK": grid(mistaken)})
    it = assert_diagnosed(ex, "dL/dK", "missing-upstream")
    assert item(ex, "dL/dK")["expected"] == grid(right)
    assert "dL/dz" in it["feedback"] and "upstream" in it["feedback"]


# ------------------------------------------------------------------ activation-not-derivative

def test_activation_not_derivative_scalar(tmp_path):
    # sigmoid-chain.yaml by hand (z1 = z2 = 0 so every value is a fraction).
    data = shipped("sigmoid-chain")
    g = {k: Fraction(v) for k, v in data["given"].items()}
    z1 = g["w1"] * g["x"] + g["b1"]
    a1 = Fraction(sigmoid(float(z1)))  # exactly 1/2 in binary floating point
    z2 = g["w2"] * a1 + g["b2"]
    a2 = Fraction(sigmoid(float(z2)))
    dC_da2 = 2 * (a2 - g["y"])
    right = dC_da2 * a2 * (1 - a2)  # sigmoid'(z2) = a2 (1 - a2)
    mistaken = dC_da2 * a2  # sigmoid(z2) where sigmoid'(z2) belongs
    assert mistaken not in (right, -right, dC_da2 / 2 * a2 * (1 - a2), dC_da2)
    ex = check(tmp_path, data, {"dC/dz2": text(mistaken)})
    assert item(ex, "dC/dz2")["expected"] == text(right)
    it = assert_diagnosed(ex, "dC/dz2", "activation-not-derivative", "a2")
    assert "sigmoid" in it["feedback"]


def sigmoid_layer():
    """z = W x, a = sigmoid(z), loss = sum(a); dloss/dx = W^T sigmoid'(z)."""
    W, x = [[1, 2], [0, -1]], [1, 1]
    data = {"backprop": 1, "given": {"W": W, "x": x},
            "steps": {"z": "W @ x", "a": "sigmoid(z)", "loss": "sum(a)"}, "ask": ["dloss/dx"]}
    z = [sum(W[i][k] * x[k] for k in range(2)) for i in range(2)]
    s = [sigmoid(zi) for zi in z]
    right = [sum(W[i][k] * s[i] * (1 - s[i]) for i in range(2)) for k in range(2)]
    mistaken = [sum(W[i][k] * s[i] for i in range(2)) for k in range(2)]
    return data, right, mistaken


def test_activation_not_derivative_tensor(tmp_path):
    data, right, mistaken = sigmoid_layer()
    assert all(abs(m - r) > 10 * REL * abs(r) for m, r in zip(mistaken, right))
    ex = check(tmp_path, data, {"dloss/dx": [repr(v) for v in mistaken]})
    assert_diagnosed(ex, "dloss/dx", "activation-not-derivative", "a")


# ------------------------------------------------------------------ transpose

def test_transpose_conv_kernel(tmp_path):
    data, dK = conv_stride2()
    assert dK != transpose(dK)  # not symmetric, so the transpose is a real mistake
    ex = check(tmp_path, data, {"dL/dK": grid(transpose(dK))})
    assert item(ex, "dL/dK")["expected"] == grid(dK)
    it = assert_diagnosed(ex, "dL/dK", "transpose", "K")
    assert "dL/dK" in it["feedback"]


def test_transpose_of_a_2x3_weight_gradient(tmp_path):
    # z = W x, loss = sum(z*z): dloss/dW = 2 z x^T (2x3); the transpose is 3x2
    W, x = [[1, 0, -1], [2, 1, 0]], [1, 2, 3]
    z = [sum(W[i][k] * x[k] for k in range(3)) for i in range(2)]
    dW = [[2 * z[i] * x[k] for k in range(3)] for i in range(2)]
    data = {"backprop": 1, "given": {"W": W, "x": x},
            "steps": {"z": "W @ x", "loss": "sum(z * z)"}, "ask": ["dloss/dW"]}
    ex = check(tmp_path, data, {"dloss/dW": grid(transpose(dW))})
    assert item(ex, "dloss/dW")["expected"] == grid(dW)
    assert_diagnosed(ex, "dloss/dW", "transpose", "W")


# ------------------------------------------------------------------ missing-mean

@pytest.mark.parametrize("factor", [4, Fraction(1, 4)])
def test_missing_mean(tmp_path, factor):
    data, h = batch_mse()
    assert h["n"] == 4
    ex = check(tmp_path, data, {"dloss/dw": column([factor * g for g in h["dw"]]),
                                "dloss/db": text(factor * h["db"])})
    assert item(ex, "dloss/dw")["expected"] == [[v] for v in column(h["dw"])]
    for key in ("dloss/dw", "dloss/db"):
        it = assert_diagnosed(ex, key, "missing-mean", "loss")
        assert "4" in it["feedback"]


# ------------------------------------------------------------------ update-sign

def test_update_sign(tmp_path):
    data = shipped("train-linear-model")
    x, y, w = (Fraction(data["given"][k]) for k in ("x", "y", "w"))
    rate = Fraction(str(data["train"]["rate"]))

    def grad(w):
        return 2 * (x * w - y) * x

    right, wrong = [w], [w]
    for _ in range(2):
        right.append(right[-1] - rate * grad(right[-1]))
        wrong.append(wrong[-1] + rate * grad(wrong[-1]))  # the mistake: + instead of -
    ex = check(tmp_path, data, {"w@1": text(wrong[1]), "w@2": text(wrong[2]),
                                "loss@1": text((x * wrong[1] - y) ** 2)})
    assert item(ex, "w@1")["expected"] == text(right[1])
    for key in ("w@1", "w@2"):
        it = assert_diagnosed(ex, key, "update-sign")
        assert "subtract" in it["feedback"]
    # loss@1 is computed right from the student's own w@1: the mistake is upstream (SPEC:
    # carried-forward, training keys included, comes before update-sign)
    assert_diagnosed(ex, "loss@1", "carried-forward", "w@1")


def test_update_sign_feedback_names_the_parameter(tmp_path):
    """With params a and b (no w anywhere), the feedback for b@1 names b's update."""
    data = {"backprop": 1, "given": {"a": 1, "b": 2},
            "steps": {"y_hat": "a * 3 + b", "loss": "(y_hat - 4)**2"},
            "train": {"rate": "1/10", "steps": 1, "params": ["a", "b"]},
            "ask": ["b@1"]}
    a, b, rate = Fraction(1), Fraction(2), Fraction(1, 10)
    g_b = 2 * (a * 3 + b - 4)
    ex = check(tmp_path, data, {"b@1": text(b + rate * g_b)})
    it = assert_diagnosed(ex, "b@1", "update-sign")
    assert re.search(r"(?<![A-Za-z0-9_])b(?![A-Za-z0-9_])", it["feedback"]), it["feedback"]
    assert not re.search(r"(?<![A-Za-z0-9_/])w(?![A-Za-z0-9_])", it["feedback"]), it["feedback"]


# ------------------------------------------------------------------ rounding

def test_rounding_scalar(tmp_path):
    right = linear(3, 5, 1)["dloss/dw"]  # -12
    tol = REL * abs(right)
    answer = f"{float(right) + 5 * tol:.4f}"  # 5 tolerances off: outside 1x, within 10x
    ex = check(tmp_path, linear_exercise(3, 5, 1, ["dloss/dw"]), {"dloss/dw": answer})
    it = assert_diagnosed(ex, "dloss/dw", "rounding")
    assert "tolerance" in it["feedback"]


def test_rounding_boundary_sqrt(tmp_path):
    # f = sqrt(2) = 1.41421...: 1.41 is 3x the tolerance off, 1.4 is just over 10x.
    data = {"backprop": 1, "given": {"x": 2}, "steps": {"f": "sqrt(x)"}, "ask": ["f"]}
    right = math.sqrt(2)
    tol = REL * right + 1e-9
    assert tol < abs(1.41 - right) < 10 * tol < abs(1.4 - right)
    assert_diagnosed(check(tmp_path, data, {"f": "1.41"}), "f", "rounding")
    it = item(check(tmp_path, data, {"f": "1.4"}), "f")
    assert it["status"] == "incorrect" and it["diagnosis"] is None


def test_rounding_tensor(tmp_path):
    data, right, _ = sigmoid_layer()
    answer = [right[0] * (1 + 3 * REL), right[1]]  # one entry 3 tolerances off
    ex = check(tmp_path, data, {"dloss/dx": [f"{v:.12f}" for v in answer]})
    assert_diagnosed(ex, "dloss/dx", "rounding")


def test_exact_answer_is_never_rounding(tmp_path):
    # an exact (fraction) answer must be exactly right: 1/1000 off is just wrong
    right = linear(3, 5, 1)["dloss/dw"]
    ex = check(tmp_path, linear_exercise(3, 5, 1, ["dloss/dw"]),
               {"dloss/dw": text(right + Fraction(1, 1000))})
    it = item(ex, "dloss/dw")
    assert it["status"] == "incorrect" and it["diagnosis"] is None


# ------------------------------------------------------------------ carried-forward

def carried_forward_answers():
    """y_hat wrong; r, loss and dloss/dr right for that y_hat; dloss/dw right outright."""
    y = Fraction(5)
    y_hat = Fraction(4)  # should be 3
    r = y_hat - y
    return {"y_hat": text(y_hat), "r": text(r), "loss": text(r * r), "dloss/dr": text(2 * r),
            "dloss/dw": text(linear(3, 5, 1)["dloss/dw"])}


CHAIN = ["y_hat", "r", "loss", "dloss/dr", "dloss/dw"]


def test_carried_forward_three_steps_with_credit(tmp_path):
    want = linear(3, 5, 1)
    answers = carried_forward_answers()
    for key in ("y_hat", "r", "loss", "dloss/dr"):
        assert Fraction(answers[key]) != want[key]  # all four are wrong numbers
    ex = check(tmp_path, linear_exercise(3, 5, 1, CHAIN, carry_forward=0.5), answers)
    assert item(ex, "y_hat")["diagnosis"] is None and item(ex, "y_hat")["points"] == 0
    for key in ("r", "loss", "dloss/dr"):
        it = assert_diagnosed(ex, key, "carried-forward", "y_hat")
        assert it["points"] == 0.5 and it["max_points"] == 1.0, it
    assert item(ex, "dloss/dw")["status"] == "correct"
    assert ex["score"] == 2.5 and ex["max_score"] == 5.0
    assert ex["_doc"]["score"] == 2.5 and ex["_doc"]["max_score"] == 5.0


def test_carried_forward_credit_scales_with_points(tmp_path):
    data = linear_exercise(3, 5, 1, CHAIN, carry_forward=0.5, points={"loss": 2})
    ex = check(tmp_path, data, carried_forward_answers())
    assert item(ex, "loss")["diagnosis"] == "carried-forward"
    assert item(ex, "loss")["points"] == 1.0 and item(ex, "loss")["max_points"] == 2.0
    assert ex["score"] == 0 + 0.5 + 1.0 + 0.5 + 1 and ex["max_score"] == 6.0


def test_carried_forward_without_credit_earns_nothing(tmp_path):
    ex = check(tmp_path, linear_exercise(3, 5, 1, CHAIN), carried_forward_answers())
    for key in ("r", "loss", "dloss/dr"):
        it = assert_diagnosed(ex, key, "carried-forward", "y_hat")
        assert it["points"] == 0
    assert ex["score"] == 1.0


def test_carried_forward_tensor(tmp_path):
    # batch-mse: one entry of y_hat wrong; r, loss and dloss/dw consistent with it
    data, h = batch_mse()
    data["ask"] = ["y_hat", "r", "loss", "dloss/dw"]
    data["carry_forward"] = 0.5
    y_hat = list(h["y_hat"])
    y_hat[3] += 1
    r = [a - b for a, b in zip(y_hat, h["y"])]
    loss = sum(v * v for v in r) / 4
    dw = [sum(h["X"][i][k] * 2 * r[i] / 4 for i in range(4)) for k in range(2)]
    assert loss != h["loss"] and dw != h["dw"]
    ex = check(tmp_path, data, {"y_hat": column(y_hat), "r": column(r), "loss": text(loss),
                                "dloss/dw": column(dw)})
    for key in ("r", "loss", "dloss/dw"):
        it = assert_diagnosed(ex, key, "carried-forward", "y_hat")
        assert it["points"] == 0.5
    assert ex["score"] == 1.5


# ------------------------------------------------------------------ precedence

def test_precedence_missing_upstream_over_sign(tmp_path):
    # upstream -1: leaving it out is the same as flipping the sign
    data = shipped("scalar-product")
    data["upstream"] = {"L": -1}
    w = Fraction(data["given"]["w"])
    right, without_upstream = -1 * w, w
    assert without_upstream == -right
    ex = check(tmp_path, data, {"dL/dx": text(without_upstream)})
    assert_diagnosed(ex, "dL/dx", "missing-upstream")


def test_precedence_transpose_over_sign(tmp_path):
    # loss = sum(W * A) with A antisymmetric: dloss/dW = A and A^T = -A
    A = [[0, 1], [-1, 0]]
    data = {"backprop": 1, "given": {"W": [[1, 2], [3, 4]], "A": A},
            "steps": {"loss": "sum(W * A)"}, "ask": ["dloss/dW"]}
    assert transpose(A) == [[-v for v in row] for row in A]
    ex = check(tmp_path, data, {"dloss/dW": grid(transpose(A))})
    assert_diagnosed(ex, "dloss/dW", "transpose")


def test_precedence_missing_mean_over_missing_factor(tmp_path):
    # loss = mean(a**2) over 2 numbers: dloss/da = 2a/2 = a.  Leaving out the 2 of the
    # square gives a/2, which is also 1/n of the right answer.
    a = [Fraction(1), Fraction(3)]
    data = {"backprop": 1, "given": {"a": [1, 3]}, "steps": {"loss": "mean(a**2)"},
            "ask": ["dloss/da"]}
    right = [2 * v / 2 for v in a]
    no_two = [v / 2 for v in a]
    assert no_two == [v / 2 for v in right]
    ex = check(tmp_path, data, {"dloss/da": column(no_two)})
    assert_diagnosed(ex, "dloss/da", "missing-mean", "loss")


def test_precedence_update_sign_over_sign(tmp_path):
    # w = 0: w + rate*g = -(w - rate*g)
    x, y, w, rate = Fraction(1), Fraction(2), Fraction(0), Fraction(1, 10)
    g = 2 * (x * w - y) * x
    right, added = w - rate * g, w + rate * g
    assert added == -right != 0
    data = linear_exercise(1, 2, 0, ["w@1"], train={"rate": "1/10", "steps": 1, "params": ["w"]})
    ex = check(tmp_path, data, {"w@1": text(added)})
    assert_diagnosed(ex, "w@1", "update-sign")


def test_precedence_activation_over_missing_factor(tmp_path):
    # sigmoid-chain dC/dw2 = dC/da2 * a2(1-a2) * a1.  With sigmoid for sigmoid':
    # dC/da2 * a2 * a1; leaving out a1 instead: dC/da2 * a2(1-a2).  Both are -1/4 here.
    a1 = a2 = Fraction(1, 2)
    dC_da2 = 2 * (a2 - 1)
    activation = dC_da2 * a2 * a1
    no_a1 = dC_da2 * a2 * (1 - a2)
    assert activation == no_a1
    ex = check(tmp_path, shipped("sigmoid-chain"), {"dC/dw2": text(activation)})
    assert_diagnosed(ex, "dC/dw2", "activation-not-derivative", "a2")


def test_precedence_carried_forward_over_missing_factor(tmp_path):
    # y_hat = 4 (wrong), r = -1, dloss/dr = -2 and dloss/dw = dloss/dr * x = -6,
    # which is also the right r times x (the 2 of the square left out).
    x, y = Fraction(3), Fraction(5)
    carried = 2 * (4 - y) * x
    assert carried == (x * 1 - y) * x
    answers = {"y_hat": "4", "r": "-1", "dloss/dr": "-2", "dloss/dw": text(carried)}
    ex = check(tmp_path, linear_exercise(3, 5, 1, ["y_hat", "r", "dloss/dr", "dloss/dw"]), answers)
    assert_diagnosed(ex, "dloss/dw", "carried-forward", "y_hat")


# ------------------------------------------------------------------ first_wrong, hide_expected, partial

def test_first_wrong_is_earliest_in_graph_order(tmp_path):
    want = linear(3, 5, 1)
    # asked in an order unlike the graph's; loss and dloss/dw wrong
    data = linear_exercise(3, 5, 1, ["dloss/dw", "dloss/dr", "loss", "y_hat"])
    answers = {"dloss/dw": text(-want["dloss/dw"]), "dloss/dr": text(want["dloss/dr"]),
               "loss": text(want["loss"] + 1), "y_hat": text(want["y_hat"])}
    ex = check(tmp_path, data, answers)
    assert ex["first_wrong"] == "loss"
    # among gradients, the one nearest the output comes first
    answers = {"dloss/dw": text(-want["dloss/dw"]), "dloss/dr": text(-want["dloss/dr"]),
               "loss": text(want["loss"]), "y_hat": text(want["y_hat"])}
    assert check(tmp_path, data, answers)["first_wrong"] == "dloss/dr"
    all_right = {k: text(want[k]) for k in ("dloss/dw", "dloss/dr", "loss", "y_hat")}
    assert check(tmp_path, data, all_right)["first_wrong"] is None


def test_text_report_leads_with_first_wrong_step(tmp_path):
    want = linear(3, 5, 1)
    data = linear_exercise(3, 5, 1, ["dloss/dw", "loss"])
    data["answers"] = {"dloss/dw": text(-want["dloss/dw"]), "loss": text(want["loss"] + 1)}
    result = invoke("check", write(tmp_path, data))
    assert result.exit_code == 1
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    first_item = next(i for i, line in enumerate(lines) if "incorrect" in line)
    lead = [i for i, line in enumerate(lines) if line.startswith("First wrong step")]
    assert lead and lead[0] < first_item, result.stdout
    assert re.match(r"First wrong step: loss\b", lines[lead[0]]), result.stdout


def test_hide_expected_hides_diagnosis_and_feedback(tmp_path):
    want = linear(3, 5, 1)
    answers = {**carried_forward_answers(), "dloss/dw": text(-want["dloss/dw"])}
    shown = check(tmp_path, linear_exercise(3, 5, 1, CHAIN), answers)
    assert item(shown, "dloss/dw")["diagnosis"] == "sign"
    assert item(shown, "r")["diagnosis"] == "carried-forward"
    hidden = check(tmp_path, linear_exercise(3, 5, 1, CHAIN, hide_expected=True), answers)
    for it in hidden["items"]:
        assert it["expected"] is None and it["diagnosis"] is None and it["feedback"] is None, it
    data = linear_exercise(3, 5, 1, CHAIN, hide_expected=True)
    data["answers"] = answers
    path = write(tmp_path, data)
    out = invoke("check", path).stdout.replace(str(path), "")  # the temp path may hold digits
    for word in ("sign", "carried-forward", "it should be", "tolerance", str(want["dloss/dw"])):
        assert word not in out, (word, out)


def test_partial_credit_for_tensor_entries(tmp_path):
    data, h = batch_mse()
    data["partial"] = True
    half_right = [h["dw"][0], h["dw"][1] + 1]
    ex = check(tmp_path, data, {"dloss/dw": column(half_right)})
    it = item(ex, "dloss/dw")
    assert it["status"] == "incorrect" and it["points"] == 0.5
    assert it["entries"] == [[True], [False]]
