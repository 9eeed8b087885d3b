"""The four new named mistakes, on the shipped exercises and on one new exercise each.

Each wrong answer below is computed here, independently of the engine (NumPy on
Fractions, or by hand), as the student who makes the mistake would compute it; the
item must carry the code, and its sentence must speak in the exercise's names.
"""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from cli_runner import invoke

ROOT = Path(__file__).resolve().parents[1]
SLOW_OK = ("--time-limit", "120")


def text(value) -> str:
    value = Fraction(value)
    return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"


def rows(array) -> str:
    array = np.atleast_2d(np.array(array, dtype=object))
    return "[" + ", ".join("[" + ", ".join(f'"{text(v)}"' for v in row) + "]" for row in array) + "]"


def graded(tmp_path: Path, exercise: Path | str, answers: dict[str, str]) -> dict:
    body = exercise.read_text(encoding="utf-8") if isinstance(exercise, Path) else exercise
    path = tmp_path / "ex.yaml"
    path.write_text(body.rstrip("\n") + "\nanswers:\n"
                    + "".join(f"  {k}: {v}\n" for k, v in answers.items()), encoding="utf-8")
    result = invoke("check", path, "--format", "json", *SLOW_OK)
    assert result.exit_code in (0, 1), result.output
    return {i["key"]: i for i in json.loads(result.stdout)["exercises"][0]["items"]}


def assert_named(item: dict, code: str, *words: str) -> None:
    assert item["status"] == "incorrect", item
    assert item["diagnosis"] == code, item
    for word in words:
        assert word in item["feedback"], (word, item["feedback"])


# ------------------------------------------------------------------ flipped-kernel

def correlate_backward(X, K, G, stride):
    """dL/dX and dL/dK of z = cross-correlation(X, K) with stride, for upstream G."""
    dX, dK = np.zeros(X.shape, dtype=object), np.zeros(K.shape, dtype=object)
    kh, kw = K.shape
    for i, j in np.ndindex(*G.shape):
        window = (slice(i * stride, i * stride + kh), slice(j * stride, j * stride + kw))
        dX[window] += G[i, j] * K
        dK += G[i, j] * X[window]
    return dX, dK


CONV = ROOT / "exercises" / "conv-stride2.yaml"
X5 = np.array([[1, 2, 0, 1, 3], [0, 1, 2, 1, 0], [2, 0, 1, 3, 1], [1, 3, 0, 2, 1], [0, 1, 2, 0, 2]],
              dtype=object)
K3 = np.array([[1, 0, 2], [-1, 1, 0], [3, 0, -1]], dtype=object)
G2 = np.array([[1, -1], [2, 1]], dtype=object)


def test_flipped_kernel_on_the_shipped_convolution(tmp_path):
    dX_flipped, _ = correlate_backward(X5, K3[::-1, ::-1], G2, 2)  # the kernel rotated 180°
    _, dK = correlate_backward(X5, K3, G2, 2)
    items = graded(tmp_path, CONV, {"dL/dX": rows(dX_flipped), "dL/dK": rows(dK[::-1, ::-1])})
    assert_named(items["dL/dX"], "flipped-kernel", "180°", "step 'z'", "cross-correlation")
    assert_named(items["dL/dK"], "flipped-kernel", "180°", "window (i,j) of X")


NEW_CONV = """backprop: 1
given:
  A: [[1, -2, 0], [3, 1, -1], [0, 2, 1]]
  F: [[2, -1], [0, 1]]
steps:
  c: conv2d(A, F, padding=1)
  loss: sum(c*c)
ask: [dloss/dA, dloss/dF]
"""


def test_flipped_kernel_with_padding_and_a_loss_after_the_convolution(tmp_path):
    A = np.array([[1, -2, 0], [3, 1, -1], [0, 2, 1]], dtype=object)
    F = np.array([[2, -1], [0, 1]], dtype=object)
    padded = np.zeros((5, 5), dtype=object)
    padded[1:4, 1:4] = A
    C = np.array([[sum((padded[i:i + 2, j:j + 2] * F).flat) for j in range(4)] for i in range(4)],
                 dtype=object)
    dP, dF = correlate_backward(padded, F[::-1, ::-1], 2 * C, 1)
    items = graded(tmp_path, NEW_CONV, {"dloss/dA": rows(dP[1:4, 1:4])})
    assert_named(items["dloss/dA"], "flipped-kernel", "step 'c'")
    _, dF = correlate_backward(padded, F, 2 * C, 1)
    items = graded(tmp_path, NEW_CONV, {"dloss/dF": rows(dF[::-1, ::-1])})
    assert_named(items["dloss/dF"], "flipped-kernel")


