"""``validate`` proves the answer key: the engine against sympy.diff and finite differences.

A test double corrupts one local derivative (or one tensor VJP) of the engine; the
proof must catch it, by finite differences alone when SymPy is out of the picture.
Warnings (kinks, unused givens, degenerate exercises, give-aways, unwieldy decimals)
each have a small exercise that shows them; ``--strict`` turns them into errors.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path

import pytest
from cli_runner import invoke

from backprop_cli.authoring import proof
from backprop_cli.authoring.findings import Code
from backprop_cli.authoring.proof import prove, relative_error
from backprop_cli.autodiff import ops
from backprop_cli.autodiff.ops import ElementwiseOp
from backprop_cli.autodiff.tensor import elementwise
from backprop_cli.autodiff.tensor_ops import TensorOp
from backprop_cli.exercise.load import load_exercise
from backprop_cli.source.limits import DEFAULT

ROOT = Path(__file__).resolve().parents[1]
EXERCISES = sorted((ROOT / "exercises").glob("**/*.yaml"))
LINEAR = ROOT / "exercises" / "linear-model.yaml"


def write(tmp_path, text: str, name: str = "ex.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def shipped() -> dict:
    """One ``validate --format json`` over every shipped exercise (it takes some seconds)."""
    result = invoke("validate", "--format", "json", *EXERCISES)
    assert result.exit_code == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


def test_every_shipped_key_is_proved_three_ways(shipped):
    assert shipped["ok"] is True and len(shipped["files"]) == len(EXERCISES)
    for file in shipped["files"]:
        assert file["errors"] == [], file["file"]
        assert file["keys"], file["file"]
        for key in file["keys"]:
            assert key["agrees"] and key["compared"], (file["file"], key)
            assert key["checked_by"] == ["engine", "sympy.diff", "finite differences"], (file["file"], key)
            for entry in key["entries"]:
                assert entry["relative_error"] <= proof.RELATIVE or abs(
                    entry["engine"] - entry["finite_difference"]) <= proof.NEAR_ZERO, (file["file"], entry)


def test_every_shipped_question_test_passes(shipped):
    for file in shipped["files"]:
        assert file["tests"], f"{file['file']} has no question tests"
        assert all(t["passed"] for t in file["tests"]), file["file"]
        assert any(t["name"] == "the key itself" for t in file["tests"]), file["file"]


def test_text_output_names_each_file(tmp_path):
    result = invoke("validate", LINEAR)
    assert result.exit_code == 0
    assert result.stdout.startswith(f"{LINEAR}: ok (3 steps, 8 asked; 5 gradients agree three ways")
    assert "6 question tests pass" in result.stdout
    assert f"{LINEAR}:26:5: warning: 'dloss/dy_hat' has the same value as 'dloss/dr'" in result.stderr


def _corrupt_pow(monkeypatch, factor=2):
    """A test double: the engine's d(a**b)/da is ``factor`` times too large."""
    original = ElementwiseOp.local

    def local(self, slot, args, out):
        value = original(self, slot, args, out)
        return elementwise(lambda e: factor * e, value) if self is ops.POW and slot == 0 else value

    monkeypatch.setattr(ElementwiseOp, "local", local)


def test_a_corrupted_local_derivative_is_caught(monkeypatch):
    _corrupt_pow(monkeypatch)
    result = invoke("validate", LINEAR)
    assert result.exit_code == 2
    assert "failed" in result.stdout
    message = next(line for line in result.stderr.splitlines() if "dloss/dr" in line and "hold up" in line)
    # r = -1: the engine now says 2 * (2r) = -4; sympy.diff and finite differences say 2r = -2
    assert "engine -4, sympy.diff -2, finite differences -2" in message
    assert "relative error 0.5" in message


def test_finite_differences_alone_catch_it(monkeypatch):
    """With sympy.diff out of the picture (its size limit at 0), the gradient check still fires."""
    _corrupt_pow(monkeypatch, factor=3)
    exercise = load_exercise(LINEAR)
    proofs, findings = prove(exercise, limits=replace(DEFAULT, proof_max_nodes=0))
    wrong = {p.key: p for p in proofs if not p.agrees}
    assert set(wrong) == {"dloss/dr", "dloss/dy_hat", "dloss/dw"}
    entry = wrong["dloss/dw"].entries[0]
    assert entry.sympy is None and entry.engine == -6.0
    assert entry.finite_difference == pytest.approx(-2.0, rel=1e-8)
    assert entry.relative_error == pytest.approx(2 / 3)
    assert all(f.code is Code.KEY for f in findings) and len(findings) == 3
    assert any("sympy.diff skipped" in note for note in wrong["dloss/dw"].notes)


