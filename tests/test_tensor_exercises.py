"""The tensor exercises, pinned against computations that do not use the package.

Each exercise is solved by the engine (``Solution(ex).expected``) and compared with

- central finite differences of a forward pass re-implemented here in plain NumPy
  float64 (relative tolerance 1e-6), and
- for the small exercises, ``sympy.diff`` of the whole loss written out entry by entry
  over SymPy symbols, compared exactly (rational keys) or to 30 digits.

The exercise files are read for their *numbers* only (with yaml.safe_load); the
forward passes below are written from the prompts, not from the files' steps.
Then: the CLI round trip solve -> check --answers, a single wrong entry, a wrong shape.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np
import pytest
import sympy as sp
import yaml

from cli_runner import invoke
from backprop_cli.exercise.load import load_exercise
from backprop_cli.autodiff.numbers import approx
from backprop_cli.grading.solver import Solution

EXERCISES = Path(__file__).resolve().parent.parent / "exercises"
TENSOR_EXERCISES = ["mlp-2-3-3-1", "conv-stride2", "softmax-classifier", "batch-mse"]
R = sp.Rational
REL = 1e-6


# --------------------------------------------------------------------------- helpers


@functools.lru_cache(maxsize=None)
def solved(name: str) -> dict:
    """The engine's key: asked key -> SymPy scalar or 2-D object array (read-only, cached)."""
    exercise = load_exercise(EXERCISES / f"{name}.yaml")
    assert exercise.answers is None, "exercises ship blank"
    solution = Solution(exercise)
    return {str(ask.key): solution.expected(ask.key) for ask in exercise.asks}


def given(name: str) -> dict:
    """The exercise's given numbers as float64 arrays (a flat list is a column vector)."""
    data = yaml.safe_load((EXERCISES / f"{name}.yaml").read_text(encoding="utf-8"))

    def array(value):
        a = np.array(value, dtype=float)
        return a.reshape(-1, 1) if a.ndim == 1 else a

    return {k: array(v) if isinstance(v, list) else float(v) for k, v in data["given"].items()}


def exact_given(name: str) -> dict:
    """The given numbers as exact SymPy matrices (decimals as written: 0.1 is 1/10)."""
    data = yaml.safe_load((EXERCISES / f"{name}.yaml").read_text(encoding="utf-8"))

    def number(v):
        return sp.Rational(str(v))

    def matrix(v):
        rows = v if isinstance(v[0], list) else [[e] for e in v]
        return sp.Matrix([[number(e) for e in row] for row in rows])

    return {k: matrix(v) if isinstance(v, list) else number(v) for k, v in data["given"].items()}


@functools.lru_cache(maxsize=None)
def numeric(name: str) -> dict:
    """The engine's key in float64 (evaluating the deep sigmoid forms is the slow part: once)."""
    return {k: as_float(v) for k, v in solved(name).items()}


def as_float(value) -> np.ndarray:
    """An engine value (SymPy scalar or object array) as a float64 array."""
    if isinstance(value, np.ndarray) and value.dtype != object:
        return value
    # numbers.approx evaluates the shared subexpressions of deep exact forms once; SymPy's own
    # float() walks them as a tree (minutes for the network's inert forms).  approx itself is
    # checked against SymPy's evalf in tests/test_numbers.py.
    if isinstance(value, np.ndarray):
        return np.array([[float(approx(e, 20)) for e in row] for row in value], dtype=float)
    return np.array([[float(approx(value, 20))]])


