"""A slice of the fuzz run (fuzz/mutate.py, fuzz/check_run.py) in the suite.

Twenty mutated shipped exercises, graded by one ``check`` process: whatever the damage,
stdout is valid UTF-8 JSON with one entry per file, the exit code is 0, 1 or 2, nothing
is written to the working directory, and no file or item reports an internal error.  The
full run (3000 files in batches of 100) is ``python fuzz/check_run.py``.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "fuzz" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_a_slice_of_mutated_exercises(tmp_path):
    mutate = _load("mutate")
    check_run = _load("check_run")
    paths = mutate.generate(tmp_path, count=20, seed=2024)
    tally = check_run.Tally()
    check_run.check_batch(paths, tally, [])
    assert tally.findings == [], tally.report()
    assert set(tally.exits) <= {0, 1, 2}
    assert sum(tally.statuses.values()) > 0  # some files were graded, not only refused


def test_mutants_are_reproducible(tmp_path):
    mutate = _load("mutate")
    first = [p.read_bytes() for p in mutate.generate(tmp_path / "a", count=5, seed=7)]
    again = [p.read_bytes() for p in mutate.generate(tmp_path / "b", count=5, seed=7)]
    assert first == again and len(set(first)) == 5
