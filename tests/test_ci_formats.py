"""check's CI formats, each produced for the sample class and parsed back.

JUnit against the XSD in tests/data/junit (GitLab's shape), Gradescope's and
GitHub Classroom's JSON against their field lists, GitHub workflow commands
with a small parser written here, and the Markdown report.
"""

from __future__ import annotations

import base64
import json
import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cli_runner import invoke
from sample_class import BEN_WRONG_KEY, KEY_IDS, ben_wrong_line, make_class, make_key

xmlschema = pytest.importorskip("xmlschema")

ROOT = Path(__file__).resolve().parents[1]
XSD = ROOT / "tests" / "data" / "junit" / "junit.xsd"
FILLED = ROOT / "tests" / "data" / "filled"

GRADESCOPE_TOP = {"score", "execution_time", "output", "output_format", "visibility", "stdout_visibility",
                  "tests"}
GRADESCOPE_TEST = {"name", "number", "score", "max_score", "status", "output", "output_format", "tags",
                   "visibility"}
GRADESCOPE_VISIBILITY = {"hidden", "after_due_date", "after_published", "visible"}
CLASSROOM_TOP = {"version", "status", "max_score", "tests"}
CLASSROOM_TEST = {"name", "status", "score", "message", "filename", "line_no", "duration"}


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    base = tmp_path_factory.mktemp("class")
    key = make_key(base / "key")
    subs = make_class(base / "subs")
    old = os.getcwd()
    os.chdir(base)  # file names in the reports are relative, as a CI job gives them
    yield base, key.name, subs.name
    os.chdir(old)


def check(sample, student: str, fmt: str, *extra, code=None):
    base, key, subs = sample
    result = invoke("check", "--key", key, f"{subs}/{student}", "--format", fmt, *extra)
    if code is not None:
        assert result.exit_code == code, result.output
    return result


# ------------------------------------------------------------------ JUnit

@pytest.fixture(scope="module")
def schema():
    return xmlschema.XMLSchema(str(XSD))


def test_junit_is_valid_and_says_what_is_wrong(sample, schema):
    out = check(sample, "ben", "junit", code=1).stdout
    schema.validate(out)
    root = ET.fromstring(out)
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == KEY_IDS  # one suite per exercise of the key, missing included
    cases = {(c.get("classname"), c.get("name")): c for c in root.iter("testcase")}
    assert len(cases) == len(list(root.iter("testcase")))  # unique pairs
    wrong = cases["linear-model", BEN_WRONG_KEY]
    failure = wrong.find("failure")
    assert failure is not None and wrong.get("file") == "subs/ben/linear-model.yaml"
    text = failure.text
    assert "your answer: 2" in text and "expected: -2" in text and "mistake: sign" in text
    assert f"subs/ben/linear-model.yaml:{ben_wrong_line()}:" in text
    assert float(wrong.get("time")) >= 0
    invalid = cases["sigmoid-chain", "a1"]
    assert invalid.find("error") is not None and invalid.find("failure") is None
    assert invalid.get("file") == "subs/ben/sigmoid-answers.yaml"
    hidden = cases["linear-hidden", "dloss/dw"].find("failure").text
    assert "expected" not in hidden and "sign" not in hidden and "-2" not in hidden
    for case in root.iter("testcase"):  # fan-out is missing: each of its items a failure
        if case.get("classname") == "fan-out":
            assert case.find("failure").get("type") == "missing"
    counts = {k: sum(int(s.get(k)) for s in suites) for k in ("tests", "failures", "errors")}
    assert counts == {k: int(root.get(k)) for k in counts}


def test_junit_unusable_file_is_one_error_case(sample, schema):
    out = check(sample, "cy", "junit", code=2).stdout
    schema.validate(out)
    root = ET.fromstring(out)
    fan = [c for c in root.iter("testcase") if c.get("classname") == "fan-out"]
    assert [c.get("name") for c in fan] == ["(file)"]
    assert "not UTF-8" in fan[0].find("error").text
    notes = " ".join(e.text for e in root.iter("system-out"))
    assert "changed the exercise (given)" in notes


