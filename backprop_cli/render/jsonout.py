"""JSON documents: check results (SPEC section 4), traces and solved keys."""

from __future__ import annotations

import json
import math

from backprop_cli.grading.results import FileResult, SolvedKey
from backprop_cli.explain.trace import Trace

VERSION = 1


def check_document(results: list[FileResult], notes: list[str] | None = None) -> dict:
    document = {
        "version": VERSION,
        "score": sum(r.score for r in results),
        "max_score": sum(r.max_score for r in results),
        "exercises": [_exercise(r) for r in results],
    }
    if notes:
        document["notes"] = list(notes)  # files given to check --key that were not used
    return document


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
                "line": i.location.line if i.location else None,
                "column": i.location.column if i.location else None,
                "note": i.note,
                "hint": i.hint,
            }
            for i in r.items
        ],
        "not_asked": r.not_asked,
        "first_wrong": r.first_wrong,
        "notes": r.notes,
    }


def solved_document(solved: list[SolvedKey]) -> dict:
    """``solve --format json``: key -> value string (rows of strings for a tensor); a formula
    that cannot be written in the exercise language is left out."""
    return {s.label: s.value for s in solved if s.value is not None}


def trace_document(trace: Trace) -> dict:
    return {"version": VERSION, **trace.as_dict()}


def dumps(document) -> str:
    """JSON text that every parser reads: UTF-8 without lone surrogates, no NaN or Infinity."""
    return json.dumps(_safe(document), indent=2, ensure_ascii=False, allow_nan=False)


def _safe(value):
    """A file name from the command line may hold a lone surrogate (a byte that is not UTF-8):
    it is written as the text ``\\udcff``.  A number that is not finite becomes null."""
    if isinstance(value, str):
        return value if value.isprintable() or not _has_surrogate(value) else "".join(
            c.encode("unicode_escape").decode("ascii") if "\ud800" <= c <= "\udfff" else c for c in value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {_safe(k): _safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_safe(v) for v in value]
    return value


def _has_surrogate(text: str) -> bool:
    return any("\ud800" <= c <= "\udfff" for c in text)
