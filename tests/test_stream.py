"""JSON written as a stream: the same bytes as the document encoded whole, on screen and in a file."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backprop_cli.grading import pipeline
from backprop_cli.render.jsonout import check_document, dumps, pieces
from cli_runner import invoke

ROOT = Path(__file__).resolve().parents[1]
FILLED = ROOT / "tests" / "data" / "filled"
FILES = [FILLED / "linear-model-wrong.yaml", FILLED / "linear-model-correct.yaml",
         ROOT / "tests" / "data" / "broken" / "bad_id.yaml"] * 40  # about 200 kB of JSON


def untimed(text: str) -> str:
    """Without the seconds grading took (execution_time, duration, time), which differ run to run."""
    return re.sub(r'"(execution_time|time|duration)": [0-9.e-]+', '"time": 0', text)


def test_pieces_join_to_the_whole_document():
    document = {"file": "caf\udcc3.yaml", "score": float("nan"), "items": [{"key": "é", "x": [1, 2.5]}],
                "nested": {"a": None, "b": True, "c": "\x1b[31m"}}
    whole = "".join(pieces(document))
    assert whole == dumps(document)
    assert json.loads(whole)["score"] is None and json.loads(whole)["file"] == "caf\\udcc3.yaml"


@pytest.mark.parametrize("fmt", ["json", "gradescope", "classroom"])
def test_printed_and_written_json_are_the_document(tmp_path, fmt):
    printed = invoke("check", "--format", fmt, *FILES, code=2).stdout
    out = tmp_path / "out.json"
    invoke("check", "--format", fmt, "--output", out, *FILES, code=2)
    written = out.read_text(encoding="utf-8")
    assert untimed(printed) == untimed(written) + "\n"
    assert len(written) > 1 << 16  # more than one piece is printed
    data = json.loads(written)
    if fmt == "json":
        results = pipeline.check([str(f) for f in FILES], bounded=False).results
        assert written == dumps(check_document(results))
        assert len(data["exercises"]) == len(FILES)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
    | st.sampled_from(["\ud800", "a\udcffb", "\x1b[31m", 'quo"te', "back\\slash", "line\nbreak", "é\u2028"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(json_values, st.integers(0, 3))
def test_an_exercise_is_written_as_the_standard_encoder_writes_it(value, level):
    from backprop_cli.render.jsonout import _text

    expected = dumps(value).replace("\n", "\n" + "  " * level)
    assert _text(value, level) == expected


def test_check_pieces_are_the_document(tmp_path):
    from backprop_cli.render.jsonout import check_pieces

    results = pipeline.check([str(f) for f in FILES[:6]], bounded=False).results
    notes = ["a note", "caf\udcc3"]
    assert "".join(check_pieces(results, notes)) == dumps(check_document(results, notes))
    assert "".join(check_pieces([], None)) == dumps(check_document([], None))
