"""One rich Console per run, with colour decided once, up front.

rich decides whether colour is wanted (a terminal, and ``NO_COLOR`` unset or
empty); an explicit --color/--no-color wins.  Plain output does not wrap
lines, so CI logs and golden files stay stable.
"""

from __future__ import annotations

import os
import sys

from rich.console import Console


def make_console(color: bool | None = None, stderr: bool = False) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    if color is None:
        probe = Console(file=stream)
        color = probe.is_terminal and not probe.no_color
    if color:
        return Console(file=stream, force_terminal=True, no_color=False, highlight=False)
    return Console(file=stream, color_system=None, force_terminal=False, no_color=True,
                   highlight=False, width=max(_columns(), 60), soft_wrap=True, emoji=False)


def _columns() -> int:
    """COLUMNS when it is a whole number, else 120 (a CI log has no width of its own)."""
    text = os.environ.get("COLUMNS", "").strip()
    return int(text) if text.isdigit() and int(text) > 0 else 120


def print_capped(console: Console, renderables, max_lines: int = 0) -> None:
    """Print the renderables; with ``max_lines``, at most that many lines, then say how many
    were left out (a CI log stays readable however many answers are wrong)."""
    if not max_lines:
        for renderable in renderables:
            console.print(renderable)
        return
    with console.capture() as capture:
        for renderable in renderables:
            console.print(renderable)
    lines = capture.get().splitlines()
    if len(lines) <= max_lines:
        console.file.write("\n".join(lines) + "\n")
        return
    shown = lines[:max(max_lines - 1, 0)]
    note = f"… {len(lines) - len(shown)} more lines (raise --max-lines, or 0 for no limit)"
    console.file.write("\n".join(shown + [note]) + "\n")
