"""Per-student variants: generators, constraints, reproducible draws, tamper-evident copies.

Reproducible means the same on every machine, in every process and with every Python
version: two interpreters with different PYTHONHASHSEED write the same copy, and one
student's draw is pinned here, so that a change to the drawing algorithm shows up.
Tamper-evident means ``check --salt`` refuses a copy whose givens (or anything but its
answers) were edited, naming the given.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from cli_runner import invoke
from hypothesis import given, settings
from hypothesis import strategies as st

from backprop_cli.authoring.copies import variant
from backprop_cli.exercise.variants import Stream, plain_data, seed_of
from backprop_cli.source.yamlsrc import load_text

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "exercises" / "variants" / "linear-model.yaml"
SALT = "s3cret"


def givens(text: str) -> dict:
    return plain_data(load_text(text, "copy"))["given"]


def fill(copy: str) -> str:
    """A student's copy with the right answers written in, computed from its own values."""
    data = plain_data(load_text(copy, "copy"))
    x, y, w = (int(data["given"][n]) for n in ("x", "y", "w"))
    r = x * w - y
    answers = {"y_hat": x * w, "r": r, "loss": r * r, "dloss/dr": 2 * r, "dloss/dw": 2 * r * x}
    return re.sub(r"^  (\S+):\s+#", lambda m: f"  {m.group(1)}: {answers[m.group(1)]}  #", copy, flags=re.M)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# ------------------------------------------------------------------ reproducible


def test_a_students_draw_is_pinned():
    """The algorithm (SHA-256 seed and stream, rejection sampling) must never drift."""
    assert givens(variant(TEMPLATE, "alice", SALT)) == {"x": "5", "y": "1", "w": "2"}
    assert givens(variant(TEMPLATE, "bob", SALT)) == {"x": "2", "y": "3", "w": "-2"}
    assert seed_of("alice", "linear-model-variant", SALT).hex()[:16] == "657b3e0ae710f23d"


def test_the_same_in_another_interpreter_whatever_its_hash_seed(tmp_path):
    outputs = []
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(ROOT)}
        done = subprocess.run([sys.executable, "-m", "backprop_cli", "variant", str(TEMPLATE),
                               "--student", "alice", "--salt", SALT],
                              capture_output=True, text=True, env=env, timeout=120, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout)
    assert outputs[0] == outputs[1] == variant(TEMPLATE, "alice", SALT)


def test_students_and_salts_get_different_values():
    draws = {json.dumps(givens(variant(TEMPLATE, s, SALT))) for s in ("a", "b", "c", "d", "e")}
    assert len(draws) >= 3
    assert givens(variant(TEMPLATE, "alice", "other")) != givens(variant(TEMPLATE, "alice", SALT))


def test_the_copy_records_the_student_and_a_digest():
    data = plain_data(load_text(variant(TEMPLATE, "alice", SALT), "copy"))
    record = data["variant"]
    assert record["student"] == "alice" and re.fullmatch(r"[0-9a-f]{16}", record["digest"])
    assert record["given"] == {"x": {"int": ["2", "5"]}, "y": {"int": ["-4", "4"]},
                               "w": {"choice": ["-2", "-1", "1", "2", "3"]}}
    assert record["where"] == ["r != 0"]
    assert "tests" not in data and "where" not in data and data["id"] == "linear-model-variant"
    assert set(data["answers"]) == {"y_hat", "r", "loss", "dloss/dr", "dloss/dw"}


@settings(max_examples=100, deadline=None)
@given(st.binary(min_size=1, max_size=32), st.integers(1, 10**12))
def test_the_stream_draws_in_range_and_repeats(seed, n):
    a, b = Stream(seed), Stream(seed)
    drawn = [a.below(n) for _ in range(5)]
    assert all(0 <= k < n for k in drawn)
    assert drawn == [b.below(n) for _ in range(5)]