def numeric_grad(f, point: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    """Central finite differences of the scalar f at every entry of ``point``."""
    grad = np.zeros_like(point)
    for index in np.ndindex(*point.shape):
        up, down = point.copy(), point.copy()
        up[index] += eps
        down[index] -= eps
        grad[index] = (f(up) - f(down)) / (2 * eps)
    return grad


def assert_close(engine_value, reference: np.ndarray, abs_tol: float = 1e-12):
    got = as_float(engine_value)
    assert got.shape == reference.shape, (got.shape, reference.shape)
    np.testing.assert_allclose(got, reference, rtol=REL, atol=abs_tol)


def assert_exact(engine_value, reference):
    """Entry by entry, exactly (both sides rational)."""
    got = engine_value if isinstance(engine_value, np.ndarray) else np.array([[engine_value]])
    ref = np.array(reference.tolist(), dtype=object) if isinstance(reference, sp.MatrixBase) \
        else np.array([[reference]], dtype=object)
    assert got.shape == ref.shape, (got.shape, ref.shape)
    for index in np.ndindex(*got.shape):
        assert got[index].is_Rational and got[index] == ref[index], (index, got[index], ref[index])


def assert_30_digits(engine_value, reference):
    """Entry by entry, to 30 significant digits (irrational keys)."""
    got = engine_value if isinstance(engine_value, np.ndarray) else np.array([[engine_value]])
    ref = np.array(reference.tolist(), dtype=object) if isinstance(reference, sp.MatrixBase) \
        else np.array([[reference]], dtype=object)
    assert got.shape == ref.shape, (got.shape, ref.shape)
    for index in np.ndindex(*got.shape):
        a, b = approx(got[index], 40), sp.N(ref[index], 40)
        assert abs(a - b) <= 10 ** -30 * max(1, abs(b)), (index, a, b)


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


# --------------------------------------------------------------------------- mlp-2-3-3-1


def test_mlp_against_finite_differences():
    g = given("mlp-2-3-3-1")
    key = numeric("mlp-2-3-3-1")
    x, y = g["x"], g["y"]
    params = {k: g[k] for k in ("W1", "B1", "W2", "B2", "W3", "B3")}

    def from_x2(p, x2):
        x3 = sigmoid(p["W2"] @ x2 + p["B2"])
        x4 = sigmoid(p["W3"] @ x3 + p["B3"])
        return float(((x4 - y) ** 2)[0, 0])

    def loss(p):
        return from_x2(p, sigmoid(p["W1"] @ x + p["B1"]))

    def wrt(name):
        return lambda value: loss({**params, name: value})

    assert_close(key["loss"], np.array([[loss(params)]]))
    for name in ("W3", "B3", "W2", "W1"):
        assert_close(key[f"dloss/d{name}"], numeric_grad(wrt(name), params[name]))
    x2 = sigmoid(params["W1"] @ x + params["B1"])
    assert_close(key["dloss/dx2"], numeric_grad(lambda v: from_x2(params, v), x2))


def test_mlp_matches_the_delta_recursion_of_its_prompt():
    """delta4 = 2 (x4 - y) x4 (1 - x4); delta_l = (W^T delta_{l+1}) * x (1 - x); dW = delta a^T."""
    g = given("mlp-2-3-3-1")
    key = numeric("mlp-2-3-3-1")
    x2 = sigmoid(g["W1"] @ g["x"] + g["B1"])
    x3 = sigmoid(g["W2"] @ x2 + g["B2"])
    x4 = sigmoid(g["W3"] @ x3 + g["B3"])
    delta4 = 2 * (x4 - g["y"]) * x4 * (1 - x4)
    delta3 = (g["W3"].T @ delta4) * x3 * (1 - x3)
    delta2 = (g["W2"].T @ delta3) * x2 * (1 - x2)
    assert_close(key["dloss/dW3"], delta4 @ x3.T)
    assert_close(key["dloss/dB3"], delta4)
    assert_close(key["dloss/dW2"], delta3 @ x2.T)
    assert_close(key["dloss/dx2"], g["W2"].T @ delta3)
    assert_close(key["dloss/dW1"], delta2 @ g["x"].T)


def test_mlp_shapes_and_scalar_loss():
    key = solved("mlp-2-3-3-1")
    shapes = {k: np.shape(v) for k, v in key.items()}
    assert shapes == {"loss": (1, 1), "dloss/dW3": (1, 3), "dloss/dB3": (1, 1),
                      "dloss/dW2": (3, 3), "dloss/dx2": (3, 1), "dloss/dW1": (3, 2)}


# --------------------------------------------------------------------------- conv-stride2

UPSTREAM = np.array([[1, -1], [2, 1]])  # dL/dz, as in the exercise's prompt


def conv_stride2(X, K):
    """Cross-correlation, stride 2, no padding, written out with loops."""
    rows = (X.shape[0] - K.shape[0]) // 2 + 1
    cols = (X.shape[1] - K.shape[1]) // 2 + 1
    out = np.zeros((rows, cols), dtype=X.dtype)
    for i in range(rows):
        for j in range(cols):
            for u in range(K.shape[0]):
                for v in range(K.shape[1]):
                    out[i, j] += X[2 * i + u, 2 * j + v] * K[u, v]
    return out


def test_conv_forward_worked_by_hand():
    key = solved("conv-stride2")
    g = given("conv-stride2")
    # z[1,1] = 1*1 + 1*1 + 2*3 + 1*(-1) = 7 (the other kernel entries meet zeros), ...
    assert key["z"].tolist() == [[7, 7], [4, 9]]
    assert conv_stride2(g["X"], g["K"]).tolist() == [[7, 7], [4, 9]]


def test_conv_against_finite_differences():
    g = given("conv-stride2")
    key = solved("conv-stride2")
    X, K = g["X"], g["K"]

    def L(X, K):  # the outside loss is linear in z near this point: L = sum(dL/dz * z)
        return float(np.sum(UPSTREAM * conv_stride2(X, K)))

    assert_close(key["dL/dK"], numeric_grad(lambda k: L(X, k), K))
    assert_close(key["dL/dX"], numeric_grad(lambda x: L(x, K), X))


def test_conv_against_sympy_diff():
    Xs = sp.Matrix(5, 5, lambda i, j: sp.Symbol(f"X_{i}_{j}"))
    Ks = sp.Matrix(3, 3, lambda u, v: sp.Symbol(f"K_{u}_{v}"))
    z = sp.Matrix(2, 2, lambda i, j: sum(Xs[2 * i + u, 2 * j + v] * Ks[u, v]
                                         for u in range(3) for v in range(3)))
    L = sum(int(UPSTREAM[i, j]) * z[i, j] for i in range(2) for j in range(2))
    e = exact_given("conv-stride2")
    values = {**{Xs[i, j]: e["X"][i, j] for i in range(5) for j in range(5)},
              **{Ks[u, v]: e["K"][u, v] for u in range(3) for v in range(3)}}
    key = solved("conv-stride2")
    assert_exact(key["z"], z.subs(values))
    assert_exact(key["dL/dK"], Ks.applyfunc(lambda k: sp.diff(L, k).subs(values)))
    assert_exact(key["dL/dX"], Xs.applyfunc(lambda x: sp.diff(L, x).subs(values)))


def test_conv_centre_entry_is_a_sum_of_four_terms():
    """X[3,3] (from 1) sits under K's four corners, one per window."""
    key = solved("conv-stride2")
    K = [[1, 0, 2], [-1, 1, 0], [3, 0, -1]]  # copied from the exercise by hand
    g = [[1, -1], [2, 1]]
    terms = [g[0][0] * K[2][2],  # window (1,1): X[3,3] under K[3,3]
             g[0][1] * K[2][0],  # window (1,2): under K[3,1]
             g[1][0] * K[0][2],  # window (2,1): under K[1,3]
             g[1][1] * K[0][0]]  # window (2,2): under K[1,1]
    assert terms == [-1, -3, 4, 1]
    assert all(t != 0 for t in terms)
    assert key["dL/dX"][2, 2] == sum(terms) == 1
    # Row 3 and column 3 are covered by two windows each; the corners by one.
    assert key["dL/dX"][0, 2] == g[0][0] * K[0][2] + g[0][1] * K[0][0] == 1
    assert key["dL/dX"][0, 0] == g[0][0] * K[0][0] == 1


# --------------------------------------------------------------------------- softmax-classifier


def softmax_forward(g, W1=None, W2=None):
    W1 = g["W1"] if W1 is None else W1
    W2 = g["W2"] if W2 is None else W2
    h = np.maximum(0.0, W1 @ g["x"] + g["b1"])
    return W2 @ h + g["b2"]


def cross_entropy(s, y):
    e = np.exp(s - s.max())
    p = e / e.sum()
    return float(-np.sum(y * np.log(p)))


def test_softmax_against_finite_differences():
    g = given("softmax-classifier")
    key = solved("softmax-classifier")
    y = g["y"]
    s = softmax_forward(g)
    assert s.tolist() == [[0.0], [2.0], [-1.0]]
    p = np.exp(s) / np.exp(s).sum()
    assert_close(key["p"], p)
    assert_close(key["loss"], np.array([[cross_entropy(s, y)]]))
    assert_close(key["dloss/ds"], numeric_grad(lambda v: cross_entropy(v, y), s))
    assert_close(key["dloss/dW2"], numeric_grad(lambda w: cross_entropy(softmax_forward(g, W2=w), y),
                                                g["W2"]))
    assert_close(key["dloss/dW1"], numeric_grad(lambda w: cross_entropy(softmax_forward(g, W1=w), y),
                                                g["W1"]))


def test_softmax_against_sympy_diff():
    e = exact_given("softmax-classifier")
    W1 = sp.Matrix(3, 2, lambda i, j: sp.Symbol(f"W1_{i}_{j}"))
    W2 = sp.Matrix(3, 3, lambda i, j: sp.Symbol(f"W2_{i}_{j}"))
    S = sp.Matrix(3, 1, lambda i, j: sp.Symbol(f"s_{i}"))
    relu = lambda t: sp.Max(0, t)  # noqa: E731  (its derivative at the point is 0 or 1)

    def loss_of_s(s):
        total = sum(sp.exp(s[k]) for k in range(3))
        return -sum(e["y"][k] * sp.log(sp.exp(s[k]) / total) for k in range(3))

    h = (W1 * e["x"] + e["b1"]).applyfunc(relu)
    s = W2 * h + e["b2"]
    loss = loss_of_s(s)
    values = {**{W1[i, j]: e["W1"][i, j] for i in range(3) for j in range(2)},
              **{W2[i, j]: e["W2"][i, j] for i in range(3) for j in range(3)}}
    s_value = s.subs(values)
    assert s_value == sp.Matrix([0, 2, -1])
    key = solved("softmax-classifier")
    total = 1 + sp.exp(2) + sp.exp(-1)
    assert_30_digits(key["p"], sp.Matrix([1 / total, sp.exp(2) / total, sp.exp(-1) / total]))
    assert_30_digits(key["loss"], sp.log(total) - 2)
    at_s = {S[k]: s_value[k] for k in range(3)}
    assert_30_digits(key["dloss/ds"], S.applyfunc(lambda v: sp.diff(loss_of_s(S), v).subs(at_s)))
    assert_30_digits(key["dloss/dW2"], W2.applyfunc(lambda w: sp.diff(loss, w).subs(values)))
    assert_30_digits(key["dloss/dW1"], W1.applyfunc(lambda w: sp.diff(loss, w).subs(values)))


def test_softmax_gradient_of_the_scores_is_p_minus_y():
    key = solved("softmax-classifier")
    y = exact_given("softmax-classifier")["y"]
    for k in range(3):
        difference = key["dloss/ds"][k, 0] - (key["p"][k, 0] - y[k])
        assert sp.simplify(difference) == 0, (k, key["dloss/ds"][k, 0], key["p"][k, 0])


def test_softmax_dead_unit_gets_no_gradient():
    key = solved("softmax-classifier")
    assert list(key["dloss/dW1"][2]) == [0, 0]  # relu'(-1) = 0: the third row is zero
    assert [row[2] for row in key["dloss/dW2"]] == [0, 0, 0]  # h[3] = 0: the third column too


# --------------------------------------------------------------------------- batch-mse


def test_batch_mse_worked_by_hand():
    key = solved("batch-mse")
    # y_hat = [1, 4, 1, 4], r = y_hat - y = [-1, 1, 1, 2], loss = (1 + 1 + 1 + 4) / 4
    assert key["loss"] == R(7, 4)
    # dloss/dr = r / 2 = [-1/2, 1/2, 1/2, 1]; dw = X^T (r / 2); db = sum(r / 2)
    assert key["dloss/dw"].tolist() == [[R(7, 2)], [R(1, 2)]]
    assert key["dloss/db"] == R(3, 2)


def test_batch_mse_against_finite_differences():
    g = given("batch-mse")
    key = solved("batch-mse")

    def loss(w, b):
        return float(np.mean((g["X"] @ w + b - g["y"]) ** 2))

    assert_close(key["loss"], np.array([[loss(g["w"], g["b"])]]))
    assert_close(key["dloss/dw"], numeric_grad(lambda w: loss(w, g["b"]), g["w"]))
    db = numeric_grad(lambda b: loss(g["w"], float(b[0, 0])), np.array([[g["b"]]]))
    assert_close(key["dloss/db"], db)


def test_batch_mse_against_sympy_diff():
    e = exact_given("batch-mse")
    w0, w1, b = sp.symbols("w0 w1 b")
    X, y = e["X"], e["y"]
    loss = sum((X[n, 0] * w0 + X[n, 1] * w1 + b - y[n]) ** 2 for n in range(4)) / 4
    at = {w0: e["w"][0], w1: e["w"][1], b: e["b"]}
    key = solved("batch-mse")
    assert key["loss"] == loss.subs(at)
    assert key["dloss/dw"].tolist() == [[sp.diff(loss, w0).subs(at)], [sp.diff(loss, w1).subs(at)]]
    assert key["dloss/db"] == sp.diff(loss, b).subs(at)


# --------------------------------------------------------------------------- CLI round trips


def run(*args, code: int):
    return invoke(*args, code=code)


@pytest.mark.parametrize("name", TENSOR_EXERCISES)
def test_solve_key_passes_check(name, tmp_path):
    path = EXERCISES / f"{name}.yaml"
    key = tmp_path / "key.yaml"
    key.write_text(run("solve", path, code=0).stdout, encoding="utf-8")
    out = run("check", path, "--answers", key, code=0).stdout
    assert "incorrect" not in out


def conv_key(tmp_path: Path, **replace) -> Path:
    """The conv exercise's key from ``solve --format json``, some keys replaced."""
    document = json.loads(run("solve", EXERCISES / "conv-stride2.yaml", "--format", "json",
                              code=0).stdout)
    document.update(replace)
    path = tmp_path / "answers.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


def check_items(answers: Path) -> dict:
    result = run("check", EXERCISES / "conv-stride2.yaml", "--answers", answers, "--format", "json",
                 code=1)
    return {item["key"]: item for item in json.loads(result.stdout)["exercises"][0]["items"]}


def test_one_wrong_entry_is_marked_in_the_entries_grid(tmp_path):
    wrong = [["6", "4", "0"], ["0", "9", "3"], ["3", "-1", "6"]]  # the centre should be 8
    items = check_items(conv_key(tmp_path, **{"dL/dK": wrong}))
    item = items["dL/dK"]
    assert item["status"] == "incorrect"
    assert item["entries"] == [[True, True, True], [True, False, True], [True, True, True]]
    assert item["expected"][1][1] == "8"
    assert items["z"]["status"] == items["dL/dX"]["status"] == "correct"


def test_wrong_shape_names_both_shapes(tmp_path):
    items = check_items(conv_key(tmp_path, **{"dL/dK": [["6", "4"], ["0", "8"]]}))
    item = items["dL/dK"]
    assert item["status"] == "incorrect"
    assert item["entries"] is None
    message = json.dumps(item)
    assert "2x2" in message and "3x3" in message, item
    text = run("check", EXERCISES / "conv-stride2.yaml", "--answers",
               conv_key(tmp_path, **{"dL/dK": [["6", "4"], ["0", "8"]]}), code=1).stdout
    line = next(row for row in text.splitlines() if "shape" in row)
    assert "2x2" in line and "3x3" in line, text
