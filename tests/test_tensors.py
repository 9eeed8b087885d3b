"""Tensor ops against independent NumPy references and central differences."""

from __future__ import annotations

import random

import numpy as np
import pytest
import sympy as sp

from backprop_cli.exercise.reading import parse_expression
from backprop_cli.source import expr
from backprop_cli.autodiff.engine import backward, forward
from backprop_cli.explain.entries import entry_trace, parse_entry
from backprop_cli.source.errors import BackpropError, Location, Where
from backprop_cli.autodiff.graph import StepSource, build_graph
from backprop_cli.autodiff.tensor import from_rows, is_tensor
from backprop_cli.explain.trace import number

HERE = Where(Location("test", 1, 1))


def tensor(rows) -> np.ndarray:
    return from_rows([[sp.Rational(v) for v in row] for row in rows])


def run_graph(steps: dict[str, str], given: dict, seed=None):
    sources = [StepSource(n, parse_expression(t), lambda s, e: HERE, HERE) for n, t in steps.items()]
    graph = build_graph([(g, HERE) for g in given], sources)
    values = forward(graph, given)
    target = graph.by_name[list(steps)[-1]]
    out = values[target]
    if seed is None:
        seed = from_rows([[sp.Integer(1)]]) if is_tensor(out) else sp.Integer(1)
    return graph, values, backward(graph, values, target, seed)


def as_float(value) -> np.ndarray:
    return np.array([[float(e) for e in row] for row in value], dtype=float)


def central_difference(f, x: np.ndarray, h=1e-6) -> np.ndarray:
    grad = np.zeros_like(x)
    for index in np.ndindex(*x.shape):
        up, down = x.copy(), x.copy()
        up[index] += h
        down[index] -= h
        grad[index] = (f(up) - f(down)) / (2 * h)
    return grad


def conv_reference(x: np.ndarray, k: np.ndarray, stride: int, padding: int) -> np.ndarray:
    x = np.pad(x, padding)
    rows = (x.shape[0] - k.shape[0]) // stride + 1
    cols = (x.shape[1] - k.shape[1]) // stride + 1
    return np.array([[np.sum(x[i * stride:i * stride + k.shape[0], j * stride:j * stride + k.shape[1]] * k)
                      for j in range(cols)] for i in range(rows)])


def small_ints(rng, rows, cols):
    return [[rng.randint(-3, 3) for _ in range(cols)] for _ in range(rows)]


@pytest.mark.parametrize("size, kernel, stride, padding", [
    (5, 3, 2, 0), (5, 3, 1, 0), (4, 2, 2, 1), (6, 3, 3, 1), (3, 3, 1, 1)])
def test_conv2d_forward_and_gradients(size, kernel, stride, padding):
    rng = random.Random(size * 100 + kernel * 10 + stride + padding)
    x, k = small_ints(rng, size, size), small_ints(rng, kernel, kernel)
    out_ref = conv_reference(np.array(x, float), np.array(k, float), stride, padding)
    weights = small_ints(rng, *out_ref.shape)
    given = {"X": tensor(x), "K": tensor(k), "R": tensor(weights)}
    steps = {"z": f"conv2d(X, K, stride={stride}, padding={padding})", "L": "sum(z * R)"}
    graph, values, run = run_graph(steps, given)
    assert np.array_equal(as_float(values[graph.by_name["z"]]), out_ref)
    r = np.array(weights, float)

    def loss_x(xx):
        return np.sum(conv_reference(xx, np.array(k, float), stride, padding) * r)

    def loss_k(kk):
        return np.sum(conv_reference(np.array(x, float), kk, stride, padding) * r)

    assert np.allclose(as_float(run.grad(graph.by_name["X"])), central_difference(loss_x, np.array(x, float)), atol=1e-6)
    assert np.allclose(as_float(run.grad(graph.by_name["K"])), central_difference(loss_k, np.array(k, float)), atol=1e-6)