def test_the_stream_is_not_biased_towards_small_numbers():
    stream = Stream(b"uniform")
    counts = [0] * 3
    for _ in range(3000):
        counts[stream.below(3)] += 1
    assert all(900 < c < 1100 for c in counts), counts
    with pytest.raises(ValueError):
        stream.below(0)


# ------------------------------------------------------------------ round trip and tampering


@pytest.fixture()
def copy(tmp_path) -> Path:
    out = tmp_path / "alice.yaml"
    result = invoke("variant", TEMPLATE, "--student", "alice", "--salt", SALT, "-o", out)
    assert result.exit_code == 0, result.stderr
    return out


def test_a_variant_round_trips_through_check(copy):
    result = invoke("check", copy, "--salt", SALT)
    assert result.exit_code == 1  # unanswered, but accepted
    write(copy, fill(copy.read_text(encoding="utf-8")))
    for extra in ((), ("--salt", SALT)):
        result = invoke("check", copy, *extra)
        assert result.exit_code == 0, result.stdout + result.stderr


def test_an_edited_given_is_refused_by_name(copy, tmp_path):
    write(copy, fill(copy.read_text(encoding="utf-8")).replace("  x: 5\n", "  x: 2\n"))
    good = tmp_path / "bob.yaml"
    assert invoke("variant", TEMPLATE, "--student", "bob", "--salt", SALT, "-o", good).exit_code == 0
    result = invoke("check", copy, good, "--salt", SALT, "--format", "json")
    assert result.exit_code == 2
    tampered, other = json.loads(result.stdout)["exercises"]
    assert f"{copy}:" in tampered["error"]
    assert "given 'x' was changed: it is 2, but student 'alice''s variant has x = 5" in tampered["error"]
    assert other["error"] is None and len(other["items"]) == 5  # the other file is still graded
    # a student's own check (no salt) grades the copy as written
    assert invoke("check", copy).exit_code in (0, 1)


def test_an_edited_step_breaks_the_digest(copy):
    write(copy, copy.read_text(encoding="utf-8").replace("  loss: r**2", "  loss: r**2 + 0"))
    result = invoke("check", copy, "--salt", SALT)
    assert result.exit_code == 2
    assert "this copy was edited after it was handed out: its digest does not match" in result.stdout
    assert re.search(rf"{re.escape(str(copy))}:\d+:\d+: ", result.stdout)


def test_an_edited_record_is_refused(copy):
    text = copy.read_text(encoding="utf-8")
    write(copy, text.replace('student: "alice"', 'student: "bob"'))
    assert invoke("check", copy, "--salt", SALT).exit_code == 2
    write(copy, text.replace('where: ["r != 0"]', 'where: ["r != 0", "x > 0"]'))  # the same draws: the digest tells
    result = invoke("check", copy, "--salt", SALT)
    assert result.exit_code == 2 and "digest does not match" in result.stdout


def test_the_wrong_salt_is_refused(copy):
    result = invoke("check", copy, "--salt", "guess")
    assert result.exit_code == 2
    assert "or --salt is not the salt the variants were made with" in result.stdout


def test_without_a_salt_anyone_can_remake_the_digest(tmp_path):
    """What the docs say: an unsalted copy's digest can be recomputed by anyone."""
    copy = write(tmp_path / "a.yaml", variant(TEMPLATE, "alice"))
    assert invoke("check", copy, "--salt", "").exit_code == 1
    assert givens(variant(TEMPLATE, "alice"))["x"] == "2"


def test_check_salt_needs_a_variant():
    result = invoke("check", ROOT / "exercises" / "linear-model.yaml", "--salt", SALT)
    assert result.exit_code == 2
    assert "has no 'variant:' record" in result.stdout


def test_a_copy_is_not_a_template(copy):
    result = invoke("variant", copy, "--student", "bob")
    assert result.exit_code == 2 and "already a student's copy (for 'alice')" in result.stderr