def test_a_corrupted_tensor_vjp_is_caught(monkeypatch):
    original = TensorOp.pull

    def pull(self, slot, g, args, out, **params):
        pulled = original(self, slot, g, args, out, **params)
        if self.name == "matmul" and slot == 1:
            return pulled._replace(value=pulled.value[::-1].copy())  # the rows of dW swapped
        return pulled

    monkeypatch.setattr(TensorOp, "pull", pull)
    result = invoke("validate", "--format", "json", ROOT / "exercises" / "batch-mse.yaml")
    assert result.exit_code == 2
    keys = {k["key"]: k for k in json.loads(result.stdout)["files"][0]["keys"]}
    assert not keys["dloss/dw"]["agrees"]
    assert keys["dloss/db"]["agrees"]


def test_relative_error_is_cs231n():
    assert relative_error(1.0, 1.0) == 0.0
    assert relative_error(0.0, 0.0) == 0.0
    assert relative_error(2.0, -2.0) == 2.0
    assert relative_error(1.0, 1.1) == pytest.approx(0.1 / 1.1)


def test_both_near_zero_agree(tmp_path):
    """A gradient of exactly 0 against finite differences of about 1e-12."""
    path = write(tmp_path, "backprop: 1\ngiven:\n  x: 3\n  w: 1e-7\nsteps:\n  f: sin(x*w)*1e-6 + x\n"
                           "ask: [df/dw, df/dx]\n")
    exercise = load_exercise(path)
    proofs, findings = prove(exercise)
    assert findings == [] and all(p.agrees for p in proofs)


# ------------------------------------------------------------------ bounds


def test_the_sympy_leg_is_skipped_when_too_big():
    exercise = load_exercise(LINEAR)
    proofs, findings = prove(exercise, limits=replace(DEFAULT, proof_max_nodes=0))
    assert findings == []
    assert all(p.legs == ["finite differences"] for p in proofs)
    assert all("more than 0 operations" in " ".join(p.notes) for p in proofs)


def test_a_leg_out_of_time_is_skipped_with_a_note():
    exercise = load_exercise(LINEAR)
    proofs, findings = prove(exercise, limits=replace(DEFAULT, proof_seconds=0))
    assert findings == [] and all(p.legs == [] for p in proofs)
    assert all("over its time budget" in " ".join(p.notes) for p in proofs)


def test_a_slow_sympy_diff_is_interrupted(monkeypatch):
    def slow(*args, **kwargs):
        time.sleep(60)
        raise AssertionError("sympy.diff was not interrupted")

    monkeypatch.setattr(proof.sp, "diff", slow)
    exercise = load_exercise(LINEAR)
    proofs, findings = prove(exercise, limits=replace(DEFAULT, proof_seconds=0.3))
    assert findings == []
    assert all(p.legs == ["finite differences"] for p in proofs)
    assert all("sympy.diff skipped: over its time budget" in p.notes for p in proofs)


def test_big_gradients_are_sampled(tmp_path):
    rows = "[" + ", ".join("[" + ", ".join(str((i * 7 + j) % 5 - 2) for j in range(15)) + "]"
                           for i in range(15)) + "]"
    path = write(tmp_path, f"backprop: 1\ngiven:\n  W: {rows}\nsteps:\n  f: sum(W * W)\nask: [df/dW]\n")
    proofs, findings = prove(load_exercise(path), limits=replace(DEFAULT, proof_max_entries=10))
    assert findings == [] and len(proofs[0].entries) == 10
    assert "10 of 225 entries checked" in proofs[0].notes


def test_an_undefined_derivative_is_an_error_not_a_crash(tmp_path):
    path = write(tmp_path, "backprop: 1\ngiven:\n  x: 0\nsteps:\n  f: sqrt(x)\n")
    result = invoke("validate", path)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"{path}:5:6: the derivative is undefined here")


# ------------------------------------------------------------------ warnings


