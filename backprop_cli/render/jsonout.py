"""JSON documents: check results (SPEC section 4), traces and solved keys."""

from __future__ import annotations

import json

from backprop_cli.grading.results import FileResult
from backprop_cli.explain.trace import Trace

VERSION = 1


def check_document(results: list[FileResult]) -> dict:
    return {
        "version": VERSION,
        "score": sum(r.score for r in results),
        "max_score": sum(r.max_score for r in results),
        "exercises": [_exercise(r) for r in results],
    }


def _exercise(r: FileResult) -> dict:
    return {
        "file": r.file,
        "id": r.id,
        "title": r.title,
        "error": r.error,
        "score": r.score,
        "max_score": r.max_score,
        "items": [
            {
                "key": i.key,
                "status": i.status.value,
                "answer": i.answer,
                "expected": i.expected,
                "points": i.points,
                "max_points": i.max_points,
                "diagnosis": i.diagnosis,
                "feedback": i.feedback,
                "message": i.message,
                "entries": i.right_entries,
                "hint": i.hint,
            }
            for i in r.items
        ],
        "not_asked": r.not_asked,
        "first_wrong": r.first_wrong,
    }


def trace_document(trace: Trace) -> dict:
    return {"version": VERSION, **trace.as_dict()}


def dumps(document) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False)
