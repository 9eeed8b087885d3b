"""A class's gradebook: CSV and JSON for spreadsheets and scripts, Markdown, and terminal tables.

CSV is ``student,<exercise ids...>,total,max``; JSON holds every student's
exercises and items.  Neither carries timings, so both are the same byte for
byte however many workers graded the class.  Cells that a spreadsheet would
take for a formula (a folder named ``=cmd|...``) are quoted with a leading ``'``.
"""

from __future__ import annotations

import csv
import io

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from backprop_cli.grading.classbook import ExerciseGrade, Gradebook, Standing, StudentGrade
from backprop_cli.render.itemtext import number
from backprop_cli.render.markdown_report import text as md

VERSION = 1
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA) else value


def gradebook_csv(book: Gradebook) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["student", *(_cell(e.id) for e in book.exercises), "total", "max"])
    for s in book.students:
        writer.writerow([_cell(s.student), *(number(e.score) for e in s.exercises), number(s.score),
                         number(s.max_score)])
    return out.getvalue()


def gradebook_document(book: Gradebook) -> dict:
    return {
        "version": VERSION,
        "max_score": book.max_score,
        "exercises": [{"id": e.id, "title": e.title, "file": e.file, "max_score": e.max_score}
                      for e in book.exercises],
        "students": [_student(s) for s in book.students],
        "notes": list(book.notes),
    }


def _student(s: StudentGrade) -> dict:
    return {"student": s.student, "score": s.score, "max_score": s.max_score,
            "exercises": [_exercise(e) for e in s.exercises], "notes": list(s.notes)}


def _exercise(e: ExerciseGrade) -> dict:
    r = e.result
    return {
        "id": e.id,
        "status": e.status.value,
        "score": e.score,
        "max_score": e.max_score,
        "file": r.file if e.status is not Standing.MISSING else None,
        "error": r.error,
        "items": [{"key": i.key, "status": i.status.value, "diagnosis": i.diagnosis, "points": i.points,
                   "max_points": i.max_points} for i in r.items],
        "notes": list(e.notes),
    }


def _score_cell(e: ExerciseGrade) -> str:
    return number(e.score) if e.status is Standing.GRADED else e.status.value


def gradebook_markdown(book: Gradebook) -> str:
    out = ["## Gradebook", "", "| student | " + " | ".join(md(e.id) for e in book.exercises) +
           " | total | max |", "| --- " * (len(book.exercises) + 3) + "|"]
    for s in book.students:
        out.append(f"| {md(s.student)} | " + " | ".join(_score_cell(e) for e in s.exercises) +
                   f" | {number(s.score)} | {number(s.max_score)} |")
    mistakes = book.mistakes()
    if mistakes:
        out += ["", "## Named mistakes (students per exercise)", "", "| exercise | mistake | students |",
                "| --- | --- | --- |"]
        for eid, codes in mistakes.items():
            out += [f"| {md(eid)} | {md(code)} | {n} |" for code, n in codes]
    problems = book.problems()
    if problems:
        out += ["", "## Files that could not be used, and notes", ""] + [f"- {md(p)}" for p in problems]
    return "\n".join(out) + "\n"


def gradebook_group(book: Gradebook) -> Group:
    """The terminal view: scores, the mistakes to re-teach, and the files that could not be used."""
    table = Table(box=box.SIMPLE_HEAD, title="Gradebook", title_justify="left", title_style="bold")
    table.add_column("student", style="bold")
    for e in book.exercises:
        table.add_column(f"{e.id}\n/{number(e.max_score)}", justify="right")
    table.add_column("total", justify="right", style="bold")
    table.add_column("max", justify="right")
    for s in book.students:
        cells = [Text(_score_cell(e), style=_style(e)) for e in s.exercises]
        table.add_row(Text(s.student), *cells, number(s.score), number(s.max_score))
    parts: list[RenderableType] = [table]
    if not book.students:
        parts.append(Text("No student folders were found.", style="yellow"))
    mistakes = book.mistakes()
    if mistakes:
        codes = Table(box=box.SIMPLE_HEAD, title="Named mistakes: how many students made each",
                      title_justify="left", title_style="bold")
        codes.add_column("exercise", style="bold")
        codes.add_column("mistake", style="yellow")
        codes.add_column("students", justify="right")
        for eid, found in mistakes.items():
            for i, (code, n) in enumerate(found):
                codes.add_row(eid if i == 0 else "", code, str(n))
        parts.append(codes)
    problems = book.problems()
    if problems:
        parts.append(Text("Files that could not be used, and notes:", style="bold"))
        parts += [Text("  " + p.replace("\n", "\n    "), style="yellow") for p in problems]
    return Group(*parts)


def _style(e: ExerciseGrade) -> str:
    if e.status is not Standing.GRADED:
        return "red"
    return "green" if e.score == e.max_score else ""
