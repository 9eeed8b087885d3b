"""Broadcasting as NumPy does it: shapes, the forward pass, the backward sum over the
broadcast axes, and the trace that says so; the shipped batch exercise against NumPy."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings, strategies as st

from backprop_cli.autodiff.engine import backward, forward
from backprop_cli.autodiff.graph import StepSource, build_graph
from backprop_cli.autodiff.tensor import (broadcast_shape, elementwise, from_rows, source_index,
                                          unbroadcast)
from backprop_cli.exercise.reading import parse_expression
from backprop_cli.grading import pipeline
from backprop_cli.grading.solver import Solution
from backprop_cli.source.errors import BackpropError, Location, Where
from cli_runner import invoke

ROOT = Path(__file__).resolve().parents[1]
BATCH = ROOT / "exercises" / "batch-2-3-1.yaml"
HERE = Where(Location("test", 1, 1))
SHAPES = [(), (1, 1), (1, 3), (3, 1), (3, 3), (2, 3), (3, 2), (1, 2), (2, 1)]


def tensor(array) -> np.ndarray:
    return from_rows([[sp.Integer(int(v)) for v in row] for row in array])


@pytest.mark.parametrize("a, b", itertools.product(SHAPES, repeat=2))
def test_broadcast_shape_is_numpys(a, b):
    try:
        expected = np.broadcast_shapes(a, b)
    except ValueError:
        expected = None
    assert broadcast_shape([a, b]) == expected


@settings(max_examples=60, deadline=None)
@given(st.sampled_from([s for s in SHAPES if s]), st.sampled_from([s for s in SHAPES if s]),
       st.integers(0, 1000))
def test_elementwise_and_unbroadcast_agree_with_numpy(a, b, seed):
    if broadcast_shape([a, b]) is None:
        return
    rng = np.random.default_rng(seed)
    x, y = rng.integers(-5, 6, a), rng.integers(-5, 6, b)
    out = elementwise(lambda p, q: p * q + p, tensor(x), tensor(y))
    assert (np.array(out, dtype=float) == x * y + x).all()
    # the gradient of sum(x * y + x) with respect to x: y + 1, summed over the broadcast axes
    g = np.ones(np.broadcast_shapes(a, b), dtype=int) * (y + 1)
    expected = g.sum(axis=tuple(i for i in range(2) if a[i] == 1 and g.shape[i] > 1), keepdims=True)
    assert (np.array(unbroadcast(tensor(g), a), dtype=float) == expected).all()


def test_source_index():
    assert source_index((2, 3), (3, 1)) == (2, 0)
    assert source_index((2, 3), (1, 4)) == (0, 3)
    assert source_index((2, 3), ()) == ()
    assert source_index((2, 3), (3, 4)) == (2, 3)


def run(steps: dict[str, str], values: dict):
    sources = [StepSource(n, parse_expression(t), lambda s, e: HERE, HERE) for n, t in steps.items()]
    graph = build_graph([(g, HERE) for g in values], sources)
    forward_values = forward(graph, values)
    return graph, backward(graph, forward_values, graph.by_name[list(steps)[-1]])


def test_a_column_bias_over_a_batch_and_a_row_over_rows():
    X = np.array([[1, 2, 3, 4], [0, -1, 2, 1]])
    b = np.array([[1], [-2]])
    r = np.array([[3, 0, -1, 2]])
    graph, run_ = run({"Z": "X * X + b", "V": "Z * r", "f": "sum(V)"},
                      {"X": tensor(X), "b": tensor(b), "r": tensor(r)})
    # d f / d b = sum over the columns of r (each row of Z gets b); d f / d r = sum over rows of Z
    assert (np.array(run_.grad(graph.by_name["b"]), dtype=float) == r.sum(axis=1, keepdims=True)
            * np.ones((2, 1))).all()
    Z = X * X + b
    assert (np.array(run_.grad(graph.by_name["r"]), dtype=float) == Z.sum(axis=0, keepdims=True)).all()


def test_shapes_that_do_not_broadcast_name_both():
    with pytest.raises(BackpropError) as err:
        run({"z": "x + w"}, {"x": tensor([[1], [2]]), "w": tensor([[1], [2], [3]])})
    assert "2x1 and 3x1" in str(err.value) and "broadcast" in str(err.value)


# ------------------------------------------------------------------ the shipped batch exercise

def numpy_reference():
    """The 2-3-1 network on its batch, forward and backward, with NumPy floats."""
    X = np.array([[1, 0, 2, -1], [1, 2, -1, 1]], dtype=float)
    Y = np.array([[-1, 0, 1, 0]], dtype=float)
    W1 = np.array([[1, -1], [2, 1], [-1, 1]], dtype=float)
    b1 = np.array([[1], [-1], [0.5]])
    W2 = np.array([[-1, 1, -1]], dtype=float)
    b2 = np.array([[0.5]])

    def loss(W1, b1, W2, b2):
        H = np.maximum(W1 @ X + b1, 0)
        return np.mean((W2 @ H + b2 - Y) ** 2)

    Z1 = W1 @ X + b1
    H = np.maximum(Z1, 0)
    dYhat = 2 * (W2 @ H + b2 - Y) / X.shape[1]
    dZ1 = (W2.T @ dYhat) * (Z1 > 0)
    grads = {"dloss/dW2": dYhat @ H.T, "dloss/db2": dYhat.sum(axis=1, keepdims=True),
             "dloss/dW1": dZ1 @ X.T, "dloss/db1": dZ1.sum(axis=1, keepdims=True)}
    return loss, (W1, b1, W2, b2), grads


def test_the_batch_exercise_agrees_with_numpy_and_central_differences():
    loss, params, grads = numpy_reference()
    exercise = pipeline.load(BATCH)
    solution = Solution(exercise)
    solved = {str(ask.key): solution.expected(ask.key) for ask in exercise.asks}
    assert float(solved["loss"]) == pytest.approx(loss(*params))
    for key, reference in grads.items():
        assert np.array(solved[key], dtype=float) == pytest.approx(reference)
    # dloss/db1 by central differences on each entry of b1
    W1, b1, W2, b2 = params
    h = 1e-6
    for i in range(3):
        step = np.zeros_like(b1)
        step[i] = h
        numeric = (loss(W1, b1 + step, W2, b2) - loss(W1, b1 - step, W2, b2)) / (2 * h)
        assert float(solved["dloss/db1"][i, 0]) == pytest.approx(numeric, abs=1e-6)


def test_the_trace_says_the_bias_is_summed_over_the_batch():
    out = invoke("explain", BATCH, "--wrt", "b1").stdout
    assert "∂loss/∂b1 (3x1) = ∂loss/∂Z1 ⊙ ∂Z1/∂b1, summed over the batch: 4 columns" in out
    out = invoke("explain", BATCH, "--wrt", "b2").stdout
    assert "summed over the batch: 4 columns" in out


def test_one_entry_of_a_bias_gradient_adds_up_the_examples():
    out = invoke("explain", BATCH, "--wrt", "b1", "--entry", "2").stdout
    line = next(line for line in out.splitlines() if line.startswith("∂loss/∂b1[2] = "))
    assert [f"∂loss/∂Z1[2,{j}] · ∂Z1[2,{j}]/∂b1[2]" in line for j in (1, 2, 3, 4)] == [True] * 4
