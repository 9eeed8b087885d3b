"""A sample class for the CI-format and gradebook tests: a key and students' folders.

The key has three shipped exercises, one that hides its expected values (and is
shown on Gradescope only after the due date), and one tensor exercise with partial
credit.  Students:

- ada: every answer right, in filled-in exercise files;
- ben: a sign mistake in linear-model (its answer written on line ``BEN_WRONG_LINE``),
  an unreadable answer in an answers file for sigmoid-chain, one tensor entry wrong,
  a wrong answer to the hidden exercise; no fan-out;
- cy: changed the givens of linear-model (answers graded against the key), random
  bytes in fan-out.yaml, a YAML bomb in sigmoid-chain.yaml, a python tag in vector-sum;
- dee: an empty folder;
- eve: a FIFO and a link named like exercises, fan-out in a subfolder, an answers file
  for an exercise that is not in the key;
- ``=cmd``: a name a spreadsheet would run as a formula, with nothing in it.

Besides, SUBMISSIONS holds a stray file.
"""

from __future__ import annotations

import functools
import os
import shutil
from pathlib import Path

from backprop_cli.grading import pipeline
from backprop_cli.grading.results import SolvedKey
from backprop_cli.render.keyfile import answers_yaml

ROOT = Path(__file__).resolve().parents[1]
HOSTILE = ROOT / "tests" / "data" / "hostile"
SHIPPED = ["linear-model", "sigmoid-chain", "fan-out"]
KEY_IDS = ["fan-out", "linear-hidden", "linear-model", "sigmoid-chain", "vector-sum"]  # by file name
STUDENTS = ["=cmd", "ada", "ben", "cy", "dee", "eve"]

VECTOR_SUM = """\
backprop: 1
id: vector-sum
title: "A matrix times a vector, summed"
given:
  W: [[1, 2], [3, 4]]
  x: [1, 1]
steps:
  z: W @ x
  loss: sum(z)
ask:
  - z
  - dloss/dW
points: {dloss/dW: 3}
partial: true
"""


def _hidden_text() -> str:
    text = (ROOT / "exercises" / "linear-model.yaml").read_text()
    return (text.replace("id: linear-model", "id: linear-hidden")
            + "hide_expected: true\nvisibility: after-due-date\n")


@functools.lru_cache(maxsize=None)
def key_text(name: str) -> str:
    if name == "linear-hidden":
        return _hidden_text()
    if name == "vector-sum":
        return VECTOR_SUM
    return (ROOT / "exercises" / f"{name}.yaml").read_text()


@functools.lru_cache(maxsize=None)
def right_answers(name: str) -> tuple:
    """The key's (answer key, value) pairs, solved once per test run."""
    folder = Path(os.environ.get("TMPDIR", "/tmp"))
    path = folder / f"backprop-sample-{os.getpid()}-{name}.yaml"
    path.write_text(key_text(name))
    try:
        solved = pipeline.solve(path)
    finally:
        path.unlink()
    return tuple((s.label, s.value) for s in solved.keys)


def solved_keys(answers) -> list[SolvedKey]:
    """(key, answer) pairs as the lines an answers file is written from."""
    return [SolvedKey(key, value) for key, value in answers]


def filled(name: str, answers, text: str | None = None) -> str:
    """An exercise file with an ``answers:`` block added at the end."""
    body = "".join("  " + line + "\n" for line in answers_yaml(solved_keys(answers)).splitlines())
    text = key_text(name) if text is None else text
    return text.rstrip("\n") + "\nanswers:\n" + body


def replaced(answers, key: str, value) -> list:
    return [(k, value if k == key else v) for k, v in answers]


def make_key(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in KEY_IDS:
        (folder / f"{name}.yaml").write_text(key_text(name))
    return folder


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if line.strip().startswith(needle))


BEN_WRONG_KEY = "dloss/dw"


def make_class(folder: Path) -> Path:
    """The students' folders under ``folder``; returns it."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "README.txt").write_text("not a student\n")
    for name in STUDENTS:
        (folder / name).mkdir()
    ada = folder / "ada"
    for name in KEY_IDS:
        (ada / f"{name}.yaml").write_text(filled(name, right_answers(name)))

    ben = folder / "ben"
    linear = replaced(right_answers("linear-model"), BEN_WRONG_KEY, "2")  # -2 expected: a sign mistake
    (ben / "linear-model.yaml").write_text(filled("linear-model", linear))
    sigmoid = replaced(right_answers("sigmoid-chain"), "a1", "1/")
    (ben / "sigmoid-answers.yaml").write_text(answers_yaml(solved_keys(sigmoid), "sigmoid-chain"))
    vector = replaced(right_answers("vector-sum"), "dloss/dW", [["1", "1"], ["1", "5"]])
    (ben / "vector-sum.yaml").write_text(filled("vector-sum", vector))
    hidden = replaced(right_answers("linear-hidden"), "dloss/dw", "2")
    (ben / "linear-hidden.yaml").write_text(filled("linear-hidden", hidden))

    cy = folder / "cy"
    changed = key_text("linear-model").replace("  x: 1\n", "  x: 2\n")
    (cy / "linear-model.yaml").write_text(filled("linear-model", right_answers("linear-model"), changed))
    (cy / "fan-out.yaml").write_bytes(os.urandom(64) + b"\xff\xfe")
    shutil.copy(HOSTILE / "billion_laughs.yaml", cy / "sigmoid-chain.yaml")
    shutil.copy(HOSTILE / "tag_python_apply.yaml", cy / "vector-sum.yaml")

    eve = folder / "eve"
    os.mkfifo(eve / "linear-model.yaml")
    os.symlink("/etc/passwd", eve / "sigmoid-chain.yaml")
    (eve / "hw").mkdir()
    (eve / "hw" / "fan-out.yaml").write_text(filled("fan-out", right_answers("fan-out")))
    (eve / "other.yaml").write_text("exercise: not-in-key\nf: 1\n")
    return folder


def ben_wrong_line() -> int:
    """The line of ben's wrong linear-model answer."""
    text = filled("linear-model", replaced(right_answers("linear-model"), BEN_WRONG_KEY, "2"))
    return line_of(text, f"{BEN_WRONG_KEY}:")
