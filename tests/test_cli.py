"""The ``backprop`` command line, end to end, against SPEC.md (commands, exit codes, JSON).

Almost everything goes through click's CliRunner (in-process, fast); a subprocess is
used only where the process itself is the point: import time, ``python -m``, and
whether piped output carries ANSI escape codes.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from backprop_cli import __version__
from cli_runner import invoke

ROOT = Path(__file__).resolve().parents[1]
EXERCISES = sorted((ROOT / "exercises").glob("*.yaml"))
FILLED = ROOT / "tests" / "data" / "filled"
BROKEN = ROOT / "tests" / "data" / "broken"
LINEAR = ROOT / "exercises" / "linear-model.yaml"
SIGMOID = ROOT / "exercises" / "sigmoid-chain.yaml"
ANSI = "\x1b["

def params():
    """Every shipped exercise."""
    return [pytest.param(p, id=p.stem) for p in EXERCISES]


_SOLVED: dict = {}  # solve output per (file, options): the mlp exercise takes seconds to solve


def run(*args, code: int | None = 0, **env):
    """``backprop ARGS`` in-process, expecting exit ``code`` (0 unless said; None: any)."""
    return invoke(*args, code=code, **env)


def text_of(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    return text if text.endswith("\n") else text + "\n"


def exercise_data(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def solve_yaml(path: Path) -> str:
    """``backprop solve PATH`` (an answers file), cached."""
    key = (str(path), "yaml")
    if key not in _SOLVED:
        _SOLVED[key] = run("solve", path).stdout
    return _SOLVED[key]


def solved(path: Path) -> list[tuple[str, str]]:
    """``backprop solve PATH`` as (key, value text) pairs, without the ``exercise:`` line."""
    pairs = []
    for line in solve_yaml(path).splitlines():
        key, sep, value = line.partition(": ")
        assert sep, f"not a 'key: value' line in solve output: {line!r}"
        if key != "exercise":
            pairs.append((key, value))
    return pairs


def with_answers(path: Path, pairs, extra: str = "") -> str:
    """The exercise text with ``extra`` top-level lines and an ``answers:`` mapping appended."""
    lines = [f"  {key}: {value}" for key, value in pairs]
    return text_of(path) + extra + "answers:\n" + "\n".join(lines) + "\n"


def write(tmp_path: Path, name: str, text: str) -> Path:
    target = tmp_path / name
    target.write_text(text, encoding="utf-8")
    return target


def check_json(*args, code: int) -> dict:
    return json.loads(run("check", *args, "--format", "json", code=code).stdout)


def items_by_key(document: dict, index: int = 0) -> dict:
    return {item["key"]: item for item in document["exercises"][index]["items"]}


def item_row(out: str, key: str) -> str:
    """The line of check's text output that gives KEY's status."""
    pattern = re.compile(r"^\s+\S+\s+(correct|incorrect|missing|invalid)\s+" + re.escape(key) + r"(\s|$)")
    rows = [line for line in out.splitlines() if pattern.match(line)]
    assert len(rows) == 1, f"no single status row for {key} in:\n{out}"
    return rows[0]


def is_grad(key: str) -> bool:
    return "/" in key


# --- version and help ----------------------------------------------------------------


def test_version():
    result = run("--version")
    assert __version__ in result.stdout
    assert "backprop" in result.stdout


def test_help():
    out = run("--help").stdout
    assert out.startswith("Usage: backprop")
    for command in ("check", "explain", "solve", "validate"):
        assert command in out


@pytest.mark.parametrize("command,usage", [
    ("check", "Usage: backprop check [OPTIONS] FILES..."),
    ("explain", "Usage: backprop explain [OPTIONS] [FILE]"),
    ("solve", "Usage: backprop solve [OPTIONS] FILE"),
    ("validate", "Usage: backprop validate [OPTIONS] FILES..."),
])
def test_command_help(command, usage):
    out = run(command, "--help").stdout
    assert out.startswith(usage), out
    assert "--help" in out


def test_help_does_not_import_sympy():
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "backprop_cli", "--help"],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "Usage:" in proc.stdout
    assert "backprop_cli" in proc.stderr  # the import-time report is really there
    sympy_lines = [line for line in proc.stderr.splitlines() if "sympy" in line]
    assert not sympy_lines, "\n".join(sympy_lines[:10])


def test_python_dash_m_version():
    proc = subprocess.run([sys.executable, "-m", "backprop_cli", "--version"],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert __version__ in proc.stdout
    assert "Traceback" not in proc.stderr


# --- solve: the key that check tests take their answers from ----------------------------


SOLUTIONS = {  # worked by hand from each exercise's prompt
    "fan-out": {"q": "-1", "f": "-3", "df/dq": "3", "df/dx": "2", "df/dy": "3"},
    # w <- w - 0.1 * 2 (w - 2): 1 -> 6/5 -> 34/25, losses (w - 2)^2
    "train-linear-model": {"loss": "1", "dloss/dw": "-2", "w@1": "6/5", "loss@1": "16/25",
                           "w@2": "34/25", "loss@2": "256/625"},
    "linear-model": {"y_hat": "1", "r": "-1", "loss": "1", "dloss/dr": "-2", "dr/dy_hat": "1",
                     "dy_hat/dw": "1", "dloss/dy_hat": "-2", "dloss/dw": "-2"},
    "linear-model-2": {"y_hat": "2", "loss": "4", "dloss/dr": "-4", "dy_hat/dw": "2",
                       "dloss/dw": "-8"},
    "linear-model-bias": {"y_hat": "3", "loss": "1", "dloss/dr": "2", "dloss/dw": "2",
                          "dloss/db": "2"},
    "scalar-product": {"f": "6", "dL/dx": "15", "dL/dw": "10"},
    "sigmoid-chain": {"a1": "1/2", "a2": "1/2", "C": "1/4", "dC/da2": "-1", "dC/dz2": "-1/4",
                      "dC/dw2": "-1/8", "dC/db2": "-1/4", "dC/da1": "-1/2", "dC/dz1": "-1/8",
                      "dC/dw1": "-1/8", "dC/db1": "-1/8"},
    # y_hat = X w + b = [1, 4, 1, 4], r = [-1, 1, 1, 2], dloss/dr = r/2, dloss/dw = X^T r/2
    "batch-mse": {"loss": "7/4", "dloss/dw": [["7/2"], ["1/2"]], "dloss/db": "3/2"},
    # Z1 = W1 X + b1, H = relu(Z1), Yhat = W2 H + b2 = [1, -1, -3/2, -2]; Yhat - Y = [2, -1, -5/2, -2];
    # dloss/dYhat = (Yhat - Y)/2; dloss/db1 sums dloss/dZ1 over the batch's four columns
    "batch-2-3-1": {"Yhat": [["1", "-1", "-3/2", "-2"]], "loss": "61/16",
                    "dloss/dW2": [["-4", "-1", "-13/4"]], "dloss/db2": [["-7/4"]],
                    "dloss/dW1": [["3/2", "-9/4"], ["-3/2", "5/4"], ["-2", "1"]],
                    "dloss/db1": [["1/4"], ["-3/4"], ["1/2"]]},
}


def tensor(value) -> np.ndarray:
    """A given as NumPy: a flat list is a column vector."""
    array = np.array(value, dtype=float)
    return array.reshape(-1, 1) if array.ndim == 1 else array


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def mlp_reference(data: dict) -> dict:
    """The 2-3-3-1 network, by the delta recursion of its prompt."""
    g = {k: tensor(v) for k, v in data["given"].items()}
    x, y = g["x"], float(data["given"]["y"])
    x2 = sigmoid(g["W1"] @ x + g["B1"])
    x3 = sigmoid(g["W2"] @ x2 + g["B2"])
    x4 = sigmoid(g["W3"] @ x3 + g["B3"])
    delta4 = 2 * (x4 - y) * x4 * (1 - x4)
    delta3 = (g["W3"].T @ delta4) * x3 * (1 - x3)
    dx2 = g["W2"].T @ delta3
    delta2 = dx2 * x2 * (1 - x2)
    return {"loss": (x4 - y) ** 2, "dloss/dW3": delta4 @ x3.T, "dloss/dB3": delta4,
            "dloss/dW2": delta3 @ x2.T, "dloss/dx2": dx2, "dloss/dW1": delta2 @ x.T}


def conv_reference(data: dict) -> dict:
    """Cross-correlation with stride 2, and its two vector-Jacobian products, by loops."""
    X, K, G = tensor(data["given"]["X"]), tensor(data["given"]["K"]), tensor(data["upstream"]["L"])
    k, stride = K.shape[0], 2
    n = (X.shape[0] - k) // stride + 1
    z, dK, dX = np.zeros((n, n)), np.zeros_like(K), np.zeros_like(X)
    for i in range(n):
        for j in range(n):
            window = X[i * stride:i * stride + k, j * stride:j * stride + k]
            z[i, j] = (window * K).sum()
            dK += G[i, j] * window
            dX[i * stride:i * stride + k, j * stride:j * stride + k] += G[i, j] * K
    return {"z": z, "dL/dK": dK, "dL/dX": dX}


def softmax_reference(data: dict) -> dict:
    g = {k: tensor(v) for k, v in data["given"].items()}
    a1 = g["W1"] @ g["x"] + g["b1"]
    h = np.maximum(a1, 0)
    s = g["W2"] @ h + g["b2"]
    p = np.exp(s) / np.exp(s).sum()
    ds = p - g["y"]
    dh = g["W2"].T @ ds
    return {"p": p, "loss": np.array(-(g["y"] * np.log(p)).sum()), "dloss/ds": ds,
            "dloss/dW2": ds @ h.T, "dloss/dW1": (dh * (a1 > 0)) @ g["x"].T}


def train_mlp_reference(data: dict) -> dict:
    """One step of gradient descent on the 2-3-3-1 network, by the delta recursion."""
    g = {k: tensor(v) for k, v in data["given"].items()}
    y, rate = float(data["given"]["y"]), float(data["train"]["rate"])

    def forward(p):
        x2 = sigmoid(p["W1"] @ p["x"] + p["B1"])
        x3 = sigmoid(p["W2"] @ x2 + p["B2"])
        return x2, x3, sigmoid(p["W3"] @ x3 + p["B3"])

    x2, x3, x4 = forward(g)
    d4 = 2 * (x4 - y) * x4 * (1 - x4)
    d3 = (g["W3"].T @ d4) * x3 * (1 - x3)
    d2 = (g["W2"].T @ d3) * x2 * (1 - x2)
    grads = {"W3": d4 @ x3.T, "B3": d4, "W2": d3 @ x2.T, "B2": d3, "W1": d2 @ g["x"].T, "B1": d2}
    after = {**g, **{k: g[k] - rate * grads[k] for k in grads}}
    return {"loss": (x4 - y) ** 2, "dloss/dW3": grads["W3"], "W3@1": after["W3"], "B3@1": after["B3"], "W1@1": after["W1"],
            "loss@1": (forward(after)[2] - y) ** 2}


# exercises whose key is irrational or large: pinned against an independent NumPy computation
NUMERIC = {"mlp-2-3-3-1": mlp_reference, "conv-stride2": conv_reference,
           "softmax-classifier": softmax_reference, "train-mlp-2-3-3-1": train_mlp_reference}


def as_float(value):
    """A solve value (exact expression text, or nested lists of them) as floats, read back
    with the tool's own parser (no string goes to sympify, here either)."""
    from backprop_cli.autodiff.engine import evaluate
    from backprop_cli.source.errors import Location, Where
    from backprop_cli.exercise.reading import parse_expression as parse

    if isinstance(value, list):
        return [as_float(v) for v in value]
    return float(evaluate(parse(str(value)), {}, Where(Location("test", 1, 1))))