# ------------------------------------------------------------------ batch-not-summed

def test_batch_not_summed_on_the_shipped_batch_exercises(tmp_path):
    # batch-mse: y_hat = X w + b, loss = mean((y_hat - y)**2); per example: 2 (y_hat - y) / 4
    X, w, b, y = np.array([[1, 2], [2, 0], [0, 1], [3, 1]]), np.array([1, -1]), 2, np.array([2, 3, 0, 2])
    per_example = [[Fraction(2 * (e - t), 4)] for e, t in zip(X @ w + b, y)]
    items = graded(tmp_path, ROOT / "exercises" / "batch-mse.yaml", {"dloss/db": rows(per_example)})
    assert_named(items["dloss/db"], "batch-not-summed", "each example", "step 'y_hat'")
    # batch-2-3-1: the 3x4 dloss/dZ1, one column per example, instead of its row sums
    Xb = np.array([[1, 0, 2, -1], [1, 2, -1, 1]], dtype=object)
    W1 = np.array([[1, -1], [2, 1], [-1, 1]], dtype=object)
    b1 = np.array([[1], [-1], [Fraction(1, 2)]], dtype=object)
    W2, b2, Y = np.array([[-1, 1, -1]], dtype=object), Fraction(1, 2), np.array([[-1, 0, 1, 0]], dtype=object)
    Z1 = W1.dot(Xb) + b1
    H = np.where(Z1 > 0, Z1, 0)
    dZ1 = W2.T.dot(2 * (W2.dot(H) + b2 - Y) / Fraction(4)) * (Z1 > 0)
    items = graded(tmp_path, ROOT / "exercises" / "batch-2-3-1.yaml", {"dloss/db1": rows(dZ1)})
    assert_named(items["dloss/db1"], "batch-not-summed", "b1 is broadcast over 4 columns", "step 'Z1'")
    assert "wrong shape" in items["dloss/db1"]["message"]


ROW_BIAS = """backprop: 1
given:
  X: [[1, 2], [0, -1], [2, 1]]
  W: [[1, 0], [-1, 2]]
  c: [[1, -1]]
steps:
  Z: X @ W + c
  loss: sum(Z*Z)
ask: [dloss/dc]
"""


def test_batch_not_summed_for_a_row_bias_over_the_rows(tmp_path):
    X = np.array([[1, 2], [0, -1], [2, 1]])
    W, c = np.array([[1, 0], [-1, 2]]), np.array([[1, -1]])
    per_example = 2 * (X @ W + c)  # 3x2: one row per example
    items = graded(tmp_path, ROW_BIAS, {"dloss/dc": rows(per_example)})
    assert_named(items["dloss/dc"], "batch-not-summed", "c is broadcast over 3 rows")
    right = graded(tmp_path, ROW_BIAS, {"dloss/dc": rows(per_example.sum(axis=0, keepdims=True))})
    assert right["dloss/dc"]["status"] == "correct"


# ------------------------------------------------------------------ softmax-missing-onehot

def softmax_classifier_p():
    """softmax-classifier: h = relu(W1 x + b1) = [1, 1, 0], s = W2 h + b2 = [0, 2, -1]."""
    return ["1/(1 + exp(-1) + exp(2))", "exp(2)/(1 + exp(-1) + exp(2))", "exp(-1)/(1 + exp(-1) + exp(2))"]


def test_softmax_missing_onehot_on_the_shipped_classifier(tmp_path):
    p = softmax_classifier_p()
    p_col = "[" + ", ".join(f'"{e}"' for e in p) + "]"
    p_times_h = "[" + ", ".join(f'["{e}", "{e}", 0]' for e in p) + "]"  # p h.T with h = [1, 1, 0]
    minus_y_over_p = '[0, "-(1 + exp(-1) + exp(2))/exp(2)", 0]'  # -y/p, y = [0, 1, 0]
    items = graded(tmp_path, ROOT / "exercises" / "softmax-classifier.yaml", {"dloss/ds": p_col})
    assert_named(items["dloss/ds"], "softmax-missing-onehot", "p - y", "one-hot")
    items = graded(tmp_path, ROOT / "exercises" / "softmax-classifier.yaml", {"dloss/dW2": p_times_h})
    assert_named(items["dloss/dW2"], "softmax-missing-onehot", "p - y")
    # with the same wrong dloss/ds written above it, dloss/dW2 follows from it: carried forward
    items = graded(tmp_path, ROOT / "exercises" / "softmax-classifier.yaml",
                   {"dloss/ds": p_col, "dloss/dW2": p_times_h})
    assert items["dloss/dW2"]["diagnosis"] == "carried-forward"
    items = graded(tmp_path, ROOT / "exercises" / "softmax-classifier.yaml", {"dloss/ds": minus_y_over_p})
    assert_named(items["dloss/ds"], "softmax-missing-onehot", "-y/p", "Jacobian")