@pytest.mark.parametrize("student", ["", "   ", "a\nb", "x" * 201])
def test_bad_student_ids(student):
    result = invoke("variant", TEMPLATE, "--student", student)
    assert result.exit_code == 2 and "--student" in result.stderr


def test_a_template_is_refused_where_values_are_needed():
    for command in (["check"], ["solve"], ["explain"], ["blank"]):
        result = invoke(*command, TEMPLATE)
        assert result.exit_code == 2, command
        assert "given 'x' is a generator (a whole number from 2 to 5): this file is a template" in \
               result.stderr + result.stdout, command


def test_a_plain_exercise_gets_a_tamper_evident_copy(tmp_path):
    copy = write(tmp_path / "c.yaml", variant(ROOT / "exercises" / "fan-out.yaml", "carol", SALT))
    assert "variant:" in copy.read_text(encoding="utf-8")
    assert invoke("check", copy, "--salt", SALT).exit_code == 1
    write(copy, copy.read_text(encoding="utf-8").replace("  y: -4", "  y: -5"))
    assert "digest does not match" in invoke("check", copy, "--salt", SALT).stdout


# ------------------------------------------------------------------ templates


HEAD = "backprop: 1\ngiven:\n"
STEPS = "steps:\n  f: x * w\n"


@pytest.mark.parametrize("givens_text,anchor,words", [
    ("  x: {int: [5, 1]}\n  w: 2\n", "[5, 1]", "range [5, 1] is empty"),
    ("  x: {int: [1.5, 3]}\n  w: 2\n", "[1.5", "'int' takes two whole numbers"),
    ("  x: {int: [1, 3], step: 2}\n  w: 2\n", "step", "unknown field 'step'"),
    ("  x: {int: [1, 3], choice: [1]}\n  w: 2\n", "choice", "has both 'int' and 'choice'"),
    ("  x: {int: [1, 3], places: 1}\n  w: 2\n", "places", "'places' goes with 'decimal'"),
    ("  x: {decimal: [0, 1], places: 9}\n  w: 2\n", "9", "places is a whole number from 0 to 6"),
    ("  x: {decimal: [0.11, 0.12], places: 1}\n  w: 2\n", "[0.11", "no decimal with 1 places"),
    ("  x: {choice: []}\n  w: 2\n", "[]", "'choice' needs a list"),
    ("  x: {choice: [1, log(0)]}\n  w: 2\n", "log(0)", "log"),
    ("  x: {int: [1, 3]}\n  w: 2\nwhere: [x]\n", "x]", "a constraint compares two expressions"),
    ("  x: {int: [1, 3]}\n  w: 2\nwhere: [x = 2]\n", "= 2", "'=' is not a comparison"),
    ("  x: {int: [1, 3]}\n  w: 2\nwhere: [y != 0]\n", "y", "unknown name 'y' in a constraint"),
    ("  x: {int: [1, 3]}\n  w: 2\nwhere: ['x < ']\n", "x < ", "an expression on each side"),
    ("  x: 1\n  w: 2\nwhere: [x != 0]\n", "[x", "no given is a generator"),
])
def test_template_errors_are_positioned(tmp_path, givens_text, anchor, words):
    path = write(tmp_path / "t.yaml", HEAD + givens_text + STEPS)
    result = invoke("validate", path)
    assert result.exit_code == 2, result.stdout
    lines = path.read_text(encoding="utf-8").splitlines()
    line = next(i for i, text in enumerate(lines, 1) if anchor in text and (i > 2))
    assert f"{path}:{line}:" in result.stderr and words in result.stderr, result.stderr


def test_unsatisfiable_constraints(tmp_path):
    path = write(tmp_path / "t.yaml", HEAD + "  x: {int: [1, 3]}\n  w: 2\n" + STEPS + "where: [\"x > 10\"]\n")
    result = invoke("validate", path)
    assert result.exit_code == 2
    assert f"{path}:7:" in result.stderr
    assert "no variant for student 'sample-1' met the constraints and was defined in 100 draws" in result.stderr
    result = invoke("variant", path, "--student", "alice")
    assert result.exit_code == 2 and "no variant for student 'alice'" in result.stderr