def solve_json(path: Path, *options) -> dict:
    """``backprop solve --format json``, cached."""
    key = (str(path), options)
    if key not in _SOLVED:
        _SOLVED[key] = json.loads(run("solve", path, *options, "--format", "json").stdout)
    return _SOLVED[key]


def test_every_shipped_exercise_has_a_pinned_solution():
    assert sorted(p.stem for p in EXERCISES) == sorted([*SOLUTIONS, *NUMERIC])


@pytest.mark.parametrize("path", EXERCISES, ids=lambda p: p.stem)
def test_solve_json_pins_the_values(path):
    document = solve_json(path)
    data = exercise_data(path)
    assert list(document) == data["ask"]  # the asked keys, in order
    assert all(is_value(v) for v in document.values()), document
    if path.stem in NUMERIC:
        reference = NUMERIC[path.stem](data)
        assert list(reference) == list(document)
        for key, expected in reference.items():
            got = np.array(as_float(document[key]))
            assert got.shape == expected.shape, (key, got.shape, expected.shape)
            np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15, err_msg=key)
    else:
        assert document == SOLUTIONS[path.stem]


def strings(value):
    return [strings(v) for v in value] if isinstance(value, list) else str(value)


@pytest.mark.parametrize("path", EXERCISES, ids=lambda p: p.stem)
def test_solve_yaml_is_an_answers_file(path):
    loaded = yaml.safe_load(solve_yaml(path))
    assert isinstance(loaded, dict)
    assert loaded.pop("exercise") == path.stem
    assert {k: strings(v) for k, v in loaded.items()} == solve_json(path)