def test_junit_for_plain_check_of_two_copies_has_unique_pairs(schema):
    files = [FILLED / "linear-model-wrong.yaml", FILLED / "linear-model-correct.yaml"]
    out = invoke("check", *files, "--format", "junit").stdout
    schema.validate(out)
    names = [s.get("name") for s in ET.fromstring(out).findall("testsuite")]
    assert names == ["linear-model", "linear-model #2"]


def test_the_schema_refuses_what_gitlab_would_drop(schema):
    case = '<testcase classname="a" name="x"/>'
    assert schema.is_valid(f'<testsuites><testsuite name="a" tests="1">{case}</testsuite></testsuites>')
    assert not schema.is_valid(f'<testsuites><testsuite name="a" tests="2">{case}{case}</testsuite></testsuites>')
    assert not schema.is_valid('<testsuites><testsuite name="a" tests="1"><testcase name="x"/></testsuite>'
                               '</testsuites>')


@settings(max_examples=60, deadline=None)
@given(st.text())
def test_any_student_text_makes_well_formed_xml(text):
    from backprop_cli.grading.results import FileResult, ItemResult, Status
    from backprop_cli.render.junit import junit_xml

    item = ItemResult(text or "k", Status.INCORRECT, text, "1", 0.0, 1.0, feedback=text or None)
    out = junit_xml([FileResult(text or "f", "x", text, None, [item], max_score=1.0)])
    root = ET.fromstring(out.encode("utf-8"))
    assert root.find("testsuite/testcase/failure") is not None


# ------------------------------------------------------------------ Gradescope

def test_gradescope_results_follow_the_specification(sample):
    data = json.loads(check(sample, "ben", "gradescope", code=1).stdout)
    assert set(data) == GRADESCOPE_TOP
    assert data["output_format"] == "md" and data["stdout_visibility"] in GRADESCOPE_VISIBILITY
    assert data["visibility"] == "after_due_date"  # the least visible exercise decides
    for test in data["tests"]:
        assert set(test) == GRADESCOPE_TEST
        assert re.fullmatch(r"\d+\.\d+", test["number"])
        assert test["status"] in ("passed", "failed") and test["visibility"] in GRADESCOPE_VISIBILITY
        assert 0 <= test["score"] <= test["max_score"]
    assert data["score"] == pytest.approx(sum(t["score"] for t in data["tests"]))
    by_name = {t["name"]: t for t in data["tests"]}
    wrong = by_name[f"linear-model: {BEN_WRONG_KEY}"]
    assert wrong["tags"] == ["sign"] and wrong["status"] == "failed" and "`-2`" in wrong["output"]
    assert wrong["number"] == f"3.{8}"  # third exercise of the key, eighth item
    hidden = [t for t in data["tests"] if t["name"].startswith("linear-hidden")]
    assert {t["visibility"] for t in hidden} == {"after_due_date"}
    for t in hidden:
        assert t["tags"] == [] and "expected" not in t["output"] and "-2" not in t["output"]
    partial = by_name["vector-sum: dloss/dW"]
    assert partial["score"] == pytest.approx(2.25) and partial["max_score"] == 3


def test_gradescope_keeps_the_maximum_when_files_are_missing_or_unusable(sample):
    data = json.loads(check(sample, "cy", "gradescope", code=2).stdout)
    ada = json.loads(check(sample, "ada", "gradescope", code=0).stdout)
    assert sum(t["max_score"] for t in data["tests"]) == sum(t["max_score"] for t in ada["tests"])
    assert ada["score"] == sum(t["max_score"] for t in ada["tests"])
    unusable = [t for t in data["tests"] if "cannot be graded" in t["name"]]
    assert len(unusable) == 3 and all(t["score"] == 0 for t in unusable)


# ------------------------------------------------------------------ GitHub Classroom