def test_conv2d_overlapping_windows_add_up():
    # 3x3 kernel, stride 2 over 5x5: the centre input is in all four windows.
    x = [[0] * 5 for _ in range(5)]
    k = [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
    g = [[1, 10], [100, 1000]]
    graph, values, run = run_graph({"z": "conv2d(X, K, stride=2)"},
                                   {"X": tensor(x), "K": tensor(k)}, seed=tensor(g))
    dx = run.grad(graph.by_name["X"])
    # window (i, j) covers X[2i:2i+3, 2j:2j+3]; X[2,2] is K[2,2], K[2,0], K[0,2], K[0,0] of them
    assert dx[2, 2] == 1 * 9 + 10 * 7 + 100 * 3 + 1000 * 1
    assert dx[0, 0] == 1 * 1


def test_softmax_cross_entropy_gradient_is_p_minus_y():
    given = {"s": tensor([[1], [2], [-1]]), "y": tensor([[0], [1], [0]])}
    graph, values, run = run_graph({"p": "softmax(s)", "L": "-sum(y * log(p))"}, given)
    p = values[graph.by_name["p"]]
    ds = run.grad(graph.by_name["s"])
    for i in range(3):
        assert sp.simplify(ds[i, 0] - (p[i, 0] - given["y"][i, 0])) == 0


def test_softmax_vjp_against_central_differences():
    s0 = np.array([[0.5], [-1.0], [2.0], [0.25]])
    r = np.array([[1.0], [-2.0], [0.5], [3.0]])
    given = {"s": tensor([["1/2"], [-1], [2], ["1/4"]]), "R": tensor([[1], [-2], ["1/2"], [3]])}
    graph, values, run = run_graph({"p": "softmax(s)", "L": "sum(p * R)"}, given)

    def loss(s):
        e = np.exp(s - s.max())
        return float(np.sum(e / e.sum() * r))

    got = np.array([[float(sp.N(e, 20))] for e in run.grad(graph.by_name["s"]).flat])
    assert np.allclose(got, central_difference(loss, s0), atol=1e-8)


def test_mlp_layer_against_central_differences():
    rng = random.Random(7)
    w, x, b, w2 = small_ints(rng, 3, 2), small_ints(rng, 2, 1), small_ints(rng, 3, 1), small_ints(rng, 1, 3)
    given = {"W": tensor(w), "x": tensor(x), "b": tensor(b), "V": tensor(w2)}
    steps = {"z": "W @ x + b", "a": "tanh(z)", "o": "V @ a", "L": "mean((o - 1)**2) + sum(W.T @ W)"}
    graph, values, run = run_graph(steps, given)
    floats = {k: np.array(v, float) for k, v in {"W": w, "x": x, "b": b, "V": w2}.items()}

    def loss(name):
        def f(value):
            env = {**floats, name: value}
            o = env["V"] @ np.tanh(env["W"] @ env["x"] + env["b"])
            return float(np.mean((o - 1) ** 2) + np.sum(env["W"].T @ env["W"]))
        return f

    for name in floats:
        got = np.array([[float(sp.N(e, 20)) for e in row] for row in run.grad(graph.by_name[name])])
        assert np.allclose(got, central_difference(loss(name), floats[name]), rtol=1e-6, atol=1e-7), name


def test_scalar_broadcast_collects_every_entry():
    given = {"x": tensor([[1], [2], [3]]), "b": sp.Integer(5)}
    graph, values, run = run_graph({"z": "x + b", "L": "sum(z * z)"}, given)
    assert run.grad(graph.by_name["b"]) == 2 * (6 + 7 + 8)


@pytest.mark.parametrize("steps, given, words", [
    ({"z": "W @ x"}, {"W": [[1, 2]], "x": [[1], [2], [3]]}, ["1x2", "3x1", "inner sizes"]),
    ({"z": "x + y"}, {"x": [[1], [2]], "y": [[1], [2], [3]]}, ["2x1", "3x1"]),
    ({"z": "softmax(W)"}, {"W": [[1, 2], [3, 4]]}, ["softmax needs a vector", "2x2"]),
    ({"z": "conv2d(X, K)"}, {"X": [[1, 2], [3, 4]], "K": [[1, 2, 3]] * 3}, ["does not fit"]),
    ({"z": "sum(x)"}, {"x": 3}, ["needs a tensor"]),
])
def test_shape_errors_name_the_shapes(steps, given, words):
    values = {k: tensor(v) if isinstance(v, list) else sp.Integer(v) for k, v in given.items()}
    with pytest.raises(BackpropError) as err:
        run_graph(steps, values)
    message = str(err.value)
    assert all(w in message for w in words), message
    assert "in step 'z'" in message


def test_entry_trace_sums_to_the_gradient_entry():
    given = {"W": tensor([[1, 2], [3, -1], [0, 1]]), "x": tensor([[2], [1]]), "V": tensor([[1, -1, 2]])}
    steps = {"z": "W @ x", "a": "sigmoid(z)", "o": "V @ a", "L": "sum(o**2)"}
    graph, values, run = run_graph(steps, given)
    W = graph.by_name["W"]
    index = parse_entry("2,1", values[W], "W")
    trace = entry_trace(run, W, index)
    last = trace.backward[-1]
    assert last.name == "W[2,1]"
    assert last.value == last.stages[-1] == number(run.grad(W)[1, 0])
    # the chain for W[2,1] goes through z[2] and a[2] only
    names = [e.name for e in trace.backward]
    assert "z[2]" in names and "a[2]" in names and "z[1]" not in names


@pytest.mark.parametrize("text, message", [("0,1", "counted from 1"), ("4,1", "3x2"), ("a", "ROW,COLUMN")])
def test_entry_errors(text, message):
    with pytest.raises(BackpropError, match=message):
        parse_entry(text, tensor([[1, 2], [3, 4], [5, 6]]), "W")
