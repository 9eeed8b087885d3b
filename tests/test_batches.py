"""The worker sends results a batch at a time: a worker that is stopped loses no file's result.

When a worker is stopped (a part ran out of time), the files it graded but had
not sent yet are graded again by the next worker; every file ends with exactly
the result it gets when graded alone.
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

from backprop_cli.grading import pipeline
from backprop_cli.render.jsonout import check_document, dumps
from backprop_cli.source.limits import DEFAULT
from backprop_cli.source.memo import clear_all

ROOT = Path(__file__).resolve().parents[1]
FILLED = ROOT / "tests" / "data" / "filled"
EXERCISES = ROOT / "exercises"


def copies(folder: Path, source: Path, n: int, name: str) -> list[str]:
    paths = []
    for k in range(n):
        path = folder / f"{name}-{k}.yaml"
        shutil.copyfile(source, path)
        paths.append(str(path))
    return paths


def test_a_file_stopped_while_loading_costs_the_files_around_it_nothing(tmp_path):
    before = copies(tmp_path, FILLED / "linear-model-wrong.yaml", 5, "before")
    slow = copies(tmp_path, EXERCISES / "train-mlp-2-3-3-1.yaml", 1, "slow")
    after = copies(tmp_path, FILLED / "linear-model-correct.yaml", 3, "after")
    limits = replace(DEFAULT, load_seconds=0.05)
    clear_all()
    results = pipeline.check(before + slow + after, limits=limits).results
    assert [r.file for r in results] == before + slow + after
    assert results[5].error is not None and "took longer than" in results[5].error
    assert [r.score for r in results[:5]] == [7.0] * 5
    assert [r.score for r in results[6:]] == [8.0] * 3
    alone = pipeline.check(before[:1] + after[:1], bounded=False).results
    assert dumps(check_document([results[0], results[6]])) == dumps(check_document(alone))


def test_an_answer_stopped_midway_costs_the_files_around_it_nothing(tmp_path):
    mlp = (EXERCISES / "mlp-2-3-3-1.yaml").read_text(encoding="utf-8")
    mlp = mlp[:mlp.index("\nask:")] + "\nask:\n  - loss\n  - dloss/dW1\nanswers:\n  loss: 1\n" \
        "  dloss/dW1: [[1.5, 2.5], [3.5, 4.5], [5.5, 6.5]]\n"
    (tmp_path / "mlp.yaml").write_text(mlp, encoding="utf-8")
    before = copies(tmp_path, FILLED / "linear-model-wrong.yaml", 4, "before")
    after = copies(tmp_path, FILLED / "linear-model-correct.yaml", 2, "after")
    paths = before + [str(tmp_path / "mlp.yaml")] + after
    limits = replace(DEFAULT, answer_seconds=0.03)  # naming the mistake in dloss/dW1 takes longer
    clear_all()
    results = pipeline.check(paths, limits=limits).results
    assert [r.file for r in results] == paths
    assert [r.score for r in results[:4]] == [7.0] * 4
    assert [r.score for r in results[5:]] == [8.0] * 2
    slow = {item.key: item for item in results[4].items}
    assert slow["dloss/dW1"].status.value == "incorrect"  # the grade stands; the naming was cut short