def test_classroom_json_has_numeric_scores_and_fractions(sample):
    data = json.loads(check(sample, "ben", "classroom", code=1).stdout)
    assert set(data) == CLASSROOM_TOP and data["version"] == 1
    assert data["status"] == "fail"
    for test in data["tests"]:
        assert set(test) == CLASSROOM_TEST
        assert isinstance(test["score"], (int, float)) and not isinstance(test["score"], bool)
        assert test["status"] in ("pass", "fail", "error")
        assert isinstance(test["line_no"], int) and isinstance(test["duration"], int)
    total = sum(t["score"] for t in data["tests"])  # what the reporter adds up
    assert total == pytest.approx(0 + 7 + 7 + 10 + 3.25)  # fan-out missing, a1 invalid, 3/4 of dloss/dW
    assert data["max_score"] == 5 + 8 + 8 + 11 + 4
    scores = {t["name"]: t for t in data["tests"]}
    assert scores["vector-sum: dloss/dW"]["score"] == 2.25
    wrong = scores[f"linear-model: {BEN_WRONG_KEY}"]
    assert wrong["line_no"] == ben_wrong_line() and wrong["filename"] == "subs/ben/linear-model.yaml"
    assert scores["sigmoid-chain: a1"]["status"] == "error"


def test_classroom_base64_is_a_step_output(sample):
    plain = json.loads(check(sample, "ben", "classroom").stdout)
    line = check(sample, "ben", "classroom", "--base64").stdout
    assert line.endswith("\n") and line.count("\n") == 1
    name, _, value = line.strip().partition("=")
    assert name == "result"
    decoded = json.loads(base64.b64decode(value, validate=True))
    for test in decoded["tests"] + plain["tests"]:
        test.pop("duration")
    assert decoded == plain


def test_classroom_status_error_for_an_unusable_file(sample):
    assert json.loads(check(sample, "cy", "classroom").stdout)["status"] == "error"
    assert json.loads(check(sample, "ada", "classroom", code=0).stdout)["status"] == "pass"


def test_base64_needs_classroom(sample):
    assert check(sample, "ben", "json", "--base64").exit_code == 2


# ------------------------------------------------------------------ GitHub workflow commands

COMMAND = re.compile(r"::(?P<level>[a-z]+)(?: (?P<props>[^:]*))?::(?P<data>.*)")


def unescape(text: str) -> str:
    return re.sub("%(25|0D|0A|3A|2C)", lambda m: {"25": "%", "0D": "\r", "0A": "\n", "3A": ":",
                                                   "2C": ","}[m.group(1)], text)


def parse_commands(stdout: str) -> list[dict]:
    """Each line a workflow command: level, properties and message, unescaped.

    Lines end at LF, as the runner reads them (not at the other breaks Python knows)."""
    commands = []
    for line in stdout.removesuffix("\n").split("\n"):
        m = COMMAND.fullmatch(line)
        assert m, f"not a workflow command: {line!r}"
        props = {}
        for pair in (m.group("props") or "").split(",") if m.group("props") else []:
            name, _, value = pair.partition("=")
            props[name] = unescape(value)
        commands.append({"level": m.group("level"), **props, "message": unescape(m.group("data"))})
    return commands


def test_github_annotations_point_at_the_answer(sample, tmp_path, monkeypatch):
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    result = check(sample, "ben", "github", code=1)
    commands = parse_commands(result.stdout)
    wrong = next(c for c in commands if c.get("title") == f"linear-model: {BEN_WRONG_KEY} is incorrect")
    assert wrong["level"] == "error" and wrong["file"] == "subs/ben/linear-model.yaml"
    assert wrong["line"] == str(ben_wrong_line()) and int(wrong["col"]) > 1
    assert "expected: -2" in wrong["message"] and "\n" in wrong["message"]
    assert commands[-1]["level"] == "notice" and commands[-1]["message"].startswith("Score: ")
    assert sum(c["level"] == "error" for c in commands) <= 10
    assert sum(c["level"] == "warning" for c in commands) <= 10
    text = summary.read_text()
    assert "| exercise | file | score | status |" in text and BEN_WRONG_KEY in text


def test_github_caps_annotations_and_counts_the_rest(tmp_path):
    files = []
    for n in range(4):  # 4 files x 8 missing items: 32 warnings
        path = tmp_path / f"copy{n}.yaml"
        path.write_text((ROOT / "exercises" / "linear-model.yaml").read_text())
        files.append(path)
    commands = parse_commands(invoke("check", *files, "--format", "github").stdout)
    assert sum(c["level"] == "warning" for c in commands) == 10
    more = [c for c in commands if c.get("title") == "More answers to fix"]
    assert len(more) == 1 and "22 more warnings" in more[0]["message"]


