"""``backprop grade``: a whole class, the gradebook's formats, workers, and hostile folders."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cli_runner import invoke
from sample_class import BEN_WRONG_KEY, KEY_IDS, STUDENTS, make_class, make_key

ROOT = Path(__file__).resolve().parents[1]
MAX = {"fan-out": 5, "linear-hidden": 8, "linear-model": 8, "sigmoid-chain": 11, "vector-sum": 4}
EXPECTED = {  # student -> exercise -> (status, score)
    "=cmd": {k: ("missing", 0) for k in KEY_IDS},
    "ada": {k: ("graded", MAX[k]) for k in KEY_IDS},
    "ben": {"fan-out": ("missing", 0), "linear-hidden": ("graded", 7), "linear-model": ("graded", 7),
            "sigmoid-chain": ("graded", 10), "vector-sum": ("graded", 3.25)},
    "cy": {"fan-out": ("unreadable", 0), "linear-hidden": ("missing", 0), "linear-model": ("graded", 8),
           "sigmoid-chain": ("unreadable", 0), "vector-sum": ("unreadable", 0)},
    "dee": {k: ("missing", 0) for k in KEY_IDS},
    "eve": {"fan-out": ("graded", 5), "linear-hidden": ("missing", 0), "linear-model": ("missing", 0),
            "sigmoid-chain": ("missing", 0), "vector-sum": ("missing", 0)},
}


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    base = tmp_path_factory.mktemp("class")
    return make_key(base / "key"), make_class(base / "subs")


def grade(sample, *args, code=0):
    key, subs = sample
    result = invoke("grade", key, subs, *args)
    assert result.exit_code == code, result.output
    return result


@pytest.fixture(scope="module")
def book(sample):
    return json.loads(grade(sample, "--format", "json", "--jobs", "1").stdout)


def test_every_student_gets_every_exercise(book):
    assert book["version"] == 1 and book["max_score"] == sum(MAX.values())
    assert [s["student"] for s in book["students"]] == STUDENTS
    for student in book["students"]:
        assert student["max_score"] == book["max_score"]  # the maximum never shrinks
        got = {e["id"]: (e["status"], e["score"]) for e in student["exercises"]}
        assert got == EXPECTED[student["student"]], student["student"]
        assert student["score"] == pytest.approx(sum(e["score"] for e in student["exercises"]))
        for e in student["exercises"]:
            assert e["max_score"] == MAX[e["id"]]
            if e["status"] != "unreadable":
                assert sum(i["max_points"] for i in e["items"]) == MAX[e["id"]]
                assert all({"key", "status", "diagnosis", "points"} <= set(i) for i in e["items"])


def by(book, student: str, exercise: str) -> dict:
    s = next(s for s in book["students"] if s["student"] == student)
    return next(e for e in s["exercises"] if e["id"] == exercise)


def test_items_carry_status_diagnosis_and_points(book):
    items = {i["key"]: i for i in by(book, "ben", "linear-model")["items"]}
    assert items[BEN_WRONG_KEY] == {"key": BEN_WRONG_KEY, "status": "incorrect", "diagnosis": "sign",
                                    "points": 0.0, "max_points": 1.0}
    assert {i["key"]: i["status"] for i in by(book, "ben", "sigmoid-chain")["items"]}["a1"] == "invalid"
    # the teacher's gradebook names the mistake even where students are not told it
    hidden = {i["key"]: i for i in by(book, "ben", "linear-hidden")["items"]}
    assert hidden["dloss/dw"]["diagnosis"] == "sign"


def test_notes_say_what_happened(book):
    cy = by(book, "cy", "linear-model")
    assert any("changed the exercise (given)" in n for n in cy["notes"])
    assert "not UTF-8" in by(book, "cy", "fan-out")["error"]
    assert "alias" in by(book, "cy", "sigmoid-chain")["error"].lower()
    assert "tag" in by(book, "cy", "vector-sum")["error"].lower()
    eve = next(s for s in book["students"] if s["student"] == "eve")
    notes = "\n".join(eve["notes"])
    assert "eve/linear-model.yaml: not a regular file" in notes
    assert "eve/sigmoid-chain.yaml: a link, not read" in notes
    assert "eve/other.yaml" in notes and "not-in-key" in notes
    assert by(book, "eve", "fan-out")["file"] == "eve/hw/fan-out.yaml"
    assert any("README.txt" in n for n in book["notes"])


def test_csv_gradebook(sample):
    text = grade(sample, "--format", "csv", "--jobs", "1").stdout
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["student", *KEY_IDS, "total", "max"]
    assert [r[0] for r in rows[1:]] == ["'=cmd", *STUDENTS[1:]]  # no formula for a spreadsheet
    ben = rows[STUDENTS.index("ben") + 1]
    assert ben[1:] == ["0", "7", "7", "10", "3.25", "27.25", "36"]
    assert all(r[-1] == "36" for r in rows[1:])


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_the_same_bytes_for_any_number_of_workers(sample, fmt):
    outputs = {jobs: grade(sample, "--format", fmt, "--jobs", jobs).stdout for jobs in (1, 2, 3)}
    assert outputs[1] == outputs[2] == outputs[3]


def test_text_shows_scores_mistakes_and_problems(sample):
    out = grade(sample, "--jobs", "2").stdout
    assert "Gradebook" in out and "unreadable" in out and "missing" in out
    table = out[out.index("Named mistakes"):]
    line = next(l for l in table.splitlines() if "linear-model" in l)
    assert "sign" in line and line.split()[-1] == "1"
    assert "Files that could not be used" in out and "cy: fan-out:" in out


def test_markdown_and_junit_gradebooks(sample):
    md = grade(sample, "--format", "markdown").stdout
    assert "| ben | missing | 7 | 7 | 10 | 3.25 | 27.25 | 36 |" in md
    assert "| linear-model | sign | 1 |" in md
    xml = grade(sample, "--format", "junit").stdout
    xmlschema = pytest.importorskip("xmlschema")
    xmlschema.XMLSchema(str(ROOT / "tests" / "data" / "junit" / "junit.xsd")).validate(xml)
    assert 'classname="ben/linear-model"' in xml


def test_report_dir_has_each_students_own_report(sample, tmp_path):
    reports = tmp_path / "reports"
    grade(sample, "--format", "csv", "--report-dir", reports)
    names = sorted(p.name for p in reports.iterdir())
    assert names == sorted(f"{s}.md" for s in STUDENTS)
    ben = (reports / "ben.md").read_text()
    assert "Report for ben" in ben and f"`{BEN_WRONG_KEY}` is **incorrect**" in ben
    hidden = ben[ben.index("### linear-hidden"):ben.index("### linear-model")]
    assert "expected" not in hidden and "sign" not in hidden  # the student's view hides them
    assert "changed the exercise" in (reports / "cy.md").read_text()


def test_output_file(sample, tmp_path):
    target = tmp_path / "book.csv"
    result = grade(sample, "--format", "csv", "--output", target)
    assert result.stdout == "" and target.read_text().startswith("student,")


def test_unusable_key_or_submissions_exit_2(sample, tmp_path):
    key, subs = sample
    assert "no such folder" in invoke("grade", tmp_path / "nokey", subs).stderr
    assert invoke("grade", tmp_path / "nokey", subs).exit_code == 2
    assert invoke("grade", key, tmp_path / "nosubs").exit_code == 2
    empty = tmp_path / "empty"
    empty.mkdir()
    assert invoke("grade", empty, subs).exit_code == 2
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "a.yaml").write_text((ROOT / "tests" / "data" / "broken" / "unknown_name.yaml").read_text())
    (broken / "b.yaml").write_text((ROOT / "tests" / "data" / "broken" / "bad_yaml_syntax.yaml").read_text())
    result = invoke("grade", broken, subs)
    assert result.exit_code == 2 and "a.yaml:" in result.stderr and "b.yaml:" in result.stderr
    twice = tmp_path / "twice"
    twice.mkdir()
    for name in ("one.yaml", "two.yaml"):
        (twice / name).write_text((ROOT / "exercises" / "fan-out.yaml").read_text())
    result = invoke("grade", twice, subs)
    assert result.exit_code == 2 and "a second exercise with id 'fan-out'" in result.stderr


def test_empty_submissions_folder(sample, tmp_path):
    key, _ = sample
    empty = tmp_path / "nobody"
    empty.mkdir()
    result = invoke("grade", key, empty, "--format", "csv")
    assert result.exit_code == 0 and result.stdout == "student," + ",".join(KEY_IDS) + ",total,max\n"
    assert "No student folders" in invoke("grade", key, empty).stdout


def test_a_single_exercise_file_as_key(sample, tmp_path):
    _, subs = sample
    out = invoke("grade", ROOT / "exercises" / "fan-out.yaml", subs, "--format", "csv").stdout
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["student", "fan-out", "total", "max"]
    assert dict((r[0], r[1]) for r in rows[1:])["eve"] == "5"


def test_hostile_corpus_as_a_students_files(sample, tmp_path):
    """Every hostile file of the corpus, under every exercise's name: no crash, nothing scored."""
    key, _ = sample
    subs = tmp_path / "subs"
    hostile = sorted((ROOT / "tests" / "data" / "hostile").iterdir())
    for n, path in enumerate(hostile):
        folder = subs / f"s{n:02d}"
        folder.mkdir(parents=True)
        for name in KEY_IDS:
            (folder / f"{name}.yaml").write_bytes(path.read_bytes())
    result = invoke("grade", key, subs, "--format", "json", "--jobs", "2")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert len(data["students"]) == len(hostile)
    for student in data["students"]:
        assert student["max_score"] == sum(MAX.values())
        for e in student["exercises"]:
            assert e["status"] in ("graded", "unreadable", "missing")
            assert e["score"] <= e["max_score"]