SOFTMAX4 = """backprop: 1
given:
  z: [1, 0, 2, 0]
  t: [0, 0, 0, 1]
steps:
  q: softmax(z)
  L: -sum(t*log(q))
ask: [dL/dz]
"""


def test_softmax_missing_onehot_with_four_classes(tmp_path):
    total = "(2 + exp(1) + exp(2))"
    q = [f"exp(1)/{total}", f"1/{total}", f"exp(2)/{total}", f"1/{total}"]
    items = graded(tmp_path, SOFTMAX4, {"dL/dz": "[" + ", ".join(f'"{e}"' for e in q) + "]"})
    assert_named(items["dL/dz"], "softmax-missing-onehot", "q = softmax(z)", "q - y")
    right = [f"exp(1)/{total}", f"1/{total}", f"exp(2)/{total}", f"1/{total} - 1"]
    items = graded(tmp_path, SOFTMAX4, {"dL/dz": "[" + ", ".join(f'"{e}"' for e in right) + "]"})
    assert items["dL/dz"]["status"] == "correct"


def test_softmax_without_a_cross_entropy_is_not_called_that(tmp_path):
    text_ = SOFTMAX4.replace("L: -sum(t*log(q))", "L: sum(q*q)")
    total = "(2 + exp(1) + exp(2))"
    q = [f"exp(1)/{total}", f"1/{total}", f"exp(2)/{total}", f"1/{total}"]
    items = graded(tmp_path, text_, {"dL/dz": "[" + ", ".join(f'"{e}"' for e in q) + "]"})
    assert items["dL/dz"]["diagnosis"] != "softmax-missing-onehot"


# ------------------------------------------------------------------ missing-mean, forward values

def test_a_mean_squared_error_without_its_one_over_n(tmp_path):
    # batch-mse: residuals [-1, 1, 1, 2]: the mean of squares is 7/4, the sum 7
    items = graded(tmp_path, ROOT / "exercises" / "batch-mse.yaml", {"loss": "7"})
    assert_named(items["loss"], "missing-mean", "step 'loss'", "mean of 4 numbers", "divide by 4")
    # batch-2-3-1: Yhat - Y = [2, -1, -5/2, -2]: the mean of squares is 61/16, the sum 61/4
    items = graded(tmp_path, ROOT / "exercises" / "batch-2-3-1.yaml", {"loss": "61/4"})
    assert_named(items["loss"], "missing-mean", "mean of 4 numbers")


MEAN_WRITTEN_OUT = """backprop: 1
given:
  x: [[1, 2, 3, 4]]
  y: [[2, 3, 5, 9]]
  w: 1
steps:
  y_hat: w * x
  r: y_hat - y
  loss: sum(r * r) / 4
ask: [loss]
"""


def test_a_mean_written_out_as_a_sum_over_n_without_its_one_over_n(tmp_path):
    # r = [-1, -1, -2, -5]: the sum of squares is 31, the mean 31/4
    items = graded(tmp_path, MEAN_WRITTEN_OUT, {"loss": "31"})
    assert_named(items["loss"], "missing-mean", "step 'loss'", "divides it by 4", "divide by 4")
    # a division that is not by the number of entries is no mean: dividing by 2 is not named so
    items = graded(tmp_path, MEAN_WRITTEN_OUT.replace("/ 4", "/ 2"), {"loss": "31"})
    assert items["loss"]["diagnosis"] != "missing-mean", items["loss"]


MEAN_THEN_MORE = """backprop: 1
given:
  e: [[1, -2, 3]]
steps:
  m: mean(e*e)
  r: sqrt(m) + 1
ask: [m, r]
"""


def test_missing_mean_carries_into_a_later_step(tmp_path):
    # mean(e*e) = 14/3; without the 1/3: 14, and r = sqrt(14) + 1
    items = graded(tmp_path, MEAN_THEN_MORE, {"m": "14", "r": "sqrt(14) + 1"})
    assert_named(items["m"], "missing-mean", "step 'm'", "mean of 3 numbers")
    assert items["r"]["diagnosis"] in ("missing-mean", "carried-forward"), items["r"]
    items = graded(tmp_path, MEAN_THEN_MORE, {"r": "sqrt(14) + 1"})
    assert_named(items["r"], "missing-mean", "step 'm'")
