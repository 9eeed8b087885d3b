"""Rich renderables for traces and check reports (text format).

Values are cyan and gradients magenta, as on CS231n's wire diagrams; piped
output gets the same words without colour.
"""

from __future__ import annotations

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from backprop_cli.source.errors import one_line, printable
from backprop_cli.grading.results import FileResult, ItemResult, Status
from backprop_cli.explain.trace import BackwardEntry, Trace

VALUE = "cyan"
GRAD = "magenta"
STATUS_STYLE = {Status.CORRECT: "green", Status.INCORRECT: "red", Status.MISSING: "yellow",
                Status.INVALID: "red"}
STATUS_MARK = {Status.CORRECT: "✓", Status.INCORRECT: "✗", Status.MISSING: "?", Status.INVALID: "!"}


def forward_table(trace: Trace) -> Table:
    shapes = any(row.shape for row in trace.forward)
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, title_justify="left")
    table.add_column("step", style="bold")
    table.add_column("definition")
    if shapes:
        table.add_column("shape")
    table.add_column("value", style=VALUE, overflow="fold")
    table.add_column("decimal", style=VALUE, overflow="fold")
    for row in trace.forward:
        definition = row.definition if row.step is None else f"{row.definition}   (in {row.step})"
        cells = [row.name, definition] + ([row.shape or ""] if shapes else []) + [row.value, row.decimal or ""]
        table.add_row(*(Text(c) for c in cells))  # Text: '[...]' is a matrix here, not rich markup
    return table


def backward_lines(entry: BackwardEntry) -> Text:
    text = Text("\n".join(entry.lines()))
    text.stylize(f"bold {GRAD}", 0, len(entry.target))
    last = text.plain.rfind("= " + entry.stages[-1])
    text.stylize(f"bold {GRAD}", last + 2, last + 2 + len(entry.stages[-1]))
    return text


def trace_group(trace: Trace, heading: str | None = None) -> Group:
    parts: list[RenderableType] = []
    if heading:
        parts.append(Text(one_line(heading), style="bold"))
    if trace.forward:
        parts += [Text("Forward pass", style="bold underline"), forward_table(trace)]
    if trace.note:
        parts.append(Text("\n" + trace.note, style="dim"))
    if trace.backward or trace.independent:
        parts.append(Text(f"\nBackward pass (gradients of {trace.of}, from the output back)",
                          style="bold underline"))
        for entry in trace.backward:
            parts.append(backward_lines(entry))
        parts += [Text(line, style=GRAD) for line in trace.independent_lines()]
    return Group(*parts)


def report_group(result: FileResult) -> Group:
    """One file's check result: a line per item, then how to reach each wrong one."""
    head = Text(one_line(result.file), style="bold")
    if result.title:
        head.append(one_line(f" — {result.title}"))
    if result.error is not None:
        parts = [head, Text(printable(result.error), style="red"),
                 *(Text(one_line(f"Note: {note}"), style="yellow") for note in result.notes)]
        if result.max_score:  # the exercise is known: its points count in the total
            parts.append(Text(f"\nScore: {_num(result.score)}/{_num(result.max_score)}", style="bold"))
        return Group(*parts)
    parts: list[RenderableType] = [head]
    if result.first_wrong:
        parts.append(Text(f"First wrong step: {result.first_wrong} (explained first below)", style="bold red"))
    key_width = max((len(i.key) for i in result.items), default=0)
    for item in result.items:
        line = Text(f"  {STATUS_MARK[item.status]} {item.status.value:<9} ", style=STATUS_STYLE[item.status])
        line.append(one_line(f"{item.key:<{key_width}}  "), style="bold")
        line.append_text(_item_summary(item))
        if item.diagnosis:
            line.append(f"  [{item.diagnosis}]", style="yellow")
        line.rstrip()
        parts.append(line)
        if item.note and item.status is Status.CORRECT:  # a wrong item's notes come with its explanation
            parts.append(Text(one_line(f"    note: {item.note}"), style="yellow"))
    by_label = {item.key: item for item in result.items}
    for item in (by_label[label] for label in result.wrong_in_order):
        if not (item.message or item.feedback or item.note or item.right_entries is not None or item.trace):
            continue
        parts.append(Text("\n" + one_line(f"{item.key}:"), style="bold"))
        if item.message:
            parts.append(Text(printable(item.message), style="red"))
        if item.feedback:
            parts.append(Text(one_line(item.feedback[0].upper() + item.feedback[1:] + "."), style="yellow"))
        if item.note:
            parts.append(Text(one_line(item.note[0].upper() + item.note[1:] + "."), style="dim"))
        if item.right_entries is not None:
            parts += [Text("Entry by entry (rows and columns from 1):"), entry_grid(item)]
        if item.trace is not None:
            parts.append(trace_group(item.trace, f"How to get {item.key}:"))
    if result.not_asked:
        parts.append(Text(one_line("Not asked, not graded: " + ", ".join(result.not_asked)), style="yellow"))
    parts += [Text(one_line(f"Note: {note}"), style="yellow") for note in result.notes]
    parts.append(Text(f"\nScore: {_num(result.score)}/{_num(result.max_score)}", style="bold"))
    return Group(*parts)


def _item_summary(item: ItemResult) -> Text:
    text = Text()
    if item.answer is not None:
        text.append("your answer ")
        text.append(_inline(item.answer), style=VALUE)
    elif item.status is Status.MISSING:
        text.append("no answer")
    if item.right_entries is not None and item.status is not Status.CORRECT:
        wrong = sum(not ok for row in item.right_entries for ok in row)
        total = sum(len(row) for row in item.right_entries)
        text.append(f": {wrong} of {total} entries wrong")
    elif item.status is not Status.CORRECT and item.expected is not None:
        text.append(", expected " if len(text) else "expected ")
        text.append(_inline(item.expected), style=VALUE)
    return text


def _inline(value: str | list) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_inline(v) for v in value) + "]"
    return one_line(value)


def entry_grid(item: ItemResult) -> Table:
    """A wrong tensor answer entry by entry, the wrong ones marked (and corrected, unless hidden)."""
    table = Table(box=box.SQUARE, show_header=False, padding=(0, 1))
    for _ in item.right_entries[0]:
        table.add_column(justify="right")
    expected = item.expected if not isinstance(item.expected, str) else [[item.expected]]  # 1x1 answer
    for i, row in enumerate(item.right_entries):
        cells = []
        for j, ok in enumerate(row):
            answer = one_line(item.answer[i][j])
            if ok:
                cells.append(Text(answer, style="green"))
            else:
                right = f" → {expected[i][j]}" if expected is not None else ""
                cells.append(Text(f"✗ {answer}{right}", style="bold red"))
        table.add_row(*cells)
    return table


def _num(x: float) -> str:
    return f"{x:g}"
