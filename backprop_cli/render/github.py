"""GitHub Actions workflow commands: each wrong answer annotated on its line.

``::error file=F,line=L,col=C,title=T::message`` points at the line where the
student wrote the answer.  Data and properties are escaped as the Actions
toolkit escapes them (``%``, CR and LF; ``:`` and ``,`` too in properties), so
student text can neither end a command nor start a new one.  GitHub shows at
most 10 errors and 10 warnings per step; the rest are counted in one notice.
Only workflow commands are printed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from backprop_cli.grading.results import FileResult, ItemResult, Status, student_view
from backprop_cli.render.itemtext import exercise_name, item_text, number

CAP = 10  # annotations of each kind that GitHub shows per step


@dataclass(frozen=True)
class Annotation:
    level: str  # error, warning or notice
    message: str
    file: str | None = None
    line: int | None = None
    col: int | None = None
    title: str | None = None

    def command(self) -> str:
        props = [(k, v) for k, v in (("file", self.file), ("line", self.line), ("col", self.col),
                                     ("title", self.title)) if v is not None]
        head = ",".join(f"{k}={escape_property(str(v))}" for k, v in props)
        return f"::{self.level}{' ' + head if head else ''}::{escape_data(self.message)}"


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotations(results: Sequence[FileResult], notes: Sequence[str] = ()) -> list[Annotation]:
    """Every annotation, before the cap: unusable files and wrong answers are errors;
    missing answers, mistakes carried forward from an earlier step and notes are warnings."""
    found = []
    for result in (student_view(r) for r in results):
        name = exercise_name(result)
        if result.error is not None:
            found.append(Annotation("error", result.error, result.file, title=f"{name}: cannot be graded"))
        for item in result.items:
            if item.status is not Status.CORRECT:
                found.append(_item(item, result, name))
        found += [Annotation("warning", note, result.file, title=name) for note in result.notes]
    found += [Annotation("warning", note, title="backprop") for note in notes]
    return found


def _item(item: ItemResult, result: FileResult, name: str) -> Annotation:
    soft = item.status is Status.MISSING or item.diagnosis == "carried-forward"
    loc = item.location
    return Annotation("warning" if soft else "error", item_text(item),
                      loc.file if loc else result.file, loc.line if loc else None,
                      loc.column if loc else None, f"{name}: {item.key} is {item.status.value}")


def workflow_commands(results: Sequence[FileResult], notes: Sequence[str] = ()) -> str:
    """The commands to print: at most CAP of each level, a notice for the rest, and the score."""
    shown, hidden = [], {"error": 0, "warning": 0}
    for a in annotations(results, notes):
        if sum(s.level == a.level for s in shown) < CAP:
            shown.append(a)
        else:
            hidden[a.level] += 1
    lines = [a.command() for a in shown]
    if any(hidden.values()):
        lines.append(Annotation("notice", f"{hidden['error']} more errors and {hidden['warning']} more "
                                          "warnings are not shown (GitHub shows 10 of each per step); "
                                          "the job summary lists every answer",
                                title="More answers to fix").command())
    score = sum(r.score for r in results)
    top = sum(r.max_score for r in results)
    lines.append(Annotation("notice", f"Score: {number(score)}/{number(top)} over {len(results)} "
                                      f"exercise{'s' if len(results) != 1 else ''}",
                            title="backprop").command())
    return "\n".join(lines) + "\n"
