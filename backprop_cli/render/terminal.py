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
from backprop_cli.explain.trace import BackwardEntry, ForwardRow, Trace

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


def backward_lines(entry: BackwardEntry, width: int | None = None) -> Text:
    """The entry's lines; with ``width``, a longer line breaks at a space and goes on indented
    under its '=' (a product of tensors does not fit on one line)."""
    lines = entry.lines() if width is None else _hang(entry.lines(), width, len(entry.target) + 3)
    text = Text("\n".join(lines))
    text.stylize(f"bold {GRAD}", 0, len(entry.target))
    last = text.plain.rfind("= " + entry.stages[-1])
    text.stylize(f"bold {GRAD}", last + 2, last + 2 + len(entry.stages[-1]))
    return text


def _hang(lines: list[str], width: int, indent: int) -> list[str]:
    out = []
    for line in lines:
        while len(line) > width:
            cut = line.rfind(" ", indent + 10, width)
            if cut < 0:
                break
            out.append(line[:cut])
            line = " " * indent + line[cut + 1:]
        out.append(line)
    return out


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
    if trace.updates:
        parts.append(Text("\nUpdates, one chain each", style="bold underline"))
        parts += [backward_lines(entry) for entry in trace.updates]
    return Group(*parts)


def score_text(x: float) -> str:
    """A score with at most two decimals and no trailing zeros: 7, 7.5, 7.33."""
    text = f"{x:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def report_group(result: FileResult, width: int = 100) -> Group:
    """One file's check result: a line per item, then how to reach each wrong one.

    With focused results (``check``'s default) every line fits in ``width``; with the
    full slices of ``check --verbose`` the trace lines are as long as they need to be.
    """
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
    by_label = {item.key: item for item in result.items}
    explained = [by_label[label] for label in result.wrong_in_order if _has_section(by_label[label])]
    if result.first_wrong and (len(result.wrong_in_order) > 1 or any(i.trace for i in result.items)):
        first = f"First wrong step: {result.first_wrong}"
        if explained and explained[0].key == result.first_wrong:
            first += " (explained first below)"
        parts.append(Text(first, style="bold red"))
    key_width = max((len(i.key) for i in result.items), default=0)
    for item in result.items:
        line = Text(f"  {STATUS_MARK[item.status]} {item.status.value:<9} ", style=STATUS_STYLE[item.status])
        line.append(one_line(f"{item.key:<{key_width}}  "), style="bold")
        tag = f"  [{item.diagnosis}]" if item.diagnosis else ""
        if result.points_shown:
            tag += f"  {score_text(item.points)}/{score_text(item.max_points)}"
        line.append_text(_item_summary(item, width - len(line) - len(tag)))
        if item.diagnosis:
            line.append(f"  [{item.diagnosis}]", style="yellow")
        if result.points_shown:
            line.append(f"  {score_text(item.points)}/{score_text(item.max_points)}", style="bold")
        line.rstrip()
        parts.append(line)
        if item.note and item.status is Status.CORRECT:  # a wrong item's notes come with its explanation
            parts.append(Text(one_line(f"    note: {item.note}"), style="yellow"))
    if result.forward:
        parts += [Text("\nForward pass (the steps your wrong values depend on)", style="bold underline"),
                  step_table(result.forward)]
    for item in explained:
        parts += _section(item, width) if item.trace is None else _full_section(item)
    if result.not_asked:
        parts.append(_wrapped("Not asked, not graded: " + ", ".join(result.not_asked), "yellow"))
    parts += [_wrapped(f"Note: {note}", "yellow") for note in result.notes]
    parts.append(Text(""))
    if result.more:
        parts.append(Text(one_line(f"Every step of every wrong answer: {result.more}"), style="dim"))
    parts.append(Text(f"Score: {_num(result.score)}/{_num(result.max_score)}", style="bold"))
    return Group(*parts)


def _has_section(item: ItemResult) -> bool:
    return bool(item.message or item.feedback or item.note or item.trace or item.focus
                or (item.right_entries is not None and not _single(item)))


def _full_section(item: ItemResult) -> list[RenderableType]:
    """``check --verbose``: the message, the grid and the whole slice of the trace."""
    parts: list[RenderableType] = [Text("\n" + one_line(f"{item.key}:"), style="bold")]
    if item.message:
        parts.append(Text(printable(item.message), style="red"))
    if item.feedback:
        parts.append(Text(one_line(_sentence(item.feedback)), style="yellow"))
    if item.note:
        parts.append(Text(one_line(_sentence(item.note)), style="dim"))
    if item.right_entries is not None:
        parts += [Text("Entry by entry (rows and columns from 1):"), entry_grid(item)]
    if item.trace is not None:
        parts.append(trace_group(item.trace, f"How to get {item.key}:"))
    return parts


def _section(item: ItemResult, width: int) -> list[RenderableType]:
    """``check``: what is wrong, the grid, and the lines that lead to the first wrong entry."""
    grid = item.right_entries is not None and not _single(item)
    parts: list[RenderableType] = [Text("")]
    if grid:
        parts.append(Text(one_line(f"{item.key}, entry by entry (rows and columns from 1):"), style="bold"))
    elif item.message or item.feedback or item.focus is None:
        parts.append(Text(one_line(f"{item.key}:"), style="bold"))
    if item.message:
        parts.append(_wrapped(item.message, "red", one=False))
    if item.feedback:
        parts.append(_wrapped(_sentence(item.feedback), "yellow"))
    if item.note:
        parts.append(_wrapped(_sentence(item.note), "dim"))
    if grid:
        parts.append(entry_grid(item, full=False, width=width))
    focus = item.focus
    if focus is not None:
        parts.append(_wrapped(focus.title, "bold"))
        for entry in focus.backward:
            parts.append(backward_lines(entry, width))
        parts += [_wrapped(note, "dim") for note in focus.notes]
        if focus.command:  # whole, to be copied
            parts.append(Text(one_line(focus.command), style="dim"))
    return parts


