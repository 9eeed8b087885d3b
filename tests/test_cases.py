"""Whole outputs as cases: one file per case in tests/data/cases, found by listing the folder.

A case file holds the command's arguments and expected exit code, optionally an input
file, and the expected output (as black's tests/data/cases do)::

    # args: check linear-model.yaml
    # exit: 1
    --- input linear-model.yaml
    backprop: 1
    ...
    --- output
    linear-model.yaml — Linear model with a squared loss
    ...

``{exercises}`` in the arguments is the shipped exercises folder; the command runs in a
temporary folder holding the input.  Adding a case is adding a file.  After an intended
change, regenerate with ``BACKPROP_UPDATE_GOLDEN=1 python -m pytest tests/test_cases.py``
and read the diff before committing it.
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass
from pathlib import Path

import pytest

from cli_runner import invoke

ROOT = Path(__file__).resolve().parent.parent
CASES = Path(__file__).resolve().parent / "data" / "cases"
OUTPUT = "--- output\n"
INPUT = "--- input "


@dataclass
class Case:
    path: Path
    args: list[str]
    exit: int
    input_name: str | None
    input_text: str | None
    output: str

    @classmethod
    def read(cls, path: Path) -> "Case":
        text = path.read_text(encoding="utf-8")
        head, sep, output = text.partition("\n" + OUTPUT)
        assert sep, f"{path.name}: no '{OUTPUT.strip()}' line"
        header, _, body = head.partition("\n" + INPUT)
        fields = dict(line[2:].split(": ", 1) for line in header.splitlines() if line.startswith("# "))
        name, text_in = (body.split("\n", 1) + [""])[:2] if body else (None, None)
        return cls(path, shlex.split(fields["args"]), int(fields["exit"]), name,
                   None if text_in is None else text_in + "\n", output)

    def write_output(self, output: str) -> None:
        text = self.path.read_text(encoding="utf-8")
        self.path.write_text(text[: text.index("\n" + OUTPUT) + 1] + OUTPUT + output, encoding="utf-8")


@pytest.mark.parametrize("path", sorted(CASES.glob("*.case")), ids=lambda p: p.stem)
def test_case(path, tmp_path, monkeypatch):
    case = Case.read(path)
    monkeypatch.chdir(tmp_path)
    if case.input_name is not None:
        (tmp_path / case.input_name).write_text(case.input_text, encoding="utf-8")
    args = [a.replace("{exercises}", str(ROOT / "exercises")) for a in case.args]
    result = invoke(*args)
    if os.environ.get("BACKPROP_UPDATE_GOLDEN"):
        case.write_output(result.stdout)
    assert result.exit_code == case.exit, f"{path.name}: exit {result.exit_code}\n{result.output}"
    assert result.stdout == case.output


def test_there_are_cases():
    assert len(list(CASES.glob("*.case"))) >= 8
