"""``backprop blank``: the student's copy, and the YAML writer behind it.

A blank copy must read back as the same exercise with every answer missing, explain
each key in a comment, leave out the question tests and the teacher's answers and
comments, and round-trip through ``check`` once a student fills it in.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from cli_runner import invoke
from hypothesis import given, settings
from hypothesis import strategies as st

from backprop_cli.authoring import yamlout
from backprop_cli.authoring.copies import blank
from backprop_cli.exercise.variants import plain_data
from backprop_cli.source.errors import Location
from backprop_cli.source.yamlsrc import Source, YScalar, load_file, load_text

ROOT = Path(__file__).resolve().parents[1]
EXERCISES = sorted((ROOT / "exercises").glob("*.yaml"))
LINEAR = ROOT / "exercises" / "linear-model.yaml"
KEPT = ("backprop", "id", "title", "prompt", "given", "steps", "output", "upstream", "ask", "points",
        "tolerance", "hide_expected", "carry_forward", "partial", "train")


def fill(copy: str, answers: dict[str, str]) -> str:
    """What a student does: write each answer after its key, keeping the comment."""
    def answer(match):
        key = match.group(1)
        return f"  {key}: {answers[key]}  #" if key in answers else match.group(0)
    return re.sub(r"^  (\S+):\s+#", answer, copy, flags=re.M)


def solved(path: Path) -> dict[str, str]:
    result = invoke("solve", path, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return {k: json.dumps(v) for k, v in json.loads(result.stdout).items()}


@pytest.mark.parametrize("path", EXERCISES, ids=lambda p: p.stem)
def test_a_blank_copy_is_the_same_exercise_unanswered(path, tmp_path):
    out = tmp_path / path.name
    result = invoke("blank", path, "-o", out)
    assert result.exit_code == 0 and result.stdout == "" and f"wrote {out}" in result.stderr
    original, copy = plain_data(load_file(path)), plain_data(load_file(out))
    assert {k: original[k] for k in KEPT if k in original} == {k: copy[k] for k in KEPT if k in copy}
    assert "tests" in original and "tests" not in copy
    assert copy["id"] == original.get("id", path.stem)
    checked = invoke("check", out, "--format", "json")
    assert checked.exit_code == 1
    exercise = json.loads(checked.stdout)["exercises"][0]
    assert exercise["error"] is None and {i["status"] for i in exercise["items"]} == {"missing"}
    assert [i["key"] for i in exercise["items"]] == list(copy["answers"])


def test_the_blank_round_trips_through_check(tmp_path):
    """Blank copy, a student's answers written into it, check: all correct."""
    for path in (LINEAR, ROOT / "exercises" / "batch-mse.yaml", ROOT / "exercises" / "scalar-product.yaml"):
        copy = tmp_path / path.name
        copy.write_text(fill(blank(path), solved(path)), encoding="utf-8")
        result = invoke("check", copy)
        assert result.exit_code == 0, result.stdout
        assert "Score: " in result.stdout


def test_each_key_is_explained():
    text = blank(ROOT / "exercises" / "mlp-2-3-3-1.yaml")
    assert "  dloss/dW3:  # the gradient of loss with respect to W3, a row of 3 numbers, written [[a, b, ...]]" in text
    assert "  dloss/dx2:  # the gradient of loss with respect to x2, a column of 3 numbers, written [a, b, ...]" in text
    assert "  dloss/dW1:  # the gradient of loss with respect to W1, a 3x2 matrix, one list per row" in text
    assert "  loss:       # the value of step loss, a 1x1 matrix (a single number will do)" in text
    text = blank(LINEAR)
    assert "  dloss/dw:      # the gradient of loss with respect to w, a number" in text
    assert "dL/dx:  # the gradient of the outside loss L with respect to x, a number" in blank(
        ROOT / "exercises" / "scalar-product.yaml")
    assert "  w@2:       # w after 2 updates, a number" in blank(ROOT / "exercises" / "train-linear-model.yaml")