def test_github_escapes_student_text(tmp_path):
    text = (ROOT / "exercises" / "linear-model.yaml").read_text()
    path = tmp_path / "a,b:c%.yaml"
    path.write_text(text + 'answers:\n  loss: "1 %0A\\n::error file=x::pwned, 100%"\n')
    commands = parse_commands(invoke("check", path, "--format", "github").stdout)
    loss = next(c for c in commands if c.get("title", "").startswith("linear-model: loss"))
    assert loss["file"] == str(path)
    assert "1 %0A\\n::error file=x::pwned, 100%" in loss["message"]
    assert not any(c.get("file") == "x" for c in commands)


@settings(max_examples=100, deadline=None)
@given(st.text())
def test_github_escaping_round_trips(text):
    from backprop_cli.render.github import Annotation

    line = Annotation("error", text, file=text, title=text).command()
    assert "\n" not in line and "\r" not in line
    (parsed,) = parse_commands(line)
    assert parsed["message"] == text and parsed["file"] == text and parsed["title"] == text


def test_step_summary_stays_under_a_mebibyte(sample, tmp_path, monkeypatch):
    summary = tmp_path / "summary.md"
    summary.write_text("x" * ((1 << 20) - 500))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    check(sample, "ben", "github", code=1)
    assert summary.stat().st_size < 1 << 20
    assert "cut" in summary.read_text()[-200:]


# ------------------------------------------------------------------ Markdown and --output

def test_markdown_report_has_the_table_and_each_wrong_item(sample):
    out = check(sample, "ben", "markdown", code=1).stdout
    assert "| exercise | file | score | status |" in out
    assert "| linear-model | `subs/ben/linear-model.yaml` | 7/8 |" in out
    assert f"`{BEN_WRONG_KEY}` is **incorrect**" in out and "`sign`" in out
    hidden = out[out.index("### linear-hidden"):out.index("### linear-model")]
    assert "expected" not in hidden and "sign" not in hidden


def test_markdown_escapes_student_text(tmp_path):
    text = (ROOT / "exercises" / "linear-model.yaml").read_text()
    path = tmp_path / "x.yaml"
    path.write_text(text + 'answers:\n  loss: "<script>alert(1)</script> | `x`"\n')
    out = invoke("check", path, "--format", "markdown").stdout
    outside_code = re.sub(r"(`+).+?\1", "", re.sub(r"(?s)(```+)text\n.*?\n\1", "", out))
    assert "<script>" in out and "<script>" not in outside_code  # only inside code
    row = next(line for line in out.splitlines() if line.startswith("| linear-model"))
    assert row.count(" | ") == 3


@pytest.mark.parametrize("fmt", ["text", "json", "junit", "gradescope", "classroom", "github", "markdown"])
def test_output_file_is_written_whole(sample, tmp_path, fmt):
    target = tmp_path / "out.txt"
    target.write_text("old")
    result = check(sample, "ben", fmt, "--output", target)
    assert result.exit_code == 1 and target.read_text() != "old" and len(target.read_text()) > 20
    assert result.stdout == "" and sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]
    if fmt in ("json", "gradescope", "classroom"):
        json.loads(target.read_text())


def test_output_into_a_missing_folder_is_a_clear_error(sample, tmp_path):
    result = check(sample, "ben", "json", "--output", tmp_path / "nope" / "out.json", code=2)
    assert "cannot write" in result.stderr and "Traceback" not in result.stderr


def test_output_keeps_an_existing_files_mode(sample, tmp_path):
    target = tmp_path / "results.json"
    target.write_text("{}")
    target.chmod(0o640)
    check(sample, "ada", "gradescope", "--output", target, code=0)
    assert target.stat().st_mode & 0o777 == 0o640


@settings(max_examples=80, deadline=None)
@given(st.lists(st.sampled_from(["text", "```text", "```", "<details>", "</details>", "é" * 30, ""]),
                max_size=60), st.integers(0, 400))
def test_a_cut_report_fits_and_closes_its_blocks(lines, budget):
    from backprop_cli.render.markdown_report import fit

    markdown = "\n".join(lines) + "\n"
    out = fit(markdown, budget)
    assert len(out.encode("utf-8")) <= budget
    if out != markdown and out:
        assert "cut" in out and out.count("<details>") <= out.count("</details>")
