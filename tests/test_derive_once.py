"""Derived once: copies of an exercise share one solution, answers are read once, outputs unchanged.

Every test compares against grading with every table emptied before each file
(``clear_all``), which is how one file is graded on its own.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from backprop_cli.grading import cache, pipeline
from backprop_cli.grading.solver import Solution
from backprop_cli.render.jsonout import check_document, dumps
from backprop_cli.source.memo import clear_all

ROOT = Path(__file__).resolve().parents[1]
EXERCISES = ROOT / "exercises"
FILLED = ROOT / "tests" / "data" / "filled"

SIGMOID_ANSWERS = [  # right, wrong in classic ways, written another way, unreadable, missing
    {"a1": "1/2", "dC/dw2": "-1/8", "dC/dz1": "-1/8", "dC/db1": "-1/8"},
    {"a1": "0.5", "dC/dw2": "-1/4", "dC/dz1": "1/8", "dC/db1": "-1/16"},
    {"a1": "1/2", "dC/dw2": "-1/4", "dC/dz1": "2**", "dC/db1": "-0.125"},
    {"a1": "-1/2", "dC/dw2": "12345", "dC/da2": "1"},
    {"a1": "1/2", "dC/dw2": "-1/4", "dC/dz1": "1/8", "dC/db1": "-1/16"},
]
MLP_ANSWERS = [
    {"loss": "0.00235183212378254", "dloss/dB3": "[[-0.0239905574648803]]",
     "dloss/dW1": "[[1.5, 2.5], [3.5, 4.5], [5.5, 6.5]]"},
    {"loss": "1", "dloss/dB3": "[[-0.0239905574648803]]", "dloss/dW1": "[[1, 2], [3, 4]]"},
]


def filled(folder: Path, exercise: str, answers: list[dict], name: str = "student") -> list[str]:
    source = (EXERCISES / f"{exercise}.yaml").read_text(encoding="utf-8").rstrip("\n") + "\n"
    paths = []
    for n, pairs in enumerate(answers):
        lines = "".join(f"  {key}: {value if value.startswith('[') else json.dumps(value)}\n"
                        for key, value in pairs.items())
        path = folder / f"{name}-{exercise}-{n}.yaml"
        path.write_text(source + "answers:\n" + lines, encoding="utf-8")
        paths.append(str(path))
    return paths


def document(paths: list[str], bounded: bool = False) -> str:
    return dumps(check_document(pipeline.check(paths, bounded=bounded).results))


def one_at_a_time(paths: list[str]) -> str:
    results = []
    for path in paths:
        clear_all()
        results += pipeline.check([path], bounded=False).results
    return dumps(check_document(results))


@pytest.fixture
def solutions(monkeypatch):
    """The exercises a Solution was made for, in order."""
    made = []

    class Counting(Solution):
        def __init__(self, exercise):
            made.append(exercise.id)
            super().__init__(exercise)

    clear_all()
    monkeypatch.setattr(cache, "Solution", Counting)
    yield made
    clear_all()


def test_copies_of_an_exercise_share_one_solution(tmp_path, solutions):
    paths = filled(tmp_path, "sigmoid-chain", SIGMOID_ANSWERS) + filled(tmp_path, "linear-model", [{}, {}])
    pipeline.check(paths, bounded=False)
    assert solutions == ["sigmoid-chain", "linear-model"]


def test_the_class_grades_the_same_as_one_file_at_a_time(tmp_path):
    paths = (filled(tmp_path, "sigmoid-chain", SIGMOID_ANSWERS) + filled(tmp_path, "mlp-2-3-3-1", MLP_ANSWERS)
             + [str(FILLED / "linear-model-wrong.yaml"), str(FILLED / "linear-model-correct.yaml")]
             + filled(tmp_path, "sigmoid-chain", SIGMOID_ANSWERS[::-1], name="again"))
    alone = one_at_a_time(paths)
    clear_all()
    assert document(paths) == alone
    assert document(paths) == alone  # warm: every table already holds what the class needs
    clear_all()
    assert document(paths, bounded=True) == alone


def test_text_output_is_the_same_as_one_file_at_a_time(tmp_path):
    from cli_runner import invoke

    paths = filled(tmp_path, "sigmoid-chain", SIGMOID_ANSWERS)
    alone = []
    for path in paths:
        clear_all()
        alone.append(invoke("check", path).stdout)
    clear_all()
    together = invoke("check", *paths).stdout
    assert together.startswith("\n".join(alone))


def test_a_problem_in_the_shared_part_is_reported_in_each_copy(tmp_path):
    text = ("backprop: 1\nid: sqrt-zero\ngiven:\n  x: 0\nsteps:\n  f: sqrt(x)\nask:\n  - f\n  - df/dx\n"
            "answers:\n  f: {answer}\n")
    paths = []
    for name, answer in (("a", "0"), ("b", "1")):
        (tmp_path / f"{name}.yaml").write_text(text.format(answer=answer), encoding="utf-8")
        paths.append(str(tmp_path / f"{name}.yaml"))
    clear_all()
    errors = [r.error for r in pipeline.check(paths, bounded=False).results]
    assert errors[0].startswith(f"{paths[0]}:6:6: the derivative is undefined here")
    assert errors[1] == errors[0].replace(paths[0], paths[1])
    assert document(paths) == one_at_a_time(paths)


def test_answers_in_the_middle_of_the_file_keep_every_position(tmp_path, solutions):
    """What follows the answers stands where their size puts it: copies share only when that is the same."""
    head = "backprop: 1\nid: sqrt-zero\ngiven:\n  x: 0\n"
    tail = "steps:\n  f: sqrt(x)\nask:\n  - f\n  - df/dx\n"
    paths = []
    for name, answers in (("one", "  f: 0\n"), ("two", "  f: 0\n  df/dx: 1\n"), ("same", "  f: 5\n")):
        path = tmp_path / f"{name}.yaml"
        path.write_text(head + "answers:\n" + answers + tail, encoding="utf-8")
        paths.append(str(path))
    errors = [r.error for r in pipeline.check(paths, bounded=False).results]
    lines = [int(re.match(r".*?:(\d+):\d+:", e).group(1)) for e in errors]
    assert lines == [8, 9, 8]
    assert solutions == ["sqrt-zero", "sqrt-zero"]  # "same" shares with "one"; "two" is longer
    assert document(paths) == one_at_a_time(paths)


def test_without_an_id_the_file_name_is_part_of_the_exercise(tmp_path, solutions):
    text = "backprop: 1\ngiven:\n  x: 2\nsteps:\n  f: x * x\nask:\n  - f\nanswers:\n  f: 4\n"
    paths = []
    for name in ("first", "second", "second-copy"):
        (tmp_path / f"{name}.yaml").write_text(text, encoding="utf-8")
        paths.append(str(tmp_path / f"{name}.yaml"))
    results = pipeline.check(paths, bounded=False).results
    assert [r.id for r in results] == ["first", "second", "second-copy"]
    assert solutions == ["first", "second", "second-copy"]


def test_the_same_bad_answer_is_placed_in_each_file(tmp_path):
    paths = filled(tmp_path, "linear-model", [{"y_hat": "2**"}, {"r": "1", "y_hat": "2**"}])
    clear_all()
    messages = [r.items[0].message for r in pipeline.check(paths, bounded=False).results]
    assert messages[0].startswith(f"{paths[0]}:") and messages[1].startswith(f"{paths[1]}:")
    assert messages[0].split(":", 1)[1] != messages[1].split(":", 1)[1]  # another line
    assert document(paths) == one_at_a_time(paths)


def test_answers_files_share_the_exercise_and_read_it_once(tmp_path, solutions):
    paths = [str(EXERCISES / "linear-model.yaml")] * 3
    answers = pipeline.load_answers(FILLED / "linear-model-answers.yaml")
    results = pipeline.check(paths, answers, bounded=False).results
    assert len({json.dumps(check_document([r])) for r in results}) == 1
    assert solutions == ["linear-model"]


def test_the_tables_are_bounded(tmp_path):
    clear_all()
    paths = []
    for n in range(cache._EXERCISES.size + 5):
        path = tmp_path / f"e{n}.yaml"
        path.write_text(f"backprop: 1\nid: e{n}\ngiven:\n  x: {n}\nsteps:\n  f: x + 1\nask:\n  - f\n",
                        encoding="utf-8")
        paths.append(str(path))
    results = pipeline.check(paths, bounded=False).results
    assert [r.items[0].expected for r in results] == [str(n + 1) for n in range(len(paths))]
    assert len(cache._EXERCISES.entries) == cache._EXERCISES.size


def test_students_with_the_same_wrong_steps_share_one_forward_pass(tmp_path, monkeypatch):
    from backprop_cli.grading import carried

    runs = []
    real = carried.forward
    monkeypatch.setattr(carried, "forward", lambda *a, **k: runs.append(1) or real(*a, **k))
    answers = [{"a1": "-1/2", "a2": "1/3", "dC/da2": "7", "dC/dz2": "5", "dC/dw2": "3"},
               {"a1": "-1/2", "a2": "1/3", "dC/da2": "9", "dC/dz2": "11", "dC/dw2": "13"}]
    paths = filled(tmp_path, "sigmoid-chain", answers)
    alone = one_at_a_time(paths)
    clear_all()
    runs.clear()
    pipeline.check(paths[:1], bounded=False)
    first = len(runs)
    assert first >= 1  # the wrong gradients after wrong steps are tried as carried forward
    clear_all()
    runs.clear()
    assert document(paths) == alone
    assert len(runs) == first  # the second student's wrong gradients start from the first one's pass


def test_the_forward_passes_kept_are_bounded(tmp_path):
    from backprop_cli.grading.carried import FORWARD_PASSES

    clear_all()
    answers = [{"a1": f"-{n + 2}", "dC/da2": "7"} for n in range(FORWARD_PASSES + 3)]
    paths = filled(tmp_path, "sigmoid-chain", answers)
    alone = one_at_a_time(paths)
    clear_all()
    assert document(paths) == alone
    (loaded,) = cache._EXERCISES.entries.values()
    assert len(loaded.solution.memo["own forward passes"].entries) == FORWARD_PASSES
    clear_all()
