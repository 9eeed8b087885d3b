"""Broken exercise files: each is refused with exit 2 and ``FILE:line:col: what is wrong``.

One small file per case in tests/data/broken/.  Lines and columns are 1-based and
were counted by hand on the files: they point at the culprit (the key, the value,
or the character inside an expression), not merely somewhere near it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli_runner import invoke

BROKEN = Path(__file__).resolve().parent / "data" / "broken"

# file, line, column, substrings of the message (or hint)
CASES = [
    ("bad_yaml_syntax.yaml", 5, 7, ["invalid YAML", "mapping values are not allowed"]),
    ("unclosed_flow_sequence.yaml", 3, 6, ["invalid YAML", "'[' is never closed"]),  # where it opened
    ("duplicate_key.yaml", 4, 3, ["duplicate key 'x'", "line 3"]),
    ("yaml_alias.yaml", 3, 6, ["aliases are not allowed"]),
    ("missing_version.yaml", 1, 1, ["backprop: 1"]),
    ("wrong_version.yaml", 1, 11, ["version", "'2'"]),
    ("unknown_top_key.yaml", 6, 1, ["unknown key 'tolerence'", "did you mean 'tolerance'"]),
    ("unknown_name.yaml", 6, 10, ["unknown name 'wieght'", "did you mean 'weight'"]),
    ("used_before_defined.yaml", 5, 6, ["'g'", "before it is defined"]),
    ("self_reference.yaml", 5, 10, ["'f'", "itself"]),
    ("expression_syntax.yaml", 7, 9, ["'(' was never closed"]),
    ("quoted_expression_syntax.yaml", 5, 11, ["'(' was never closed"]),
    ("implicit_multiplication.yaml", 5, 7, ["missing operator", "2*x"]),
    ("unknown_function.yaml", 7, 6, ["unknown function 'sigma'", "did you mean 'sigmoid'"]),
    ("unknown_ask_key.yaml", 9, 5, ["df/dz", "'z' is not a given or a step"]),
    ("ask_of_non_step.yaml", 8, 5, ["dx/dw", "'x' is not a step"]),
    ("log_zero.yaml", 6, 9, ["log", "positive", "step 'loss'"]),
    ("division_by_zero.yaml", 5, 10, ["division by zero", "step 'f'"]),
    ("sqrt_negative.yaml", 5, 10, ["sqrt", "negative", "step 'f'"]),
    ("given_mapping.yaml", 4, 5, ["given 'x'", "not a mapping"]),
    ("hide_expected_yes.yaml", 6, 16, ["hide_expected must be true or false", "YAML 1.1"]),
    ("given_leading_zero.yaml", 3, 6, ["leading zero", "octal"]),
    ("empty_steps.yaml", 4, 8, ["'steps' is empty"]),
    ("steps_list.yaml", 5, 3, ["'steps' must be a mapping"]),
    ("step_named_like_function.yaml", 5, 3, ["'exp'", "built-in function"]),
    ("given_and_step_same_name.yaml", 6, 3, ["'f' is defined twice", "line 4"]),
    ("points_not_asked.yaml", 10, 3, ["points for 'df/dx'", "not asked"]),
    ("negative_tolerance.yaml", 7, 8, ["tolerance cannot be negative"]),
    ("tensor_ragged.yaml", 3, 15, ["row 2 has 1 entries", "row 1 has 2"]),
    ("shape_mismatch.yaml", 6, 6, ["2x1", "3x1", "broadcast", "step 'z'"]),
    ("matmul_mismatch.yaml", 6, 6, ["2x2", "3x1", "step 'z'"]),
    ("gradient_of_tensor.yaml", 9, 5, ["dz/dx", "2x1", "single number"]),
    ("output_not_step.yaml", 6, 9, ["output 'x' is not a step"]),
    ("answers_not_mapping.yaml", 6, 10, ["'answers' must be a mapping"]),
    ("bad_id.yaml", 2, 5, ["id 'Linear Model'", "a-z"]),
]


run = invoke


def shown(result) -> str:
    return (f"--- exit {result.exit_code}\n--- stdout:\n{result.stdout}\n"
            f"--- stderr:\n{result.stderr}")


def test_every_broken_file_has_a_case():
    assert sorted(p.name for p in BROKEN.glob("*.yaml")) == sorted(c[0] for c in CASES)


@pytest.mark.parametrize("name,line,col,fragments", CASES, ids=[c[0][:-5] for c in CASES])
def test_validate_reports_the_location(name, line, col, fragments):
    path = BROKEN / name
    result = run("validate", path)
    assert result.exit_code == 2, shown(result)
    first = result.stderr.splitlines()[0] if result.stderr else ""
    assert first.startswith(f"{path}:{line}:{col}: "), shown(result)
    for fragment in fragments:
        assert fragment in result.stderr, shown(result)
    assert ": ok" not in result.stdout


@pytest.mark.parametrize("name,line,col,fragments", CASES, ids=[c[0][:-5] for c in CASES])
def test_check_reports_the_same_location(name, line, col, fragments):
    path = BROKEN / name
    result = run("check", path)
    assert result.exit_code == 2, shown(result)
    assert f"{path}:{line}:{col}: " in result.output, shown(result)
    if name.startswith("answers_"):  # the exercise part is readable: its points count, scored 0
        assert "Score: 0/" in result.output, shown(result)
    else:
        assert "Score" not in result.output
    result = run("check", path, "--format", "json")
    assert result.exit_code == 2, shown(result)
    exercise = json.loads(result.stdout)["exercises"][0]
    assert exercise["error"].startswith(f"{path}:{line}:{col}: "), exercise["error"]
    assert exercise["items"] == []


@pytest.mark.parametrize("name,line,col,fragments", CASES[:6], ids=[c[0][:-5] for c in CASES[:6]])
def test_solve_and_explain_refuse_too(name, line, col, fragments):
    path = BROKEN / name
    for command in ("solve", "explain"):
        result = run(command, path)
        assert result.exit_code == 2, shown(result)
        assert f"{path}:{line}:{col}: " in result.stderr, shown(result)


def test_the_caret_sits_under_the_culprit():
    path = BROKEN / "expression_syntax.yaml"
    lines = run("validate", path).stderr.splitlines()
    source, caret = lines[1], lines[2]
    assert source.strip() == "loss: (r**2"
    assert source[caret.index("^")] == "("


def test_validate_reports_every_file():
    paths = sorted(BROKEN.glob("*.yaml"))
    result = run("validate", *paths)
    assert result.exit_code == 2
    for name, line, col, _ in CASES:
        assert f"{BROKEN / name}:{line}:{col}: " in result.stderr, name


def test_validate_reports_every_problem_in_one_file(tmp_path):
    path = tmp_path / "many.yaml"
    path.write_text("backprop: 1\ngiven:\n  x: 1\nsteps:\n  f: x * wieght\n"
                    "tolerence:\n  rel: 0.01\nhide_expected: yes\n", encoding="utf-8")
    result = run("validate", path)
    assert result.exit_code == 2
    for where in (f"{path}:5:10: ", f"{path}:6:1: ", f"{path}:8:16: "):
        assert where in result.stderr, shown(result)


@pytest.mark.parametrize("text,line,col", [
    ('backprop: 1\ngiven:\n  x: "log(0)"\nsteps:\n  f: x * 2\n', 3, 7),
    ("backprop: 1\ngiven:\n  x: 1\nsteps:\n  f: x * 2\nupstream:\n  L: 1/0\n", 7, 6),
], ids=["given", "upstream"])
def test_value_errors_name_no_phantom_step(tmp_path, text, line, col):
    """A given or an upstream value is not a step: no "(in step '=', ...)" in the message."""
    path = tmp_path / "value.yaml"
    path.write_text(text, encoding="utf-8")
    result = run("validate", path)
    assert result.exit_code == 2, shown(result)
    assert result.stderr.startswith(f"{path}:{line}:{col}: "), shown(result)
    assert "step '='" not in result.stderr, shown(result)
