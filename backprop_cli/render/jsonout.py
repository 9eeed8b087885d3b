"""JSON documents: check results (SPEC section 4), traces and solved keys."""

from __future__ import annotations

import json
import math
from json.encoder import encode_basestring
from typing import Iterator

from backprop_cli.grading.results import FileResult, SolvedKey
from backprop_cli.explain.trace import Trace

VERSION = 1


def check_document(results: list[FileResult], notes: list[str] | None = None) -> dict:
    return _document(results, [_exercise(r) for r in results], notes)


def _document(results: list[FileResult], exercises: list, notes: list[str] | None) -> dict:
    """The document around ``exercises`` (each exercise's record, or what stands in for it)."""
    document = {
        "version": VERSION,
        "score": sum(r.score for r in results),
        "max_score": sum(r.max_score for r in results),
        "exercises": exercises,
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


def check_pieces(results: list[FileResult], notes: list[str] | None = None) -> Iterator[str]:
    """The text :func:`dumps` gives for :func:`check_document`, an exercise at a time.

    The head is encoded with a marker string in place of each exercise (no text in a
    document holds a NUL: YAML refuses it, and no file name can), and each exercise by
    :func:`_text`, at the depth it stands at.
    """
    # each exercise's part is made as it is written, not all at once
    text, at = dumps(_document(results, [f"\x00{n}\x00" for n in range(len(results))], notes)), 0
    for n, result in enumerate(results):
        marker = json.dumps(f"\x00{n}\x00")
        found = text.index(marker, at)
        yield text[at:found]
        yield _text(_exercise(result), 2)
        at = found + len(marker)
    yield text[at:]


def _text(value, level: int) -> str:
    """What ``json.dumps(value, indent=2, ensure_ascii=False)`` writes for a value standing
    ``level`` deep, built at once: the standard encoder, given an indent, is written in Python
    and yields a piece per token, which is most of the cost of a class's document."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return encode_basestring(_safe_text(value))
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        return float.__repr__(value) if math.isfinite(value) else "null"
    inner = "\n" + _INDENT * (level + 1)
    if isinstance(value, dict):
        if not value:
            return "{}"
        parts = [encode_basestring(_safe_text(k)) + ": " + (  # None and text, most values, without a call
            "null" if v is None else encode_basestring(_safe_text(v)) if type(v) is str else _text(v, level + 1))
            for k, v in value.items()]
        return "{" + inner + ("," + inner).join(parts) + "\n" + _INDENT * level + "}"
    if isinstance(value, list | tuple):
        if not value:
            return "[]"
        return "[" + inner + ("," + inner).join(_text(v, level + 1) for v in value) + "\n" + _INDENT * level + "]"
    raise TypeError(f"{type(value).__name__} is not a JSON value")


_INDENT = "  "


def solved_document(solved: list[SolvedKey]) -> dict:
    """``solve --format json``: key -> value string (rows of strings for a tensor); a formula
    that cannot be written in the exercise language is left out."""
    return {s.label: s.value for s in solved if s.value is not None}


def trace_document(trace: Trace) -> dict:
    return {"version": VERSION, **trace.as_dict()}


def dumps(document) -> str:
    """JSON text that every parser reads: UTF-8 without lone surrogates, no NaN or Infinity."""
    return "".join(pieces(document))


def pieces(document) -> Iterator[str]:
    """The text :func:`dumps` gives, a piece at a time: a class's results are written as they
    are encoded, never held as one string."""
    return json.JSONEncoder(indent=2, ensure_ascii=False, allow_nan=False).iterencode(_safe(document))


def _safe(value):
    """A file name from the command line may hold a lone surrogate (a byte that is not UTF-8):
    it is written as the text ``\\udcff``.  A number that is not finite becomes null."""
    if isinstance(value, str):
        return _safe_text(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {_safe(k): _safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_safe(v) for v in value]
    return value


def _safe_text(value: str) -> str:
    """A lone surrogate written as the text ``\\udcff``."""
    return value if value.isprintable() or not _has_surrogate(value) else "".join(
        c.encode("unicode_escape").decode("ascii") if "\ud800" <= c <= "\udfff" else c for c in value)


def _has_surrogate(text: str) -> bool:
    return any("\ud800" <= c <= "\udfff" for c in text)