@pytest.mark.parametrize("path", params())
def test_solve_round_trips_through_check_answers(path, tmp_path):
    key = write(tmp_path, "key.yaml", solve_yaml(path))
    result = run("check", path, "--answers", key, code=0)
    assert "incorrect" not in result.stdout


@pytest.mark.parametrize("path", EXERCISES, ids=lambda p: p.stem)
def test_solve_all_has_every_step_and_every_gradient_of_the_loss(path):
    data = exercise_data(path)
    document = solve_json(path, "--all")
    loss = next(iter(data["upstream"])) if "upstream" in data else list(data["steps"])[-1]
    for step in data["steps"]:
        assert step in document, (step, document)
    for given in data["given"]:
        assert f"d{loss}/d{given}" in document, (given, document)
    for key, value in solve_json(path).items():  # where they overlap, the same values
        if key in document:
            assert document[key] == value


def test_solve_all_yaml():
    loaded = yaml.safe_load(run("solve", SIGMOID, "--all").stdout)
    assert {"z1", "a1", "z2", "a2", "C"} <= set(loaded)
    assert {"dC/dx", "dC/dw1", "dC/db1", "dC/dw2", "dC/db2", "dC/dy"} <= set(loaded)
    assert str(loaded["dC/dw1"]) == "-1/8"
    assert str(loaded["a2"]) == "1/2"


def test_solve_missing_file():
    result = run("solve", "no-such-exercise.yaml", code=2)
    assert "no-such-exercise.yaml" in result.output


# --- check: each shipped exercise, right, wrong, and hidden --------------------------------


@pytest.mark.parametrize("path", EXERCISES, ids=lambda p: p.stem)
def test_check_solved_copy_is_all_correct(path, tmp_path):
    filled = write(tmp_path, path.name, with_answers(path, solved(path)))
    out = run("check", filled, code=0).stdout
    n = len(solved(path))
    assert f"Score: {n}/{n}" in out
    assert "incorrect" not in out and "missing" not in out


WRONG = "12345"


def read_float(text: str) -> float:
    """A printed value (1/2, -0.0009057653, exp(-1)/(1 + exp(-1))) as a float, read by the
    exercise language's own parser."""
    from backprop_cli.autodiff.numbers import approx
    from backprop_cli.exercise.reading import number_from_text
    from backprop_cli.source.errors import Location, Where

    here = Where(Location("test", 1, 1))
    return float(approx(number_from_text(text, "a value", lambda start, end: here).value, 20))


def wrong_copy(path: Path, tmp_path: Path, extra: str = ""):
    """A filled copy with the last asked gradient answered wrong (for a tensor: its last
    entry); returns (file, key, expected), expected being the wrong entry's right value."""
    pairs = solved(path)
    index = max(i for i, (k, _) in enumerate(pairs) if is_grad(k))
    key, value = pairs[index]
    expected = solve_json(path)[key]
    if isinstance(expected, list):
        answer = json.loads(value)
        answer[-1][-1] = WRONG
        pairs[index] = (key, json.dumps(answer))
        expected = expected[-1][-1]
    else:
        pairs[index] = (key, WRONG)
    filled = write(tmp_path, path.name, with_answers(path, pairs, extra))
    return filled, key, expected


@pytest.mark.parametrize("path", params())
def test_check_one_wrong_gradient(path, tmp_path):
    filled, key, expected = wrong_copy(path, tmp_path)
    tensor = isinstance(solve_json(path)[key], list)
    out = run("check", filled, code=1).stdout
    row = item_row(out, key)
    assert key in row and (WRONG in row or tensor), row  # a tensor's answer is in its grid
    if tensor:  # the wrong entry, with its right value (to 7 digits, for reading)
        shown = re.search(rf"✗ {WRONG} → (\S+)", out)
        assert shown, out
        assert read_float(shown[1]) == pytest.approx(read_float(expected), rel=1e-6), out
    else:
        assert f"expected {expected}" in row, row
    assert f"How to get {key}" in out
    assert any(line.startswith("∂") for line in out.splitlines())
    of, wrt = key[1:].split("/d")
    # The way reaches the asked gradient (for a tensor, its first wrong entry) ...
    block = gradient_block(out, f"∂{of}/∂{wrt}" + (r"\[[\d,]+\]" if tensor else ""), raw=tensor)
    if not tensor:  # ... and ends at its value
        last = block[-1].strip()
        assert last.endswith(f"= {expected}") or f"= {expected} ≈" in last, out
    n = len(solve_json(path))
    assert f"Score: {n - 1}/{n}" in out


