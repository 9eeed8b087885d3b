"""The CI examples in examples/ci run: each workflow's YAML is parsed and its commands run
against sample submissions in a temporary folder, with /autograder mapped into it.

Only install commands (pip, apt-get) are skipped: the ``backprop`` they would
install is this checkout, put on PATH by a small shim.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from sample_class import KEY_IDS, filled, make_class, make_key, replaced, right_answers

ROOT = Path(__file__).resolve().parents[1]
CI = ROOT / "examples" / "ci"
INSTALL = re.compile(r"(pip3? install|apt-get (update|install))\b")


@pytest.fixture(scope="module")
def shim(tmp_path_factory) -> dict:
    """An environment whose PATH has a ``backprop`` that runs this checkout."""
    folder = tmp_path_factory.mktemp("bin")
    exe = folder / "backprop"
    exe.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m backprop_cli "$@"\n')
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    env = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    env.update(PATH=f"{folder}{os.pathsep}{env['PATH']}", PYTHONPATH=os.pathsep.join(sys.path),
               NO_COLOR="1", COLUMNS="100")
    return env


def student_repo(folder: Path) -> Path:
    """A student's repository: filled-in exercises (one answer wrong) and the key's copy."""
    exercises = folder / "exercises"
    exercises.mkdir(parents=True)
    for name in KEY_IDS:
        answers = right_answers(name)
        if name == "linear-model":
            answers = replaced(answers, "dloss/dw", "2")
        (exercises / f"{name}.yaml").write_text(filled(name, answers))
    make_key(folder / ".github" / "backprop-key")
    return folder


def run_lines(lines: list[str], cwd: Path, env: dict, shell: list[str]) -> list[int]:
    """Run each command that is not an install; the exit code of each."""
    codes = []
    for line in lines:
        if INSTALL.match(line.strip()):
            continue
        assert "pip" not in line and "apt" not in line, line
        codes.append(subprocess.run([*shell, line], cwd=cwd, env=env, timeout=600).returncode)
    return codes


def steps_of(path: Path) -> list[dict]:
    workflow = yaml.safe_load(path.read_text())
    assert "on" in workflow and workflow["jobs"]
    (job,) = workflow["jobs"].values()
    return job["steps"]


GITHUB_SHELL = ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c"]


def test_github_classroom_workflow(tmp_path, shim):
    path = CI / "github-classroom" / "classroom.yml"
    workflow = yaml.safe_load(path.read_text())
    assert workflow["name"] == "Autograding Tests"
    steps = steps_of(path)
    repo = student_repo(tmp_path / "repo")
    output = tmp_path / "github_output"
    output.write_text("")
    env = {**shim, "GITHUB_OUTPUT": str(output)}
    grading = next(s for s in steps if s.get("id") == "backprop")
    assert run_lines([s["run"] for s in steps if "run" in s], repo, env, GITHUB_SHELL) == [0]
    reporter = next(s for s in steps if "autograding-grading-reporter" in s.get("uses", ""))
    runners = reporter["with"]["runners"].split(",")
    assert runners == [grading["id"]]
    assert reporter["env"][f"{runners[0].upper()}_RESULTS"] == "${{ steps.backprop.outputs.result }}"
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines())
    result = json.loads(base64.b64decode(outputs["result"]))
    assert result["status"] == "fail" and result["max_score"] == 36
    total = sum(t["score"] for t in result["tests"])  # as the reporter adds them up
    assert total == 35 and not any(t["score"] is None for t in result["tests"])


def test_github_actions_workflow_annotates_and_summarises(tmp_path, shim):
    steps = steps_of(CI / "github-actions" / "backprop.yml")
    repo = student_repo(tmp_path / "repo")
    summary = tmp_path / "summary.md"
    env = {**shim, "GITHUB_STEP_SUMMARY": str(summary)}
    lines = [s["run"] for s in steps if "run" in s]
    check = next(line for line in lines if "--format github" in line)
    run = subprocess.run([*GITHUB_SHELL, check], cwd=repo, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 1  # the job fails while an answer is wrong
    commands = run.stdout.splitlines()
    assert commands and all(line.startswith("::") for line in commands)
    error = next(line for line in commands if line.startswith("::error "))
    assert "file=exercises/linear-model.yaml" in error and ",line=" in error
    assert "| linear-model | `exercises/linear-model.yaml` | 7/8 |" in summary.read_text()


def test_gitlab_jobs_write_their_reports(tmp_path, shim):
    config = yaml.safe_load((CI / "gitlab" / ".gitlab-ci.yml").read_text())
    xmlschema = pytest.importorskip("xmlschema")
    schema = xmlschema.XMLSchema(str(ROOT / "tests" / "data" / "junit" / "junit.xsd"))
    repo = student_repo(tmp_path / "repo")
    job = config["backprop"]
    assert run_lines(job["script"], repo, shim, ["sh", "-c"]) == [1]  # a wrong answer fails the job
    (report,) = job["artifacts"]["reports"]["junit"].split()
    schema.validate(str(repo / report))

    teacher = tmp_path / "teacher"
    make_key(teacher / "key")
    make_class(teacher / "submissions")
    job = config["gradebook"]
    assert run_lines(job["script"], teacher, shim, ["sh", "-c"]) == [0, 0]
    for path in job["artifacts"]["paths"]:
        assert (teacher / path).exists(), path
    assert (teacher / "gradebook.csv").read_text().startswith("student,")
    schema.validate(str(teacher / job["artifacts"]["reports"]["junit"]))


def gradescope(tmp_path: Path) -> tuple[Path, str]:
    """/autograder mapped to a temporary folder: the zip's files in source/, the student's in
    submission/; the run_autograder script with its paths mapped."""
    root = tmp_path / "autograder"
    shutil.copytree(CI / "gradescope", root / "source")
    make_key(root / "source" / "key")
    submission = root / "submission"
    submission.mkdir()
    for name in ("linear-model", "vector-sum"):
        answers = right_answers(name)
        if name == "vector-sum":
            answers = replaced(answers, "dloss/dW", [["1", "1"], ["1", "5"]])
        (submission / f"{name}.yaml").write_text(filled(name, answers))
    script = (root / "source" / "run_autograder").read_text().replace("/autograder", str(root))
    return root, script


def test_gradescope_autograder_writes_results(tmp_path, shim):
    assert subprocess.run(["bash", "-n", str(CI / "gradescope" / "setup.sh")]).returncode == 0
    for line in (CI / "gradescope" / "setup.sh").read_text().splitlines():
        assert not line.strip() or line.startswith(("#", "set ")) or INSTALL.match(line), line
    root, script = gradescope(tmp_path)
    run = subprocess.run(["bash", "-c", script], env=shim, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    assert {"score", "execution_time", "output", "output_format", "visibility", "stdout_visibility",
            "tests"} == set(results)
    assert results["score"] == 8 + 1 + 2.25  # linear-model, and 3/4 of vector-sum's dloss/dW
    assert sum(t["max_score"] for t in results["tests"]) == 36  # missing exercises keep their points
    assert results["visibility"] == "after_due_date"


def test_gradescope_autograder_fails_loudly_without_a_usable_key(tmp_path, shim):
    root, script = gradescope(tmp_path)
    shutil.rmtree(root / "source" / "key")
    run = subprocess.run(["bash", "-c", script], env=shim, capture_output=True, text=True, timeout=600)
    assert run.returncode == 1 and "could not grade" in run.stderr
