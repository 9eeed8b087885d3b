"""The result GitHub Classroom's grading reporter reads from a step output named ``result``.

``{"version": 1, "status": "pass"|"fail"|"error", "max_score": N, "tests": [...]}``,
one test per asked item.  Every test carries a numeric ``score`` (the
reporter adds them up, and one missing score makes its total NaN); partial
credit stays a fraction.  ``duration`` is in milliseconds.
"""

from __future__ import annotations

import base64
import json
from typing import Sequence

from backprop_cli.grading.results import FileResult, ItemResult, Status, student_view
from backprop_cli.render.itemtext import exercise_name, item_text, one_line

VERSION = 1


def classroom_document(results: Sequence[FileResult]) -> dict:
    results = [student_view(r) for r in results]
    tests = []
    for result in results:
        if result.error is not None:
            tests.append(_test(f"{exercise_name(result)}: the file cannot be graded", "error", 0.0,
                               result.error, result.file, 0, result.seconds))
        for item in result.items:
            tests.append(_test(f"{exercise_name(result)}: {one_line(item.key)}", _status(item),
                               item.points, "" if item.status is Status.CORRECT else item_text(item),
                               item.location.file if item.location else result.file,
                               item.location.line if item.location else 0, item.seconds))
    if any(r.error is not None for r in results):
        status = "error"
    else:
        status = "pass" if all(t["status"] == "pass" for t in tests) else "fail"
    return {"version": VERSION, "status": status, "max_score": _number(sum(r.max_score for r in results)),
            "tests": tests}


def step_output(document: dict) -> str:
    """``result=BASE64`` for ``>> $GITHUB_OUTPUT``: the JSON, base64-encoded on one line."""
    data = json.dumps(document, ensure_ascii=True, separators=(",", ":")).encode("ascii")
    return "result=" + base64.b64encode(data).decode("ascii")


def _test(name: str, status: str, score: float, message: str, filename: str, line: int,
          seconds: float) -> dict:
    return {"name": name, "status": status, "score": _number(score), "message": message,
            "filename": filename, "line_no": line, "duration": round(seconds * 1000)}


def _status(item: ItemResult) -> str:
    if item.status is Status.CORRECT:
        return "pass"
    return "error" if item.status is Status.INVALID else "fail"


def _number(x: float) -> int | float:
    """Whole numbers as integers (a reporter may print them), fractions as they are."""
    return int(x) if float(x).is_integer() else x
