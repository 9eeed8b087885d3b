"""The words every report uses for one graded item, in plain text.

JUnit failures, Gradescope outputs, workflow annotations and Markdown reports
all say the same things about a wrong answer: what the student wrote and
where, the expected value unless the exercise hides it, the named mistake
and what to do about it.  Student text is made printable here once.
"""

from __future__ import annotations

from backprop_cli.grading.results import FileResult, ItemResult, Status
from backprop_cli.source.errors import one_line, printable


def number(x: float) -> str:
    """A score as a person writes it: 2, 0.5, 0.333333."""
    return f"{x:g}"


def value_text(value: str | list | None) -> str:
    """An answer or expected value on one line; a tensor as nested brackets."""
    if value is None:
        return ""
    if isinstance(value, list):
        return "[" + ", ".join(value_text(v) for v in value) + "]"
    return one_line(value)




def where(item: ItemResult) -> str | None:
    loc = item.location
    return f"{one_line(loc.file)}:{loc.line}:{loc.column}" if loc is not None else None


def headline(item: ItemResult) -> str:
    """``dloss/dw: incorrect (missing-factor)``."""
    code = f" ({item.diagnosis})" if item.diagnosis else ""
    return f"{one_line(item.key)}: {item.status.value}{code}"


def item_lines(item: ItemResult) -> list[tuple[str, str]]:
    """(label, text) pairs describing an item that is not correct."""
    lines: list[tuple[str, str]] = []
    if item.answer is not None:
        lines.append(("your answer", value_text(item.answer)))
    elif item.status is Status.MISSING:
        lines.append(("your answer", "none"))
    if item.expected is not None and item.status is not Status.CORRECT:
        lines.append(("expected", value_text(item.expected)))
    if item.right_entries is not None and item.status is not Status.CORRECT:
        wrong = sum(not ok for row in item.right_entries for ok in row)
        total = sum(len(row) for row in item.right_entries)
        lines.append(("entries", f"{wrong} of {total} wrong"))
    if item.diagnosis:
        lines.append(("mistake", item.diagnosis))
    if item.feedback:
        lines.append(("hint", printable(item.feedback[0].upper() + item.feedback[1:] + ".")))
    if item.message:
        lines.append(("problem", printable(item.message)))
    if where(item):
        lines.append(("at", where(item)))
    lines.append(("points", f"{number(item.points)} of {number(item.max_points)}"))
    return lines


def item_text(item: ItemResult) -> str:
    """Plain lines ``label: text`` for an item that is not correct."""
    return "\n".join(f"{label}: {text}" for label, text in item_lines(item))


def exercise_name(result: FileResult) -> str:
    """The exercise's id, or the file's name when the file could not be read."""
    return one_line(result.id or result.file)


def status_of(result: FileResult) -> str:
    if result.error is not None:
        return "cannot be graded"
    wrong = sum(i.status is not Status.CORRECT for i in result.items)
    return "all correct" if not wrong else f"{wrong} of {len(result.items)} not correct"