def test_teacher_material_stays_out(tmp_path):
    path = tmp_path / "teacher.yaml"
    path.write_text("""backprop: 1   # answer: loss = 4
title: 'It''s "quoted": #1'
given:
  x: 0.1     # dloss/dx is 0.2, keep it secret
  w: "3/2"
steps:
  f: x * w
hide_expected: true
ask: [f, {key: df/dx, form: formula}, df/dx]
answers:
  f: 3/20
tests:
  - answers: key
    expect: all-correct
""", encoding="utf-8")
    text = blank(path)
    assert "secret" not in text and "answer:" not in text and "3/20" not in text and "tests" not in text
    assert "hide_expected: true" in text
    assert '  w: "3/2"' in text and "  x: 0.1" in text
    assert "df/dx (formula):  # the gradient of f with respect to x, as a formula over the givens (x, w)" in text
    data = plain_data(load_text(text, "copy"))
    assert data["title"] == 'It\'s "quoted": #1'
    assert data["answers"] == {"f": None, "df/dx (formula)": None, "df/dx": None}
    copy = tmp_path / "copy.yaml"
    copy.write_text(text, encoding="utf-8")
    document = json.loads(invoke("check", copy, "--format", "json").stdout)
    assert {i["expected"] for i in document["exercises"][0]["items"]} == {None}  # still hidden


def test_without_output_the_copy_is_printed():
    result = invoke("blank", LINEAR)
    assert result.exit_code == 0
    assert result.stdout == blank(LINEAR)
    assert result.stdout.startswith("# backprop exercise: Linear model with a squared loss (linear-model)\n")


def test_never_overwrites_without_force(tmp_path):
    out = tmp_path / "copy.yaml"
    out.write_text("mine\n", encoding="utf-8")
    result = invoke("blank", LINEAR, "-o", out)
    assert result.exit_code == 2
    assert "the file exists; add --force to overwrite it" in result.stderr
    assert out.read_text(encoding="utf-8") == "mine\n"
    assert invoke("blank", LINEAR, "-o", out, "--force").exit_code == 0
    assert out.read_text(encoding="utf-8") == blank(LINEAR)


def test_never_overwrites_the_exercise_itself(tmp_path):
    source = tmp_path / "ex.yaml"
    source.write_text(LINEAR.read_text(encoding="utf-8"), encoding="utf-8")
    before = source.read_text(encoding="utf-8")
    for extra in ((), ("--force",)):
        result = invoke("blank", source, "-o", tmp_path / "." / "ex.yaml", *extra)
        assert result.exit_code == 2 and "that is the exercise itself" in result.stderr
    assert source.read_text(encoding="utf-8") == before
    result = invoke("blank", source, "-o", tmp_path)
    assert result.exit_code == 2 and "that is a folder" in result.stderr


def test_broken_and_template_files_are_refused(tmp_path):
    result = invoke("blank", ROOT / "tests" / "data" / "broken" / "log_zero.yaml")
    assert result.exit_code == 2 and "log_zero.yaml:6:9: " in result.stderr
    result = invoke("blank", ROOT / "exercises" / "variants" / "linear-model.yaml")
    assert result.exit_code == 2
    assert "is a generator" in result.stderr and "backprop variant FILE --student ID" in result.stderr


# ------------------------------------------------------------------ the YAML writer

_AT, _SOURCE = Location("t", 1, 1), Source("t", "")
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)


def _read_back(line_block: list[str]) -> str:
    return load_text("\n".join(line_block) + "\n", "t").get("k").text


@settings(max_examples=200, deadline=None)
@given(TEXT)
def test_any_text_survives_double_quotes(text):
    assert _read_back(yamlout.entry("k", YScalar(_AT, _SOURCE, text, "double"), 0)) == text


@settings(max_examples=200, deadline=None)
@given(st.lists(TEXT, min_size=2, max_size=5), st.integers(0, 3))
def test_any_block_text_survives(lines, trailing):
    text = "\n".join(lines) + "\n" * trailing
    assert _read_back(yamlout.entry("k", YScalar(_AT, _SOURCE, text, "literal"), 0)) == text


def test_a_prompt_stays_a_literal_block():
    lines = yamlout.entry("prompt", YScalar(_AT, _SOURCE, "Line one.\n    indented\n\nlast\n", "literal"), 0)
    assert lines == ["prompt: |2", "  Line one.", "      indented", "", "  last"]


def test_tensors_are_flow_lists_and_long_matrices_take_a_row_per_line():
    node = load_text("k: [[1, 2], [3, 4]]\n", "t").get("k")
    assert yamlout.entry("k", node, 2) == ["  k: [[1, 2], [3, 4]]"]
    wide = "[" + ", ".join("[" + ", ".join(["0.123456789"] * 6) + "]" for _ in range(3)) + "]"
    lines = yamlout.entry("W", load_text(f"W: {wide}\n", "t").get("W"), 2)
    assert len(lines) == 3 and lines[1].startswith("      [0.123456789")  # under the inner '['
    assert lines[0].index("[[") + 1 == lines[1].index("[")
    assert plain_data(load_text("\n".join(lines) + "\n", "t").get("W")) == [["0.123456789"] * 6] * 3
