"""One rich Console per run, with colour decided once, up front.

rich decides whether colour is wanted (a terminal, and ``NO_COLOR`` unset or
empty); an explicit --color/--no-color wins.  Plain output does not wrap
lines, so CI logs and golden files stay stable.
"""

from __future__ import annotations

import os
import re
import sys

from rich.console import Console


def make_console(color: bool | None = None, stderr: bool = False, file=None) -> Console:
    """A console on stdout (stderr, or ``file``, e.g. a buffer for ``--output``)."""
    stream = file if file is not None else sys.stderr if stderr else sys.stdout
    environ = _environ()
    if color is None:
        probe = Console(file=stream, _environ=environ)
        color = probe.is_terminal and not probe.no_color
    if color:
        return Console(file=stream, force_terminal=True, no_color=False, highlight=False, _environ=environ)
    return Console(file=stream, color_system=None, force_terminal=False, no_color=True,
                   highlight=False, width=max(_columns(), 60), soft_wrap=True, emoji=False, _environ=environ)


_SIZE = re.compile(r"0*[1-9][0-9]{0,4}")  # 1 to 99999 in ASCII digits: '²' is a digit to str.isdigit, not to int()
_SIZES = ("COLUMNS", "LINES", "JUPYTER_COLUMNS", "JUPYTER_LINES")


def _environ() -> dict[str, str]:
    """The environment as rich reads it, with sizes it cannot read taken out (rich trusts isdigit)."""
    env = dict(os.environ)
    for name in _SIZES:
        if name in env and not _SIZE.fullmatch(env[name].strip()):
            del env[name]
    return env


def _columns() -> int:
    """COLUMNS when it is a whole number, else 120 (a CI log has no width of its own)."""
    text = os.environ.get("COLUMNS", "").strip()
    return int(text) if _SIZE.fullmatch(text) else 120


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
