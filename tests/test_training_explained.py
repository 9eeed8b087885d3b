"""Training explained: ``explain --of w@k`` shows each update as a chain, and ``check`` of a
wrong ``w@k`` shows the same chain (train-linear-model: x = 1, y = 2, w = 1, rate 1/10)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from cli_runner import invoke

ROOT = Path(__file__).resolve().parents[1]
TRAIN = ROOT / "exercises" / "train-linear-model.yaml"


def explain(path, *args, code=0):
    result = invoke("explain", path, *args)
    assert result.exit_code == code, result.output
    return result.stdout if code == 0 else result.output


def test_explain_of_a_parameter_after_updates():
    out = explain(TRAIN, "--of", "w@2")
    # dloss/dw = 2 (x w - y) x: -2 at w = 1, then -8/5 at w = 6/5
    assert "w@1 = w - rate · ∂loss/∂w\n    = 1 - 1/10 · (-2)\n    = 6/5  ≈ 1.2" in out
    assert "w@2 = w@1 - rate · ∂loss/∂w at w@1\n    = 6/5 - 1/10 · (-8/5)\n    = 34/25  ≈ 1.36" in out
    assert "Training: sgd, rate 1/10, 2 updates" in out


def test_explain_of_a_step_after_updates():
    out = explain(TRAIN, "--of", "loss@1")
    assert "w@1 = w - rate · ∂loss/∂w" in out and "w@2" not in out
    assert "loss@1 = r**2, with w@1\n       = 16/25  ≈ 0.64" in out  # (6/5 - 2)**2


@pytest.mark.parametrize("of, words", [("x@1", "'x' is not trained"), ("w@3", "'train' makes 2"),
                                       ("q@1", "'q' is not a given or a step")])
def test_explain_of_a_training_key_that_is_not_there(of, words):
    out = explain(TRAIN, "--of", of, code=2)
    assert f"--of {of}:" in out and words in out


def test_explain_of_a_training_key_without_training():
    out = explain(ROOT / "exercises" / "linear-model.yaml", "--of", "w@1", code=2)
    assert "has no 'train'" in out


def optimizer_copy(tmp_path: Path, optimizer: str) -> Path:
    text = TRAIN.read_text(encoding="utf-8").replace("optimizer: sgd", f"optimizer: {optimizer}")
    path = tmp_path / f"{optimizer}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_momentum_shows_its_buffer(tmp_path):
    out = explain(optimizer_copy(tmp_path, "momentum"), "--of", "w@2")
    assert "b@1 = ∂loss/∂w   (the first buffer is the gradient)\n    = -2" in out
    # b@2 = 9/10 · (-2) + (-8/5) = -17/5; w@2 = 6/5 + 17/50 = 77/50
    assert "b@2 = momentum · b@1 + ∂loss/∂w at w@1\n    = 9/10 · (-2) + (-8/5)\n    = -17/5" in out
    assert "w@2 = w@1 - rate · b@2\n    = 6/5 - 1/10 · (-17/5)\n    = 77/50" in out
    assert "momentum 9/10" in out


def test_adam_shows_m_and_v(tmp_path):
    out = explain(optimizer_copy(tmp_path, "adam"), "--of", "w@1")
    assert "m@1 = beta1 · m + (1 - beta1) · ∂loss/∂w\n    = 9/10 · 0 + 1/10 · (-2)\n    = -1/5" in out
    assert "v@1 = beta2 · v + (1 - beta2) · (∂loss/∂w)**2\n    = 999/1000 · 0 + 1/1000 · (-2)**2" in out
    # bias-corrected: m^ = -2, v^ = 4, w@1 = 1 - 1/10 · (-2)/(2 + 1e-8)
    assert "w@1 = w - rate · (m@1/(1 - beta1**1)) / (sqrt(v@1/(1 - beta2**1)) + eps)" in out
    assert "= 220000001/200000001" in out


def test_explain_of_training_in_markdown_and_json():
    out = explain(TRAIN, "--of", "w@1", "--format", "markdown")
    assert "### Updates" in out and "w@1 = w - rate · ∂loss/∂w" in out
    document = json.loads(explain(TRAIN, "--of", "w@1", "--format", "json"))
    assert [u["target"] for u in document["updates"]] == ["w@1"]
    assert document["updates"][0]["value"] == "6/5"


def test_check_of_a_wrong_update_shows_the_chain(tmp_path):
    path = tmp_path / "train.yaml"
    path.write_text(TRAIN.read_text(encoding="utf-8") + "answers:\n  w@1: 6/5\n  w@2: 7/5\n",
                    encoding="utf-8")
    out = invoke("check", path).stdout
    assert re.search(r"✗ incorrect w@2 +your answer 7/5, expected 34/25 ≈ 1\.36", out), out
    assert "How to get w@2:" in out
    assert "w@2 = w@1 - rate · ∂loss/∂w at w@1\n    = 6/5 - 1/10 · (-8/5) = 34/25 ≈ 1.36" in out
    verbose = invoke("check", path, "--verbose").stdout
    assert "Updates, one chain each" in verbose and "= 34/25  ≈ 1.36" in verbose


def test_check_of_a_wrong_step_after_training(tmp_path):
    path = tmp_path / "train.yaml"
    path.write_text(TRAIN.read_text(encoding="utf-8") + "answers:\n  loss@2: 1/2\n", encoding="utf-8")
    out = invoke("check", path).stdout
    assert "loss@2 = r**2, with w@2 = 256/625 ≈ 0.4096" in out
    assert f"Each update: backprop explain {path} --of loss@2" in out