def _sentence(text: str) -> str:
    return text[0].upper() + text[1:] + "."


def _wrapped(text: str, style: str = "", one: bool = True) -> Text:
    """Text that wraps at the console's width (plain output otherwise keeps long lines whole);
    ``one``: a sentence, kept on one logical line (a message has lines of its own)."""
    return Text(one_line(text) if one else printable(text), style=style, no_wrap=False, overflow="fold")


def step_table(rows: list[ForwardRow]) -> Table:
    """The forward values of some steps, as written, each value once (exact ≈ decimal)."""
    shapes = any(row.shape for row in rows)
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column("step", style="bold")
    table.add_column("definition", overflow="fold")
    if shapes:
        table.add_column("shape")
    table.add_column("value", style=VALUE, overflow="fold")
    for row in rows:
        cells = [row.name, row.definition] + ([row.shape or ""] if shapes else []) + [row.value]
        table.add_row(*(Text(printable(c)) for c in cells))
    return table


def _item_summary(item: ItemResult, room: int) -> Text:
    """'your answer 3, expected 2' in at most ``room`` characters: a long answer or expected
    value is cut short (the grid below shows every entry)."""
    if item.status is Status.MISSING:
        return Text("no answer yet" + (f" ({item.hint})" if item.hint else ""))
    if item.status is Status.INVALID and item.trace is None:  # what is wrong is said below
        text = Text()
        if item.answer is not None:
            text.append("your answer ")
            text.append(_cut(_inline(item.answer), max(room - 24, 16)), style=VALUE)
            text.append(" ")
        text.append("(see below)")
        return text
    if item.right_entries is not None and item.status is not Status.CORRECT and not _single(item):
        wrong = sum(not ok for row in item.right_entries for ok in row)
        total = sum(len(row) for row in item.right_entries)
        if item.trace is None:  # the grid below shows the answer
            return Text(f"{wrong} of {total} entries wrong")
        tail = f": {wrong} of {total} entries wrong"
    else:
        tail = ""
    answer = _inline(item.answer) if item.answer is not None else None
    expected = None
    if not tail and item.status is not Status.CORRECT and item.expected is not None:
        expected = _inline(item.expected if item.trace is not None else item.expected_text)
    words = ["your answer ", ", expected "] if answer is not None else ["", "expected "]
    fixed = len(tail) + (len(words[0]) if answer is not None else 0) + (len(words[1]) if expected else 0)
    space = max(room - fixed, 16)
    if answer is not None and expected is not None:
        answer = _cut(answer, max(space - min(len(expected), space // 2), 8))
        expected = _cut(expected, max(space - len(answer), 8))
    elif answer is not None:
        answer = _cut(answer, space)
    elif expected is not None:
        expected = _cut(expected, space)
    text = Text()
    if answer is not None:
        text.append(words[0])
        text.append(answer, style=VALUE)
    if expected is not None:
        text.append(words[1])
        text.append(expected, style=VALUE)
    text.append(tail)
    return text


def _single(item: ItemResult) -> bool:
    """A 1x1 answer: said on its line, like a number, with no grid."""
    return item.right_entries is not None and len(item.right_entries) == 1 and len(item.right_entries[0]) == 1


def _cut(text: str, room: int) -> str:
    return text if len(text) <= room else text[:max(room - 1, 1)] + "…"


def _inline(value: str | list) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_inline(v) for v in value) + "]"
    return one_line(value)


GRID_ANSWER = 11  # characters of an answer a focused grid's cell keeps at least


def entry_grid(item: ItemResult, full: bool = True, width: int = 100) -> Table:
    """A wrong tensor answer entry by entry, the wrong ones marked (and corrected, unless hidden).

    ``full`` shows each answer and expected value whole (``check --verbose``); otherwise a
    long answer is cut to what its column has room for in ``width`` (a wrong cell also holds
    ``✗ `` and the expected value) and the expected value is written for reading (``≈ -0.0005552``).
    """
    table = Table(box=box.SQUARE, show_header=False, padding=(0, 1))
    for _ in item.right_entries[0]:
        table.add_column(justify="right", overflow="fold")
    expected = item.expected if full else item.expected_text
    expected = expected if not isinstance(expected, str) else [[expected]]  # 1x1 answer
    if expected is not None and not full:  # a grid of decimals needs no '≈' in every cell
        expected = [[e.removeprefix("≈ ") for e in row] for row in expected]
    longest = max((len(e) for row in expected or [] for e in row), default=0)
    # a cell: padding and border (3), and in a wrong one '✗ ' and ' → ' around the expected value
    room = max(GRID_ANSWER, (width - 1) // len(item.right_entries[0]) - 3 - 5 - longest)
    for i, row in enumerate(item.right_entries):
        cells = []
        for j, ok in enumerate(row):
            answer = one_line(item.answer[i][j] if full else _cut(item.answer[i][j], room))
            if ok:
                cells.append(Text(answer, style="green"))
            else:
                right = f" → {expected[i][j]}" if expected is not None else ""
                cells.append(Text(f"✗ {answer}{right}", style="bold red"))
        table.add_row(*cells)
    return table


def _num(x: float) -> str:
    """A score: 7, 7.5, 7.33 (at most two decimals)."""
    return score_text(x)