@pytest.mark.parametrize("path", params())
def test_check_hide_expected(path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the word "expected" is in the temporary directory's name
    filled, key, expected = wrong_copy(path, tmp_path, extra="hide_expected: true\n")
    filled = Path(filled.name)
    result = run("check", filled, code=1)
    out = result.output
    assert "incorrect" in out and WRONG in out
    assert "expected" not in out and "→" not in out
    if len(expected) > 6:  # long decimals cannot be in the output by chance
        assert expected not in out
    assert "How to get" not in out and "Backward pass" not in out
    assert not any(line.startswith("∂") for line in out.splitlines())
    document = check_json(filled, code=1)
    for item in document["exercises"][0]["items"]:
        assert item["expected"] is None, item
    assert items_by_key(document)[key]["status"] == "incorrect"


def test_check_hide_expected_never_prints_the_value(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no digits from a temporary directory in the output
    Path("hidden.yaml").write_text(
        "backprop: 1\ntitle: Hidden\ngiven:\n  x: 7\n  w: 3\nsteps:\n  f: x * w\n  loss: f**2\n"
        "ask:\n  - dloss/dw\nhide_expected: true\nanswers:\n  dloss/dw: 5\n", encoding="utf-8")
    # dloss/dw = 2 * f * x = 2 * 21 * 7 = 294
    assert json.loads(run("solve", "hidden.yaml", "--format", "json").stdout) == {"dloss/dw": "294"}
    for fmt in ("text", "json"):
        result = run("check", "hidden.yaml", "--format", fmt, code=1)
        assert "294" not in result.output and "441" not in result.output, result.output
        assert "21" not in result.output
    item = items_by_key(check_json("hidden.yaml", code=1))["dloss/dw"]
    assert item["status"] == "incorrect" and item["expected"] is None and item["answer"] == "5"


def test_check_hide_expected_feedback_does_not_reveal_values(tmp_path, monkeypatch):
    """Diagnosis feedback must not print an expected value the exercise hides, e.g. a
    carried-forward note "your earlier answer y_hat = 5 ... (it should be 37)"."""
    monkeypatch.chdir(tmp_path)
    Path("hidden.yaml").write_text(
        "backprop: 1\ntitle: Hidden\ngiven:\n  x: 37\n  w: 1\n  y: 0\nsteps:\n  y_hat: x * w\n"
        "  r: y_hat - y\nask:\n  - y_hat\n  - r\nhide_expected: true\n"
        "answers:\n  y_hat: 5\n  r: 5\n", encoding="utf-8")
    for fmt in ("text", "json"):
        out = run("check", "hidden.yaml", "--format", fmt, code=1).output
        assert "37" not in out, out
    for item in check_json("hidden.yaml", code=1)["exercises"][0]["items"]:
        assert item["status"] == "incorrect" and item["expected"] is None


# --- check: statuses -----------------------------------------------------------------------


def linear_with(tmp_path: Path, answers: dict[str, str], name: str = "ex.yaml") -> Path:
    return write(tmp_path, name, with_answers(LINEAR, list(answers.items())))


def test_check_missing_answer(tmp_path):
    answers = dict(SOLUTIONS["linear-model"])
    del answers["dloss/dw"]
    filled = linear_with(tmp_path, answers)
    out = run("check", filled, code=1).stdout
    row = item_row(out, "dloss/dw")
    assert "missing" in row and "no answer" in row
    item = items_by_key(check_json(filled, code=1))["dloss/dw"]
    assert item["status"] == "missing" and item["answer"] is None
    assert item["points"] == 0 and item["max_points"] == 1
    assert item["expected"] == "-2"


def test_check_invalid_answer_message_names_no_phantom_step(tmp_path):
    """An answer is not a step: 'log(0)' must not be reported as being 'in step '=''."""
    answers = dict(SOLUTIONS["linear-model"], **{"dloss/dw": "log(0)"})
    item = items_by_key(check_json(linear_with(tmp_path, answers), code=1))["dloss/dw"]
    assert item["status"] == "invalid"
    assert "step '='" not in item["message"], item["message"]


def test_check_answers_file_duplicate_key(tmp_path):
    key = write(tmp_path, "key.yaml", "y_hat: 1\ny_hat: 2\n")
    result = run("check", LINEAR, "--answers", key, code=2)
    assert f"{key}:2:1: " in result.stderr and "duplicate key 'y_hat'" in result.stderr


def test_check_answers_of_the_wrong_type(tmp_path):
    answers = dict(SOLUTIONS["linear-model"], **{"y_hat": "true", "loss": "{a: 1}"})
    items = items_by_key(check_json(linear_with(tmp_path, answers), code=1))
    for key in ("y_hat", "loss"):
        assert items[key]["status"] == "invalid", items[key]
        assert items[key]["message"].startswith(str(tmp_path / "ex.yaml") + ":"), items[key]


def test_check_tensor_answer_of_the_wrong_shape(tmp_path):
    answers = dict(SOLUTIONS["linear-model"], **{"y_hat": "[1, 2]"})
    filled = linear_with(tmp_path, answers)
    item = items_by_key(check_json(filled, code=1))["y_hat"]
    assert item["status"] in ("incorrect", "invalid") and item["points"] == 0
    assert item["answer"] == [["1"], ["2"]]
    verdict = f"{item['message']} {item['feedback']}"
    assert "2x1" in verdict and "scalar" in verdict, item  # names both shapes
    out = run("check", filled, code=1).stdout
    assert "2x1" in out


def test_check_one_by_one_answer_for_a_scalar_shows_the_expected_value(tmp_path):
    """A 1x1 answer is graded like a number (r: [-1] is right); when it is wrong, the entry
    grid must show the expected value, not its first character ("15"[0][0] == "1")."""
    right = items_by_key(check_json(linear_with(tmp_path, dict(SOLUTIONS["linear-model"], r="[-1]")),
                                    code=0))["r"]
    assert right["status"] == "correct"
    scalar = ROOT / "exercises" / "scalar-product.yaml"
    answers = dict(SOLUTIONS["scalar-product"], **{"dL/dx": "[14]"})
    filled = write(tmp_path, "wrong.yaml", with_answers(scalar, list(answers.items())))
    item = items_by_key(check_json(filled, code=1))["dL/dx"]
    assert item["status"] == "incorrect" and item["expected"] == "15"
    out = run("check", filled, code=1).stdout
    assert re.search(r"(expected 15\b|14 → 15\b)", out), out
    assert not re.search(r"14 → 1\b", out), out


def test_check_empty_answer_is_missing(tmp_path):
    answers = dict(SOLUTIONS["linear-model"], **{"dloss/dw": ""})
    item = items_by_key(check_json(linear_with(tmp_path, answers), code=1))["dloss/dw"]
    assert item["status"] == "missing"


@pytest.mark.parametrize("answer,col_offset,fragment", [
    ("2x", 1, "2*x"),  # the operator is missing before the x
    ("log(0)", 0, "log"),
    ("1/0", 0, "zero"),
    ("(1", 0, "("),
])
def test_check_invalid_answer(tmp_path, answer, col_offset, fragment):
    answers = dict(SOLUTIONS["linear-model"], **{"dloss/dw": answer})
    filled = linear_with(tmp_path, answers)
    text = filled.read_text(encoding="utf-8").splitlines()
    line = next(i for i, t in enumerate(text, 1) if t.startswith("  dloss/dw: "))
    col = len("  dloss/dw: ") + 1 + col_offset
    where = f"{filled}:{line}:{col}"
    out = run("check", filled, code=1).stdout
    row = item_row(out, "dloss/dw")
    assert "invalid" in row
    assert where in out, out
    item = items_by_key(check_json(filled, code=1))["dloss/dw"]
    assert item["status"] == "invalid" and item["points"] == 0
    assert item["answer"] == answer
    assert item["message"].startswith(where), item["message"]
    assert fragment in item["message"]


@pytest.mark.parametrize("answer,status", [
    ("-2.0001", "correct"),  # |error| 1e-4 <= 1e-9 + 1e-3 * 2
    ("-1.999", "correct"),
    ("-2.01", "incorrect"),  # 1e-2 > 2e-3
    ("-2.", "correct"),
    ("-2e0", "correct"),
    ("2", "incorrect"),
    ("-2", "correct"),
])
def test_check_decimal_tolerance(tmp_path, answer, status):
    answers = dict(SOLUTIONS["linear-model"], **{"dloss/dw": answer})
    filled = linear_with(tmp_path, answers)
    item = items_by_key(check_json(filled, code=0 if status == "correct" else 1))["dloss/dw"]
    assert item["status"] == status, item


def test_check_custom_tolerance(tmp_path):
    answers = dict(SOLUTIONS["linear-model"], **{"dloss/dw": "-2.01"})
    filled = write(tmp_path, "ex.yaml", with_answers(LINEAR, list(answers.items()),
                                                     extra="tolerance:\n  rel: 0.01\n"))
    assert items_by_key(check_json(filled, code=0))["dloss/dw"]["status"] == "correct"


@pytest.mark.parametrize("answer,status", [
    ('"-1/8"', "correct"),
    ("-0.125", "correct"),
    ('"-2/16"', "correct"),
    ('"-1/9"', "incorrect"),
    ("-0.13", "incorrect"),
])
def test_check_fraction_answers(tmp_path, answer, status):
    pairs = [(k, json.dumps(v)) for k, v in SOLUTIONS["sigmoid-chain"].items()]
    pairs = [(k, answer if k == "dC/dw1" else v) for k, v in pairs]
    filled = write(tmp_path, "sig.yaml", with_answers(SIGMOID, pairs))
    document = check_json(filled, code=0 if status == "correct" else 1)
    assert items_by_key(document)["dC/dw1"]["status"] == status
    assert items_by_key(document)["dC/dw1"]["expected"] == "-1/8"


def test_check_not_asked(tmp_path):
    answers = dict(SOLUTIONS["linear-model"], **{"dloss/dx": "-2", "dloss/dy": "2"})
    filled = linear_with(tmp_path, answers)
    out = run("check", filled, code=0).stdout
    line = next(line for line in out.splitlines() if "Not asked" in line)
    assert "dloss/dx" in line and "dloss/dy" in line
    exercise = check_json(filled, code=0)["exercises"][0]
    assert sorted(exercise["not_asked"]) == ["dloss/dx", "dloss/dy"]
    assert "dloss/dx" not in {i["key"] for i in exercise["items"]}
    assert exercise["score"] == exercise["max_score"] == 8


# --- check --format json: the SPEC shape ------------------------------------------------------

TOP_KEYS = {"version", "score", "max_score", "exercises"}
EXERCISE_KEYS = {"file", "id", "title", "error", "score", "max_score", "items"}
ITEM_KEYS = {"key", "status", "answer", "expected", "points", "max_points", "diagnosis", "feedback"}
EXTENSIONS = {"exercise": {"not_asked", "first_wrong", "notes"},  # additions SPEC allows
              "item": {"message", "entries", "line", "column", "note", "hint"}}


def is_value(value) -> bool:
    """A string, or nested lists of strings (a tensor)."""
    return isinstance(value, str) or (isinstance(value, list) and all(map(is_value, value)))


def assert_spec_shape(document: dict) -> None:
    assert set(document) == TOP_KEYS
    assert document["version"] == 1
    assert isinstance(document["exercises"], list)
    for exercise in document["exercises"]:
        assert EXERCISE_KEYS <= set(exercise) <= EXERCISE_KEYS | EXTENSIONS["exercise"], set(exercise)
        assert isinstance(exercise["file"], str)
        assert exercise["error"] is None or isinstance(exercise["error"], str)
        if exercise["error"] is not None:
            assert exercise["items"] == []
        for item in exercise["items"]:
            assert ITEM_KEYS <= set(item) <= ITEM_KEYS | EXTENSIONS["item"], set(item)
            assert item["status"] in ("correct", "incorrect", "missing", "invalid")
            assert item["answer"] is None or is_value(item["answer"]), item
            assert item["expected"] is None or is_value(item["expected"]), item
            assert isinstance(item["points"], float) and isinstance(item["max_points"], float)
            assert item["points"] == (item["max_points"] if item["status"] == "correct" else 0.0)
        assert exercise["score"] == sum(i["points"] for i in exercise["items"])
        if exercise["error"] is None:  # a file not graded keeps its asked points when they are known
            assert exercise["max_score"] == sum(i["max_points"] for i in exercise["items"])
        assert isinstance(exercise["score"], float) and isinstance(exercise["max_score"], float)
    assert document["score"] == sum(e["score"] for e in document["exercises"])
    assert document["max_score"] == sum(e["max_score"] for e in document["exercises"])


def test_check_json_shape():
    document = check_json(FILLED / "linear-model-wrong.yaml", code=1)
    assert_spec_shape(document)
    exercise = document["exercises"][0]
    assert exercise["file"] == str(FILLED / "linear-model-wrong.yaml")
    assert exercise["id"] == "linear-model"
    assert exercise["title"] == "Linear model with a squared loss"
    assert exercise["error"] is None
    assert [i["key"] for i in exercise["items"]] == list(SOLUTIONS["linear-model"])
    assert (document["score"], document["max_score"]) == (7.0, 8.0)
    wrong = items_by_key(document)["dloss/dw"]
    assert wrong == {**wrong, "key": "dloss/dw", "status": "incorrect", "answer": "7",
                     "expected": "-2", "points": 0.0, "max_points": 1.0, "diagnosis": None}
    right = items_by_key(document)["dloss/dr"]
    assert right == {**right, "status": "correct", "answer": "-2", "expected": "-2",
                     "points": 1.0, "max_points": 1.0, "diagnosis": None, "feedback": None}


def test_check_json_points_weights(tmp_path):
    answers = dict(SOLUTIONS["linear-model"], **{"dloss/dw": "7"})
    filled = write(tmp_path, "ex.yaml", with_answers(LINEAR, list(answers.items()),
                                                     extra="points:\n  dloss/dw: 3\n"))
    document = check_json(filled, code=1)
    assert_spec_shape(document)
    assert (document["score"], document["max_score"]) == (7.0, 10.0)
    assert items_by_key(document)["dloss/dw"]["max_points"] == 3.0


def test_check_several_files_one_broken(tmp_path):
    broken = BROKEN / "bad_yaml_syntax.yaml"
    wrong, correct = FILLED / "linear-model-wrong.yaml", FILLED / "linear-model-correct.yaml"
    document = check_json(broken, wrong, correct, code=2)
    assert_spec_shape(document)
    by_file = {e["file"]: e for e in document["exercises"]}
    assert list(by_file) == [str(broken), str(wrong), str(correct)]
    error = by_file[str(broken)]["error"]
    assert isinstance(error, str) and f"{broken}:5:7" in error, error
    assert by_file[str(broken)]["items"] == []
    assert by_file[str(wrong)]["error"] is None and by_file[str(correct)]["error"] is None
    assert (by_file[str(wrong)]["score"], by_file[str(wrong)]["max_score"]) == (7.0, 8.0)
    assert (by_file[str(correct)]["score"], by_file[str(correct)]["max_score"]) == (8.0, 8.0)
    assert (document["score"], document["max_score"]) == (15.0, 16.0)
    out = run("check", broken, wrong, correct, code=2).output
    assert f"{broken}:5:7" in out
    assert "Total: 15/16 over 3 files" in out


def test_check_several_files_exit_codes():
    wrong, correct = FILLED / "linear-model-wrong.yaml", FILLED / "linear-model-correct.yaml"
    run("check", correct, correct, code=0)
    run("check", correct, wrong, code=1)


def test_check_exercise_without_answers_is_all_missing():
    document = check_json(LINEAR, code=1)
    assert {i["status"] for i in document["exercises"][0]["items"]} == {"missing"}


# --- check --answers -----------------------------------------------------------------------


def test_check_answers_file():
    answers = FILLED / "linear-model-answers.yaml"
    out = run("check", LINEAR, "--answers", answers, code=0).stdout
    assert "Score: 8/8" in out


def test_check_answers_file_wins_over_the_exercise_answers(tmp_path):
    key = write(tmp_path, "key.yaml", "dloss/dw: 7\n")
    item = items_by_key(check_json(FILLED / "linear-model-correct.yaml", "--answers", key, code=1))
    assert item["dloss/dw"]["status"] == "incorrect" and item["dloss/dw"]["answer"] == "7"
    assert item["y_hat"]["status"] == "missing"


def test_check_answers_for_another_exercise(tmp_path):
    key = write(tmp_path, "key.yaml", "exercise: wrong-id\ndloss/dw: -2\n")
    result = run("check", LINEAR, "--answers", key, code=2)
    assert (f"the answers file is for exercise 'wrong-id', but {LINEAR} is 'linear-model'"
            in result.output), result.output


def test_check_answers_file_not_found(tmp_path):
    missing = tmp_path / "nope.yaml"
    result = run("check", LINEAR, "--answers", missing, code=2)
    assert f"cannot read '{missing}': no such file" in result.stderr, result.output


def test_check_answers_file_not_a_mapping(tmp_path):
    key = write(tmp_path, "key.yaml", "- 1\n- 2\n")
    result = run("check", LINEAR, "--answers", key, code=2)
    assert f"{key}:1:1" in result.output


def test_check_answers_file_bad_yaml(tmp_path):
    key = write(tmp_path, "key.yaml", "dloss/dw: -2\n  y_hat: [1\n")
    result = run("check", LINEAR, "--answers", key, code=2)
    assert f"{key}:2:8: invalid YAML: mapping values are not allowed here" in result.stderr, result.output


def test_check_nonexistent_file(tmp_path):
    missing = tmp_path / "no-such-exercise.yaml"
    result = run("check", missing, code=2)
    assert f"cannot read '{missing}': no such file" in result.output
    document = check_json(missing, code=2)
    assert_spec_shape(document)
    assert "no-such-exercise.yaml" in document["exercises"][0]["error"]


def test_check_directory(tmp_path):
    result = run("check", tmp_path, code=2)
    assert f"cannot read '{tmp_path}': it is a directory, not a file" in result.output


def test_check_needs_a_file():
    assert "Error: Missing argument 'FILES...'" in run("check", code=2).stderr


def test_check_unknown_format():
    assert "Invalid value for '--format': 'xml'" in run("check", LINEAR, "--format", "xml", code=2).stderr


# --- explain -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", params())
def test_explain_text(path):
    data = exercise_data(path)
    out = run("explain", path).stdout
    assert data["title"] in out
    assert "Forward pass" in out and "Backward pass" in out
    names = list(data["given"]) + list(data["steps"])
    forward = out.split("Backward pass")[0]
    for name in names:
        assert re.search(rf"^{re.escape(name)}\s", forward, re.M), (name, forward)
    backward = out.split("Backward pass", 1)[1]
    loss = next(iter(data["upstream"])) if "upstream" in data else list(data["steps"])[-1]
    for name in data["given"]:
        assert re.search(rf"^∂{loss}/∂{name}{SHAPE} = ", backward, re.M), (name, backward)


SHAPE = r"(?: \(\d+x\d+\))?"  # tensor gradients show their shape: "∂loss/∂W1 (3x2) = ..."


def test_check_of_the_mlp_exercise_points_at_the_wrong_entry():
    """One wrong entry of dloss/dW1 in the 2-3-3-1 network: the grid marks it with the right value."""
    wrong = FILLED / "mlp-2-3-3-1-wrong.yaml"
    out = run("check", wrong, code=1).stdout
    assert "12345 → -0.0009057653" in out  # the right value, to 7 digits
    assert "∂loss/∂W1[3,2] = " in out  # the scalar chain of that entry
    verbose = run("check", wrong, "--verbose", code=1).stdout
    assert "12345 → -0.000905765310247338" in verbose
    assert "∂loss/∂W1 (3x2) = " in verbose  # the whole slice, in matrix form


def backward_targets(out: str) -> set[str]:
    backward = out.split("Backward pass", 1)[1]
    return set(re.findall(rf"^∂\w+/∂(\w+){SHAPE} = ", backward, re.M))


def test_explain_wrt_limits_the_backward_pass():
    full = run("explain", LINEAR).stdout
    assert backward_targets(full) == {"loss", "r", "y_hat", "w", "x", "y"}
    out = run("explain", LINEAR, "--wrt", "w").stdout
    assert backward_targets(out) == {"loss", "r", "y_hat", "w"}  # x and y are off the path
    assert "∂loss/∂w = " in out
    assert "Forward pass" in out
    out = run("explain", LINEAR, "--wrt", "r").stdout
    assert backward_targets(out) == {"loss", "r"}


def test_explain_markdown():
    out = run("explain", LINEAR, "--format", "markdown").stdout
    assert "| step | definition | value | decimal |" in out
    assert "| --- | --- | --- | --- |" in out
    assert "| `y_hat` | `x*w` | `1` |" in out
    assert "```" in out and "∂loss/∂w = " in out
    assert ANSI not in out


def test_explain_json():
    document = json.loads(run("explain", LINEAR, "--format", "json").stdout)
    assert isinstance(document["forward"], list) and isinstance(document["backward"], list)
    assert [row["name"] for row in document["forward"]] == ["x", "y", "w", "y_hat", "r", "loss"]
    backward = {entry["name"]: entry for entry in document["backward"]}
    assert backward["w"]["value"] == "-2"
    assert backward["w"]["target"] == "∂loss/∂w"
    assert backward["y"]["value"] == "2"
    assert document["of"] == "loss"


def test_explain_json_wrt():
    document = json.loads(run("explain", LINEAR, "--wrt", "w", "--format", "json").stdout)
    assert {entry["name"] for entry in document["backward"]} == {"loss", "r", "y_hat", "w"}


def gradient_block(out: str, target: str, raw: bool = False) -> list[str]:
    """The lines of one backward entry: 'target = ...' and its '= ...' continuations
    (``raw``: ``target`` is a regular expression)."""
    lines = out.splitlines()
    pattern = re.compile((target if raw else re.escape(target)) + SHAPE + " = ")
    start = next((i for i, line in enumerate(lines) if pattern.match(line)), None)
    assert start is not None, f"no line starting with {target} = in:\n{out}"
    block = [lines[start]]
    for line in lines[start + 1:]:
        if not line.startswith(" "):
            break
        block.append(line)
    return block


def test_explain_expr_seed_example():
    out = run("explain", "--expr", "x*w", "--given", "x=2", "--given", "w=3",
              "--upstream", "L=5").stdout
    block = gradient_block(out, "∂L/∂x")
    assert block[-1].strip() == "= 15", block
    assert any("5 · 3" in line for line in block), block
    assert gradient_block(out, "∂L/∂w")[-1].strip() == "= 10"
    assert gradient_block(out, "∂L/∂f")[0].startswith("∂L/∂f = 5")


def test_explain_expr_named_and_without_upstream():
    out = run("explain", "--expr", "q = x*x + w", "--given", "x=3", "--given", "w=1").stdout
    assert gradient_block(out, "∂q/∂x")[-1].strip() == "= 6"
    assert gradient_block(out, "∂q/∂w")[-1].strip() == "= 1"


@pytest.mark.parametrize("expression,first_line", [
    ("x*", "--expr:1:3: syntax error: the expression ends too early"),
    ("x +* w", "--expr:1:4: syntax error: invalid syntax"),
    ("2x", "--expr:1:2: missing operator"),
    ("import os", "--expr:1:1: syntax error: invalid syntax"),
    ("__import__('os')", "--expr:1:1: names may not start with '_'"),
    ("x; w", "--expr:1:2: syntax error: invalid syntax"),
    ("nosuch(x)", "--expr:1:1: unknown function 'nosuch'"),
])
def test_explain_bad_expression(expression, first_line):
    result = run("explain", "--expr", expression, "--given", "x=2", "--given", "w=3", code=2)
    assert result.stderr.splitlines()[0] == first_line, result.output


@pytest.mark.parametrize("args,typed", [
    (["--expr", "x*", "--given", "x=2"], "x*"),
    (["--expr", "x*w", "--given", "x=abc", "--given", "w=1"], "abc"),
    (["--expr", "x*w", "--given", "x=1", "--given", "x=2", "--given", "w=1"], "x"),
])
def test_explain_expr_errors_speak_of_what_the_user_typed(args, typed):
    """--expr builds an exercise document internally; its errors must not quote that
    document (lines like '"f": "x*"' at '--expr:7:11'), which the user never wrote."""
    result = run("explain", *args, code=2)
    assert typed in result.stderr
    assert '"f":' not in result.stderr and '"x":' not in result.stderr, result.stderr


def test_explain_expr_unknown_name():
    result = run("explain", "--expr", "x*v", "--given", "x=2", code=2)
    assert result.stderr.startswith("--expr:1:3: unknown name 'v'"), result.stderr
    assert "hint: names must be givens or earlier steps: x" in result.stderr


def test_explain_given_without_equals():
    result = run("explain", "--expr", "x*w", "--given", "x", "--given", "w=3", code=2)
    assert "Usage:" in result.stderr and "--given" in result.stderr


def test_explain_file_and_expr():
    result = run("explain", LINEAR, "--expr", "x*w", code=2)
    assert "Usage:" in result.stderr


def test_explain_neither_file_nor_expr():
    result = run("explain", code=2)
    assert "Usage:" in result.stderr


def test_explain_wrt_unknown():
    result = run("explain", LINEAR, "--wrt", "nosuch", code=2)
    assert "--wrt nosuch: there is no given or step called 'nosuch'" in result.stderr


def test_explain_missing_file(tmp_path):
    result = run("explain", tmp_path / "gone.yaml", code=2)
    assert f"cannot read '{tmp_path / 'gone.yaml'}': no such file" in result.stderr


def test_explain_broken_file():
    path = BROKEN / "unknown_name.yaml"
    result = run("explain", path, code=2)
    assert f"{path}:6:10" in result.stderr


# --- validate ------------------------------------------------------------------------------


def test_validate_shipped_exercises():
    out = run("validate", *EXERCISES, code=0).stdout
    for path in EXERCISES:
        assert f"{path}: ok" in out


def test_validate_broken():
    path = BROKEN / "unknown_top_key.yaml"
    result = run("validate", path, code=2)
    assert f"{path}:6:1: " in result.stderr
    assert "ok" not in result.stdout


def test_validate_good_and_broken():
    broken = BROKEN / "log_zero.yaml"
    result = run("validate", LINEAR, broken, code=2)
    assert f"{LINEAR}: ok" in result.stdout
    assert f"{broken}:6:9: " in result.stderr


# --- colour: piped output is plain --------------------------------------------------------


def piped(*args) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items()
           if k not in ("NO_COLOR", "FORCE_COLOR", "CLICOLOR_FORCE", "TTY_COMPATIBLE")}
    return subprocess.run([sys.executable, "-m", "backprop_cli", *map(str, args)],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          encoding="utf-8", cwd=ROOT, env=env, timeout=60)


def test_piped_output_has_no_ansi_codes_and_color_forces_them():
    wrong = FILLED / "linear-model-wrong.yaml"
    explain = piped("explain", "exercises/linear-model.yaml")
    check = piped("check", wrong)
    assert explain.returncode == 0, explain.stderr
    assert check.returncode == 1, check.stderr
    assert "Backward pass" in explain.stdout and "How to get" in check.stdout
    for proc in (explain, check):
        assert ANSI not in proc.stdout + proc.stderr
    colored = piped("check", wrong, "--color")
    assert colored.returncode == 1, colored.stderr
    assert ANSI in colored.stdout  # the check above can fail
    colored = piped("explain", "exercises/linear-model.yaml", "--color")
    assert ANSI in colored.stdout


def test_color_flag_beats_no_color():
    out = run("check", FILLED / "linear-model-wrong.yaml", code=1).stdout
    assert ANSI not in out
    out = run("check", FILLED / "linear-model-wrong.yaml", "--color", code=1).stdout
    assert ANSI in out