WARNINGS = {
    "kink": ("backprop: 1\ngiven:\n  x: 2\n  w: 0\n  b: 1\nsteps:\n  h: relu(x*w)\n  f: h + b*x\n"
             "ask: [df/dw, df/db]\n", 7, "relu: its argument is 0"),
    "tie": ("backprop: 1\ngiven:\n  a: 2\n  b: 2\nsteps:\n  f: max(a, b) * 3\nask: [df/da]\n", 6,
            "a tie between its arguments"),
    "unused-given": ("backprop: 1\ngiven:\n  x: 2\n  z: 5\nsteps:\n  f: x**2\n", 4,
                     "given 'z' is not used by any step"),
    "degenerate-loss": ("backprop: 1\ngiven:\n  x: 2\n  y: 2\nsteps:\n  loss: (x - y)**2\n", 6,
                        "the output 'loss' is 0"),
    "degenerate-relu": ("backprop: 1\ngiven:\n  x: [1, 2]\n  W: [[-1, 0], [0, -1]]\nsteps:\n"
                        "  h: relu(W @ x)\n  loss: sum(h)\nask: [dloss/dW, dloss/dx]\n", 8,
                        "every asked gradient is 0"),
    "give-away": ("backprop: 1\ngiven:\n  w: 3\n  x: 2\n  b: 1\nsteps:\n  z: w*x + b\n  loss: z**2\n"
                  "ask: [dloss/dz, dloss/db]\n", 9, "'dloss/db' has the same value as 'dloss/dz'"),
    "unwieldy-decimals": ("backprop: 1\ngiven:\n  x: 1.137\n  w: 0.373\n  y: 2.91\nsteps:\n  r: x*w - y\n"
                          "  loss: r**2\nask: [r, loss]\n", 9, "the exact answer to 'loss' needs 13 digits"),
}
CODES = {"tie": "kink", "degenerate-loss": "degenerate", "degenerate-relu": "degenerate"}


@pytest.mark.parametrize("case", sorted(WARNINGS))
def test_each_warning(tmp_path, case):
    text, line, words = WARNINGS[case]
    path = write(tmp_path, text)
    result = invoke("validate", "--format", "json", path)
    assert result.exit_code == 0, result.stdout
    warnings = json.loads(result.stdout)["files"][0]["warnings"]
    code = CODES.get(case, case)
    assert any(w["code"] == code and w["line"] == line and words in w["message"] for w in warnings), warnings
    strict = invoke("validate", "--strict", path)
    assert strict.exit_code == 2
    assert f"{path}:{line}:" in strict.stderr and "warning: " in strict.stderr
    assert "failed" in strict.stdout and "(--strict)" in strict.stdout


def test_a_key_through_a_kink_is_not_compared(tmp_path):
    path = write(tmp_path, WARNINGS["kink"][0])
    keys = {k["key"]: k for k in json.loads(invoke("validate", "--format", "json", path).stdout)["files"][0]["keys"]}
    assert keys["df/dw"]["compared"] is False
    assert "is at a kink" in " ".join(keys["df/dw"]["notes"])
    assert keys["df/db"]["compared"] is True and keys["df/db"]["agrees"]


def test_a_clean_exercise_has_no_warnings(tmp_path):
    path = write(tmp_path, "backprop: 1\ngiven:\n  x: 3\n  w: 2\n  y: 1\nsteps:\n  r: x*w - y\n  loss: r**2\n"
                           "ask: [loss, dloss/dw]\n")
    result = invoke("validate", "--strict", path)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""


def test_json_document(tmp_path):
    broken = write(tmp_path, "backprop: 1\nsteps:\n  f: x * 2\n", "broken.yaml")
    result = invoke("validate", "--format", "json", LINEAR, broken)
    assert result.exit_code == 2 and result.stderr == ""
    document = json.loads(result.stdout)
    assert document["version"] == 1 and document["ok"] is False and document["strict"] is False
    good, bad = document["files"]
    assert good["ok"] and good["readable"] and good["id"] == "linear-model" and good["steps"] == 3
    assert good["warnings"][0]["code"] == "give-away" and good["warnings"][0]["severity"] == "warning"
    key = next(k for k in good["keys"] if k["key"] == "dloss/dw")
    assert key["entries"] == [{"index": None, "engine": -2.0, "sympy": -2.0,
                               "finite_difference": key["entries"][0]["finite_difference"],
                               "relative_error": key["entries"][0]["relative_error"], "agrees": True}]
    assert not bad["readable"] and bad["errors"][0]["code"] == "format"
    assert bad["errors"][0]["line"] == 3 and "unknown name 'x'" in bad["errors"][0]["message"]


def test_someone_elses_timer_survives_the_proof():
    """A timer set by the caller (a test runner's timeout, say) is given back, minus the time spent."""
    import signal

    if not hasattr(signal, "setitimer"):
        pytest.skip("no interval timers here")
    fired = []
    previous = signal.signal(signal.SIGALRM, lambda *args: fired.append(True))
    try:
        signal.setitimer(signal.ITIMER_REAL, 1000)
        prove(load_exercise(LINEAR))
        left, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 0 < left <= 1000
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert fired == []
