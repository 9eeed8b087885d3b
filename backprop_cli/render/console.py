"""One rich Console per run, with colour decided once, up front.

Colour is on for a terminal and off when piped or when NO_COLOR is set; an
explicit --color/--no-color wins.  Plain output does not wrap lines, so CI
logs and golden files stay stable.
"""

from __future__ import annotations

import os
import sys

from rich.console import Console


def make_console(color: bool | None = None, stderr: bool = False) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    if color is None:
        color = stream.isatty() and "NO_COLOR" not in os.environ
    if color:
        return Console(file=stream, force_terminal=True, highlight=False)
    width = int(os.environ.get("COLUMNS", "0") or 0) or 120
    return Console(file=stream, color_system=None, force_terminal=False, no_color=True,
                   highlight=False, width=max(width, 60), soft_wrap=True, emoji=False)
