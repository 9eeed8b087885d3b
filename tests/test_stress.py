"""Grades do not depend on how busy the machine is (issue: the runner under faults, defect 1).

A batch is graded once as the machine is, and once while more busy processes than cores
keep the machine loaded; the verdicts, diagnoses, notes and scores must be the same.  The batch has answers
whose naming and explaining take a good share of their budget (the 2-3-3-1 network with
every entry of dloss/dW1 wrong), under a tighter limit than the default: with limits on
the clock, a loaded machine used to turn such answers `invalid` and drop their traces.

Bounded: a few seconds of grading; the load processes end with the test (and on their
own after two minutes, whatever happens).  Nothing here measures a duration.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from backprop_cli.grading import pipeline
from backprop_cli.source.limits import DEFAULT

ROOT = Path(__file__).resolve().parents[1]
FILLED = ROOT / "tests" / "data" / "filled"
LOAD = "import time\nend = time.monotonic() + 120\nwhile time.monotonic() < end:\n    pass\n"
WRONG_DW1 = [[1.5, 2.5], [3.5, 4.5], [5.5, 6.5]]

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the bounded runner needs fork")


def batch(folder: Path) -> list[str]:
    mlp = yaml.safe_load((FILLED / "mlp-2-3-3-1-wrong.yaml").read_text())
    mlp["answers"]["dloss/dW1"] = WRONG_DW1  # every entry wrong: many mistakes to replay
    (folder / "mlp-all-wrong.yaml").write_text(yaml.safe_dump(mlp, sort_keys=False))
    return [str(folder / "mlp-all-wrong.yaml"), str(FILLED / "linear-model-wrong.yaml")]


def verdicts(paths: list[str]) -> list:
    run = pipeline.check(paths, limits=replace(DEFAULT, answer_seconds=1.5))
    return [(r.file, r.error, r.score, [(i.key, i.status, i.diagnosis, i.note, i.trace is not None)
                                        for i in r.items]) for r in run.results]


def test_the_same_verdicts_on_a_busy_machine(tmp_path):
    paths = batch(tmp_path)
    idle = verdicts(paths)
    load = [subprocess.Popen([sys.executable, "-c", LOAD]) for _ in range((os.cpu_count() or 1) + 1)]
    try:
        busy = verdicts(paths)
    finally:
        for proc in load:
            proc.kill()
            proc.wait()
    assert busy == idle
    notes = [note for _, _, _, items in idle for _, _, _, note, _ in items if note]
    assert notes == []  # nothing was cut short even when idle: the test compares full grades
