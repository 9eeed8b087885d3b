"""``backprop schema``: the JSON Schema of the exercise format (draft 2020-12).

Files are read as JSON-like data by ``yaml12`` (YAML 1.2 JSON-schema resolution over
backprop's own loader), so a YAML 1.1 trap (``yes``, ``010``) reaches the schema as the
text it is, not as PyYAML's guess.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml12
from cli_runner import invoke

from backprop_cli.autodiff.graph import RESERVED
from backprop_cli.authoring.copies import blank, variant
from backprop_cli.authoring.questiontests import DIAGNOSES
from backprop_cli.authoring.schema import schema, schema_text
from backprop_cli.source.errors import BackpropError

ROOT = Path(__file__).resolve().parents[1]
EXERCISES = sorted((ROOT / "exercises").glob("**/*.yaml"))
BROKEN = ROOT / "tests" / "data" / "broken"
# Broken files whose mistake is in the structure, which the schema must refuse.
SCHEMA_LEVEL = {
    "answers_not_mapping.yaml", "bad_id.yaml", "empty_steps.yaml", "given_leading_zero.yaml",
    "given_mapping.yaml", "hide_expected_yes.yaml", "missing_version.yaml", "negative_tolerance.yaml",
    "step_named_like_function.yaml", "steps_list.yaml", "unknown_top_key.yaml", "wrong_version.yaml",
}
# Broken files that are not YAML backprop reads at all (syntax, duplicate keys, aliases).
NOT_READABLE = {"bad_yaml_syntax.yaml", "duplicate_key.yaml", "unclosed_flow_sequence.yaml", "yaml_alias.yaml"}


@pytest.fixture(scope="module")
def validator():
    return jsonschema.Draft202012Validator(schema())


def errors(validator, data) -> list[str]:
    return [e.message for e in validator.iter_errors(data)]


def test_schema_command_prints_the_shipped_schema():
    result = invoke("schema")
    assert result.exit_code == 0
    printed = json.loads(result.stdout)
    assert printed == schema()
    assert printed["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(printed)


def test_the_schema_is_package_data():
    config = (ROOT / "pyproject.toml").read_text(encoding="utf-8")  # (tomllib is Python 3.11+)
    assert re.search(r'^\[tool\.setuptools\.package-data\]\n"backprop_cli\.authoring" = \["\*\.json"\]$', config, re.M)
    assert re.search(r'^test = \[.*"jsonschema[^"]*".*\]$', config, re.M)
    assert schema_text().endswith("\n")


@pytest.mark.parametrize("path", EXERCISES, ids=lambda p: p.relative_to(ROOT / "exercises").as_posix())
def test_every_shipped_exercise_validates(validator, path):
    assert errors(validator, yaml12.load(path)) == []


@pytest.mark.parametrize("path", sorted(BROKEN.glob("*.yaml")), ids=lambda p: p.stem)
def test_broken_files(validator, path):
    if path.name in NOT_READABLE:
        with pytest.raises(BackpropError):
            yaml12.load(path)
        return
    found = errors(validator, yaml12.load(path))
    if path.name in SCHEMA_LEVEL:
        assert found, f"{path.name} should fail the schema"
    else:
        assert found == [], f"{path.name} is a mistake beyond the schema, which should accept it: {found}"


def test_every_broken_file_is_classified():
    names = {p.name for p in BROKEN.glob("*.yaml")}
    assert SCHEMA_LEVEL | NOT_READABLE <= names


def test_students_copies_validate(validator):
    assert errors(validator, yaml12.loads(blank(ROOT / "exercises" / "mlp-2-3-3-1.yaml"))) == []
    copy = variant(ROOT / "exercises" / "variants" / "linear-model.yaml", "12345", "salt")
    assert errors(validator, yaml12.loads(copy)) == []


BASE = "backprop: 1\ngiven:\n  x: 2\n  w: 3\nsteps:\n  f: x * w\n"


@pytest.mark.parametrize("extra", [
    "hide_expected: yes\n", "hide_expected: on\n", "partial: no\n",
    "tolerance: {rel: yes}\n", "answers: {f: 010}\n", "answers: {f: off}\n",
    "upstream: {L: 0o17}\n", "upstream: {L: Y}\n",
], ids=["hide-yes", "hide-on", "partial-no", "tolerance-yes", "answer-octal", "answer-off",
        "upstream-0o", "upstream-Y"])
def test_yaml_11_traps_do_not_slip_through(validator, extra):
    assert errors(validator, yaml12.loads(BASE + extra))


@pytest.mark.parametrize("given", ["yes", "010", "-007", "NO", "0x1F"])
def test_a_given_that_yaml_11_misreads_is_refused(validator, given, tmp_path):
    """By the schema, and by the tool itself."""
    text = BASE.replace("x: 2", f"x: {given}")
    assert errors(validator, yaml12.loads(text))
    path = tmp_path / "trap.yaml"
    path.write_text(text, encoding="utf-8")
    result = invoke("validate", path)
    assert result.exit_code == 2 and f"{path}:3:" in result.stderr, result.stderr


@pytest.mark.parametrize("given", ["2", "-0.5", "1e-3", '"3/2"', "3/2", "sqrt(2)", "[5, 7]", "[[1, 2], [3, 4]]",
                                   "{int: [1, 5]}", "{choice: [1, [1, 2]]}", "{decimal: [-1, 1], places: 2}"])
def test_good_givens_pass(validator, given):
    assert errors(validator, yaml12.loads(BASE.replace("x: 2", f"x: {given}"))) == []


@pytest.mark.parametrize("given", ["{int: [1.5, 5]}", "{int: [1]}", "{int: [1, 2], places: 1}",
                                   "{decimal: [0, 1], places: 9}", "{choice: []}", "{value: 1}"])
def test_bad_generators_fail(validator, given):
    assert errors(validator, yaml12.loads(BASE.replace("x: 2", f"x: {given}")))


def test_question_tests_are_described(validator):
    good = BASE + ("tests:\n  - name: t\n    answers: {df/dx: 3}\n"
                   "    expect: {df/dx: {status: incorrect, diagnosis: missing-factor}}\n"
                   "  - answers: key\n    expect: all-correct\n")
    assert errors(validator, yaml12.loads(good)) == []
    for bad in ("    expect: {df/dx: {status: wrong}}\n", "    expect: {df/dx: {status: incorrect, diagnosis: typo}}\n",
                "    expect: everything\n"):
        text = BASE + "tests:\n  - answers: {df/dx: 3}\n" + bad
        assert errors(validator, yaml12.loads(text)), bad


def test_the_schema_knows_the_language():
    """Reserved names and diagnosis codes are the ones the tool uses."""
    defs = schema()["$defs"]
    assert set(defs["name"]["not"]["enum"]) == set(RESERVED)
    assert set(defs["expectation"]["anyOf"][1]["properties"]["diagnosis"]["anyOf"][0]["enum"]) == set(DIAGNOSES)
    assert set(schema()["properties"]) >= {"backprop", "given", "steps", "ask", "tests", "where", "variant"}
