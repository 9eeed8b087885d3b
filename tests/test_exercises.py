"""Each shipped exercise: blank (no answers), valid, and solved to hand-computed values."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import sympy as sp

from backprop_cli.exercise.load import load_exercise
from backprop_cli.grading.solver import Solution

EXERCISES = Path(__file__).resolve().parent.parent / "exercises"
R = sp.Rational

# Worked by hand, not by the engine.
KEYS = {
    "scalar-product": {"f": 6, "dL/dx": 15, "dL/dw": 10},
    "linear-model": {"y_hat": 1, "r": -1, "loss": 1, "dloss/dr": -2, "dr/dy_hat": 1,
                     "dy_hat/dw": 1, "dloss/dy_hat": -2, "dloss/dw": -2},
    "linear-model-2": {"y_hat": 2, "loss": 4, "dloss/dr": -4, "dy_hat/dw": 2, "dloss/dw": -8},
    "linear-model-bias": {"y_hat": 3, "loss": 1, "dloss/dr": 2, "dloss/dw": 2, "dloss/db": 2},
    "sigmoid-chain": {"a1": R(1, 2), "a2": R(1, 2), "C": R(1, 4), "dC/da2": -1, "dC/dz2": R(-1, 4),
                      "dC/dw2": R(-1, 8), "dC/db2": R(-1, 4), "dC/da1": R(-1, 2), "dC/dz1": R(-1, 8),
                      "dC/dw1": R(-1, 8), "dC/db1": R(-1, 8)},
    "fan-out": {"q": -1, "f": -3, "df/dq": 3, "df/dx": 2, "df/dy": 3},
    "train-linear-model": {"loss": 1, "dloss/dw": -2, "w@1": R(6, 5), "loss@1": R(16, 25),
                           "w@2": R(34, 25), "loss@2": R(256, 625)},
    "batch-2-3-1": {"Yhat": [[1, -1, R(-3, 2), -2]], "loss": R(61, 16),
                    "dloss/dW2": [[-4, -1, R(-13, 4)]], "dloss/db2": [[R(-7, 4)]],
                    "dloss/dW1": [[R(3, 2), R(-9, 4)], [R(-3, 2), R(5, 4)], [-2, 1]],
                    "dloss/db1": [[R(1, 4)], [R(-3, 4)], [R(1, 2)]]},
    "batch-mse": {"loss": R(7, 4), "dloss/dw": [[R(7, 2)], [R(1, 2)]], "dloss/db": R(3, 2)},
    "conv-stride2": {"z": [[7, 7], [4, 9]], "dL/dK": [[6, 4, 0], [0, 8, 3], [3, -1, 6]],
                     "dL/dX": [[1, 0, 1, 0, -2], [-1, 1, 1, -1, 0], [5, 0, 1, 0, 3],
                               [-2, 2, -1, 1, 0], [6, 0, 1, 0, -1]]},
}
# Irrational keys, checked against independent NumPy and sympy.diff computations instead.
CHECKED_ELSEWHERE = {"mlp-2-3-3-1", "softmax-classifier",  # tests/test_tensor_exercises.py
                     "train-mlp-2-3-3-1"}  # tests/test_cli.py, train_mlp_reference


def test_every_shipped_exercise_is_pinned():
    assert sorted(p.stem for p in EXERCISES.glob("*.yaml")) == sorted(set(KEYS) | CHECKED_ELSEWHERE)


@pytest.mark.parametrize("name", sorted(KEYS))
def test_solved_key_matches_hand_computation(name):
    exercise = load_exercise(EXERCISES / f"{name}.yaml")
    assert exercise.answers is None, "exercises ship blank"
    solution = Solution(exercise)
    got = {str(ask.key): _plain(solution.expected(ask.key)) for ask in exercise.asks}
    assert got == {k: _plain(v) for k, v in KEYS[name].items()}


def _plain(value):
    """Scalars as SymPy numbers and tensors as nested lists of them, for comparison."""
    if isinstance(value, (list, np.ndarray)):
        return [[sp.Integer(e) if isinstance(e, int) else e for e in row] for row in value]
    return sp.Integer(value) if isinstance(value, int) else value
