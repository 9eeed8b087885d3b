"""Gradescope's ``results.json``, as its autograder specification describes it.

One test per asked item, numbered "exercise.item" ("1.2" is the second item
of the first exercise), with its points, a Markdown output saying what is
wrong, and the diagnosis code as a tag.  Visibility comes from each
exercise's ``visibility:``; the whole result is no more visible than its
least visible exercise, since the total would tell a hidden test's score.
Expected values, diagnoses and traces of ``hide_expected`` exercises never
appear.
"""

from __future__ import annotations

from typing import Sequence

from backprop_cli.exercise.model import Visibility
from backprop_cli.grading.results import FileResult, ItemResult, Status, student_view
from backprop_cli.render.itemtext import exercise_name, one_line
from backprop_cli.render.markdown_report import code_block, item_markdown, score_table

# From least to most visible: what the whole result gets when its exercises differ.
_ORDER = [Visibility.HIDDEN, Visibility.AFTER_PUBLISHED, Visibility.AFTER_DUE_DATE, Visibility.VISIBLE]


def gradescope_document(results: Sequence[FileResult], notes: Sequence[str] = (),
                        seconds: float | None = None) -> dict:
    results = [student_view(r) for r in results]
    tests = []
    for n, result in enumerate(results, 1):
        tests += _tests(n, result)
    visibility = min((r.visibility for r in results), key=_ORDER.index, default=Visibility.VISIBLE)
    return {
        "score": sum(r.score for r in results),
        "execution_time": round(seconds if seconds is not None else sum(r.seconds for r in results), 3),
        "output": score_table(results, notes),
        "output_format": "md",
        "visibility": visibility.value,
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def _tests(n: int, result: FileResult) -> list[dict]:
    name = exercise_name(result)
    if result.error is not None:
        return [_test(f"{n}.1", f"{name}: the file cannot be graded", 0.0, result.max_score, False,
                      "The file could not be used, so it earns no points:\n\n" + code_block(result.error),
                      [], result)]
    tests = []
    for m, item in enumerate(result.items, 1):
        tests.append(_test(f"{n}.{m}", f"{name}: {one_line(item.key)}", item.points, item.max_points,
                           item.status is Status.CORRECT, item_markdown(item), _tags(item), result))
    return tests


def _test(number: str, name: str, score: float, max_score: float, passed: bool, output: str,
          tags: list[str], result: FileResult) -> dict:
    return {
        "name": name,
        "number": number,
        "score": score,
        "max_score": max_score,
        "status": "passed" if passed else "failed",
        "output": output,
        "output_format": "md",
        "tags": tags,
        "visibility": result.visibility.value,
    }


def _tags(item: ItemResult) -> list[str]:
    return [item.diagnosis] if item.diagnosis else []
