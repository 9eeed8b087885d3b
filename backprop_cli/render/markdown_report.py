"""Check results as Markdown: a score table, then each answer that is not right.

For a teacher to paste into an issue or a course page, for a student's
report (``grade --report-dir``), for GitHub's job summary and for
Gradescope's outputs.  Student text goes into code spans or is escaped, so
an answer cannot break the table or bring in HTML.
"""

from __future__ import annotations

import re
from typing import Sequence

from backprop_cli.grading.results import FileResult, ItemResult, Status, student_view
from backprop_cli.render.itemtext import exercise_name, item_lines, number, one_line, status_of
from backprop_cli.render.markdown import trace_markdown

_SPECIAL = re.compile(r"([\\`*_{}\[\]<>|#!~])")


def text(s: str) -> str:
    """Plain words on one line, with Markdown's and HTML's special characters escaped."""
    return _SPECIAL.sub(r"\\\1", one_line(s)).replace("&", "&amp;")


def code_span(s: str) -> str:
    """``s`` as inline code, fenced with more backticks than it holds; pipes escaped for tables."""
    s = one_line(s)
    fence = "`" * (max((len(run) for run in re.findall("`+", s)), default=0) + 1)
    pad = " " if s.startswith("`") or s.endswith("`") or not s else ""
    return f"{fence}{pad}{s}{pad}{fence}".replace("|", "\\|")


def code_block(s: str) -> str:
    fence = "`" * max(3, max((len(run) for run in re.findall("`+", s)), default=0) + 1)
    return f"{fence}text\n{s}\n{fence}"


def score_table(results: Sequence[FileResult], notes: Sequence[str] = ()) -> str:
    """The score of each exercise and the total, then anything noted."""
    lines = [f"**Score: {number(sum(r.score for r in results))}/"
             f"{number(sum(r.max_score for r in results))}**", "",
             "| exercise | file | score | status |", "| --- | --- | --- | --- |"]
    for r in results:
        lines.append(f"| {text(exercise_name(r))} | {code_span(r.file)} | "
                     f"{number(r.score)}/{number(r.max_score)} | {status_of(r)} |")
    noted = [f"- {text(r.id or r.file)}: {text(n)}" for r in results for n in r.notes] + \
            [f"- {text(n)}" for n in notes]
    return "\n".join(lines + ([""] + noted if noted else []))


def item_markdown(item: ItemResult) -> str:
    """What is wrong with one item (and the way to the right answer, when it was traced)."""
    if item.status is Status.CORRECT:
        return f"{code_span(item.key)} is correct."
    out = [f"{code_span(item.key)} is **{item.status.value}**.", ""]
    for label, value in item_lines(item):
        if label in ("your answer", "expected", "mistake", "at"):
            out.append(f"- {label}: {code_span(value)}")
        elif label == "problem":
            out += [f"- {label}:", "", code_block(value), ""]
        else:
            out.append(f"- {label}: {text(value)}")
    if item.trace is not None:
        out += ["", "<details><summary>How to get " + text(item.key) + "</summary>", "",
                trace_markdown(item.trace).rstrip(), "", "</details>"]
    return "\n".join(out)


def check_markdown(results: Sequence[FileResult], notes: Sequence[str] = (),
                   heading: str = "backprop check") -> str:
    """The whole report: the score table, then each exercise's answers that are not right."""
    results = [student_view(r) for r in results]
    out = [f"## {text(heading)}", "", score_table(results, notes)]
    for r in results:
        wrong = [i for i in r.items if i.status is not Status.CORRECT]
        if r.error is None and not wrong:
            continue
        title = f" — {text(r.title)}" if r.title else ""
        out += ["", f"### {text(exercise_name(r))}{title}", ""]
        if r.error is not None:
            out += ["The file could not be used:", "", code_block(r.error)]
        by_key = {i.key: i for i in wrong}
        for label in r.wrong_in_order or [i.key for i in wrong]:
            if label in by_key:
                out += [item_markdown(by_key[label]), ""]
    return "\n".join(out).rstrip() + "\n"


def fit(markdown: str, budget: int) -> str:
    """At most ``budget`` bytes of UTF-8, cut at a line, saying that it was cut."""
    data = markdown.encode("utf-8")
    if len(data) <= budget:
        return markdown
    note = "\n\n*The rest of this report is cut: it is too long for this page.*\n"
    room = budget - len(note.encode("utf-8"))
    while room > 0:
        cut = data[:room].decode("utf-8", "ignore")
        cut = cut[: cut.rfind("\n")] if "\n" in cut else ""
        out = cut + _closing(cut) + note
        size = len(out.encode("utf-8"))
        if size <= budget:
            return out
        room -= size - budget
    return note if len(note.encode("utf-8")) <= budget else ""


def _closing(markdown: str) -> str:
    """What closes the code block and collapsed blocks left open where a report was cut."""
    fence = None
    for line in markdown.splitlines():
        run = re.match("`{3,}", line)
        if run and fence is None:
            fence = run.group()
        elif run and run.group() == fence and line.strip() == fence:
            fence = None
    details = markdown.count("<details>") - markdown.count("</details>")
    return (f"\n{fence}" if fence else "") + "\n</details>" * max(0, details)