def test_draws_outside_the_domain_are_redrawn(tmp_path):
    """log(x) at x = 0 is undefined: such a draw is not a variant; the others are."""
    path = write(tmp_path / "t.yaml", HEAD + "  x: {int: [0, 1]}\n  w: 2\nsteps:\n  f: log(x + 0) * w\n")
    copy = variant(path, "anyone")
    assert givens(copy)["x"] == "1"
    only_zero = write(tmp_path / "z.yaml", HEAD + "  x: {choice: [0]}\n  w: 2\nsteps:\n  f: log(x) * w\n")
    result = invoke("variant", only_zero, "--student", "anyone")
    assert result.exit_code == 2
    assert "the last undefined draw: log is only defined for positive numbers" in result.stderr


def test_constraints_see_steps_and_every_entry(tmp_path):
    path = write(tmp_path / "t.yaml", HEAD + "  W: {choice: [[[1, -1], [0, 2]], [[1, 2], [3, 4]]]}\n"
                 "  x: [1, 1]\nsteps:\n  h: relu(W @ x)\n  f: sum(h)\nwhere: [\"W @ x != 0\", \"0 < h\"]\n")
    for student in ("a", "b", "c", "d"):
        assert givens(variant(path, student))["W"] == [["1", "2"], ["3", "4"]]


def test_validate_samples_variants_and_reports_kinks(tmp_path):
    path = write(tmp_path / "t.yaml", HEAD + "  x: {int: [-1, 1]}\n  w: 2\nsteps:\n  h: relu(x*w)\n  f: h + w\n"
                 "ask: [df/dw]\n")
    result = invoke("validate", "--format", "json", path)
    assert result.exit_code == 0, result.stdout
    file = json.loads(result.stdout)["files"][0]
    assert file["sampled_variants"] == 8
    kink = next(w for w in file["warnings"] if w["code"] == "kink")
    assert re.search(r"\(in [1-8] of 8 sampled variants, e\.g\. the variant drawn for 'sample-\d': x = 0\)",
                     kink["message"]), kink


def test_question_tests_run_on_every_sampled_variant(tmp_path):
    text = TEMPLATE.read_text(encoding="utf-8").replace(
        "answers: {dloss/dw: \"2*x*(y - x*w)\"}", "answers: {dloss/dw: -10}")
    path = write(tmp_path / "t.yaml", text)
    result = invoke("validate", path)
    assert result.exit_code == 2
    assert "question test 'residual the wrong way round' does not hold" in result.stderr
    assert re.search(r"\(in [1-8] of 8 sampled variants, e\.g\. the variant drawn for 'sample-\d': x = \d, y = "
                     r"-?\d, w = -?\d\)", result.stderr)


def test_the_shipped_template_validates_cleanly():
    result = invoke("validate", "--strict", TEMPLATE)
    assert result.exit_code == 0, result.stderr
    assert "4 question tests pass; 8 sampled variants" in result.stdout


def test_drawing_is_bounded_in_time():
    from dataclasses import replace

    from backprop_cli.exercise.load import builder
    from backprop_cli.exercise.variants import Unsatisfied, draw, read_template
    from backprop_cli.source.limits import DEFAULT
    from backprop_cli.source.yamlsrc import load_file

    limits = replace(DEFAULT, load_seconds=0)
    template = read_template(load_file(TEMPLATE))
    with pytest.raises(Unsatisfied) as err:
        draw(template, "alice", "linear-model-variant", SALT, builder(str(TEMPLATE), "t", limits), limits)
    assert "no variant for student 'alice' was found in 0 s (0 draws)" in str(err.value)
