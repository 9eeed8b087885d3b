"""``validate`` results as text lines and as a JSON document (pure functions of the records)."""

from __future__ import annotations

from backprop_cli.authoring.findings import Finding
from backprop_cli.authoring.proof import KeyProof
from backprop_cli.authoring.validation import FileValidation
from backprop_cli.source.errors import one_line

VERSION = 1


def finding_lines(result: FileValidation) -> list[str]:
    """Every error and warning, each at file:line:col with its source line and hint."""
    return [f.render() for f in result.findings]


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _keys_words(proofs: tuple[KeyProof, ...]) -> str:
    if not proofs:
        return "no gradients asked"
    three = sum(1 for p in proofs if p.compared and len(p.legs) == 2)
    agree = "agrees" if three == 1 else "agree"
    parts = [f"{_plural(three, 'gradient')} {agree} three ways (engine, sympy.diff, finite differences)"] \
        if three else []
    for leg in ("sympy.diff", "finite differences"):
        only = sum(1 for p in proofs if p.compared and p.legs == [leg])
        if only:
            parts.append(f"{only} with the engine and {leg} only")
    unchecked = sum(1 for p in proofs if p.compared and not p.legs)
    if unchecked:
        parts.append(f"{unchecked} not checked (see --format json)")
    kinked = sum(1 for p in proofs if not p.compared)
    if kinked:
        parts.append(f"{kinked} not compared at a kink")
    return ", ".join(parts)


def _tests_words(result: FileValidation) -> str:
    total = len(result.tests)
    passed = sum(1 for t in result.tests if t.passed)
    if total == 0:
        return "no question tests"
    if passed == total:
        return f"{_plural(total, 'question test')} pass"
    return f"{passed} of {_plural(total, 'question test')} pass"


def summary_line(result: FileValidation, strict: bool = False) -> str | None:
    """One line for a file that could be read (None for one that could not: its errors say it)."""
    if not result.readable:
        return None
    verdict = "ok" if result.ok(strict) else "failed"
    parts = [f"{_plural(result.steps, 'step')}, {result.asks} asked", _keys_words(result.proofs), _tests_words(result)]
    if result.variants:
        parts.append(f"{result.variants} sampled variants")
    if result.errors:
        parts.append(_plural(len(result.errors), "error"))
    if result.warnings:
        parts.append(_plural(len(result.warnings), "warning") + (" (--strict)" if strict else ""))
    return one_line(f"{result.file}: {verdict} ({'; '.join(parts)})")  # a file name may hold anything


def _finding(f: Finding) -> dict:
    p = f.problem
    return {"severity": f.severity.value, "code": f.code.value, "message": p.message,
            "file": p.location.file if p.location else None, "line": p.location.line if p.location else None,
            "column": p.location.column if p.location else None, "hint": p.hint}


def _proof(p: KeyProof) -> dict:
    return {"key": p.key, "compared": p.compared, "agrees": p.agrees, "checked_by": ["engine"] + p.legs,
            "notes": list(p.notes),
            "entries": [{"index": list(e.index) if e.index else None, "engine": e.engine, "sympy": e.sympy,
                         "finite_difference": e.finite_difference, "relative_error": e.relative_error,
                         "agrees": e.agrees} for e in p.entries]}


def validation_document(results: list[FileValidation], strict: bool = False) -> dict:
    return {
        "version": VERSION,
        "strict": strict,
        "ok": all(r.ok(strict) for r in results),
        "files": [{
            "file": r.file, "id": r.id, "title": r.title, "ok": r.ok(strict), "readable": r.readable,
            "steps": r.steps, "asks": r.asks, "sampled_variants": r.variants,
            "errors": [_finding(f) for f in r.errors], "warnings": [_finding(f) for f in r.warnings],
            "keys": [_proof(p) for p in r.proofs],
            "tests": [{"name": t.name, "passed": t.passed, "failures": [p.message for p in t.failures]}
                      for t in r.tests],
        } for r in results],
    }