def test_each_exercise_is_derived_once(sample, tmp_path):
    """Solutions are built once per exercise of the key, not once per submission, with workers too."""
    key, subs = sample
    log = tmp_path / "solutions.log"
    script = f"""
import sys
from backprop_cli.grading import solver
real = solver.Solution.__init__
def counting(self, exercise):
    with open({str(log)!r}, "a") as f:
        f.write(exercise.id + "\\n")
    real(self, exercise)
solver.Solution.__init__ = counting
from backprop_cli.grading.classrun import grade_class
book = grade_class({str(key)!r}, {str(subs)!r}, jobs=int(sys.argv[1]))
print(len(book.students))
"""
    for jobs in ("1", "2"):
        log.write_text("")
        run = subprocess.run([sys.executable, "-c", script, jobs], capture_output=True, text=True,
                             env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}, timeout=300)
        assert run.returncode == 0, run.stderr
        assert run.stdout.strip() == str(len(STUDENTS))
        assert sorted(log.read_text().split()) == sorted(KEY_IDS)


def test_progress_bar_only_on_a_terminal_and_after_a_second():
    from rich.console import Console

    from backprop_cli.cli.grade import _ProgressBar

    now = [0.0]
    terminal = Console(file=io.StringIO(), force_terminal=True, width=80)
    with _ProgressBar(terminal, clock=lambda: now[0]) as progress:
        progress(1, 10)  # a quick start: no bar yet
        assert progress.bar is None
        now[0] = 1.5
        progress(2, 10)
        assert progress.bar is not None and progress.bar.tasks[0].completed == 2
        assert progress.bar.tasks[0].total == 10
    piped = Console(file=io.StringIO(), force_terminal=False)
    with _ProgressBar(piped, clock=lambda: now[0]) as progress:
        assert progress is None  # nothing to call back when output is not a terminal


def test_html_reports_draw_the_graph_and_hide_what_is_hidden(sample, tmp_path):
    reports = tmp_path / "html"
    grade(sample, "--format", "csv", "--report-dir", reports, "--report-format", "html")
    assert sorted(p.name for p in reports.iterdir()) == sorted(f"{s}.html" for s in STUDENTS)
    page = (reports / "ben.html").read_text()
    assert page.lstrip().lower().startswith("<!doctype html") and "<svg" in page
    assert "linear-hidden" in page
