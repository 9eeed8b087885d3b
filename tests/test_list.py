"""``backprop list FOLDER``: a table of the exercises in a folder, with their question tests."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from cli_runner import invoke

ROOT = Path(__file__).resolve().parents[1]
EXERCISES = ROOT / "exercises"


def rows(*args) -> dict:
    result = invoke("list", *args, "--format", "json")
    document = json.loads(result.stdout)
    assert document["version"] == 1
    return {Path(r["file"]).name: r for r in document["exercises"]}, result.exit_code


def test_the_shipped_exercises():
    table, code = rows(EXERCISES)
    assert code == 0
    assert set(table) == {p.name for p in EXERCISES.glob("*.yaml")}
    assert table["linear-model.yaml"] == {
        "file": str(EXERCISES / "linear-model.yaml"), "id": "linear-model",
        "title": "Linear model with a squared loss", "asks": 8, "tensors": False, "training": False,
        "variants": False, "tests": {"passed": 6, "total": 6, "readable": True}, "error": None}
    assert table["mlp-2-3-3-1.yaml"]["tensors"] and not table["mlp-2-3-3-1.yaml"]["training"]
    assert table["train-mlp-2-3-3-1.yaml"]["training"] and table["train-mlp-2-3-3-1.yaml"]["tensors"]
    assert all(r["tests"]["passed"] == r["tests"]["total"] > 0 for r in table.values())


def test_the_text_table():
    result = invoke("list", EXERCISES / "variants")
    assert result.exit_code == 0
    header, _, row = result.stdout.splitlines()[:3]
    assert header.split() == ["id", "title", "asks", "tensors", "training", "variants", "question", "tests"]
    assert row.split()[0] == "linear-model-variant" and row.split()[-4:] == ["-", "yes", "4/4", "pass"]


def test_broken_files_and_failing_tests(tmp_path):
    shutil.copy(EXERCISES / "fan-out.yaml", tmp_path / "a.yaml")
    shutil.copy(ROOT / "tests" / "data" / "broken" / "log_zero.yaml", tmp_path / "b.yaml")
    failing = (EXERCISES / "fan-out.yaml").read_text(encoding="utf-8").replace(
        "answers: {df/dx: 3}", "answers: {df/dx: 4}")
    (tmp_path / "c.yml").write_text(failing, encoding="utf-8")
    (tmp_path / "d.yaml").write_text((EXERCISES / "fan-out.yaml").read_text(encoding="utf-8")
                                     + "  - 3\n", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not an exercise", encoding="utf-8")
    table, code = rows(tmp_path)
    assert code == 2
    assert set(table) == {"a.yaml", "b.yaml", "c.yml", "d.yaml"}
    assert table["a.yaml"]["tests"] == {"passed": 4, "total": 4, "readable": True}
    assert table["b.yaml"]["error"].startswith(f"{tmp_path / 'b.yaml'}:6:9: log is only defined")
    assert table["c.yml"]["tests"] == {"passed": 3, "total": 4, "readable": True}
    assert table["d.yaml"]["tests"]["readable"] is False
    text = invoke("list", tmp_path)
    assert text.exit_code == 2 and "3/4 pass" in text.stdout and "unreadable" in text.stdout


def test_missing_and_empty_folders(tmp_path):
    result = invoke("list", tmp_path / "nowhere")
    assert result.exit_code == 2 and "no such folder" in result.stderr
    result = invoke("list", EXERCISES / "linear-model.yaml")
    assert result.exit_code == 2 and "not a folder" in result.stderr
    result = invoke("list", tmp_path)
    assert result.exit_code == 0 and "no exercise files" in result.stdout
