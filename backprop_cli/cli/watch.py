"""``check --watch``: grade again each time a file is saved, until Ctrl-C.

Files are polled (their size and modification time, twice a second): no
file-watching library, no thread, and nothing to clean up on exit.  A file
that disappears (an editor saving by renaming) counts as changed.
"""

from __future__ import annotations

import os
import signal
import time
from typing import Callable, Iterable

from backprop_cli.cli.common import Stopped

POLL_SECONDS = 0.5


def stamps(paths: Iterable[str]) -> tuple:
    """What changes when a file is saved: its size and modification time (None when absent)."""
    out = []
    for path in paths:
        try:
            info = os.stat(path)
            out.append((info.st_mtime_ns, info.st_size))
        except OSError:
            out.append(None)
    return tuple(out)


def watch(paths: list[str], run: Callable[[], None], interval: float = POLL_SECONDS) -> None:
    """Call ``run`` now and after every change to ``paths``; return on Ctrl-C."""
    seen = None
    try:
        while True:
            now = stamps(paths)
            if now != seen:
                seen = now
                run()
            time.sleep(interval)
    except KeyboardInterrupt:
        return
    except Stopped as stopped:  # Ctrl-C is how a watch ends: exit 0; SIGTERM still stops it
        if stopped.number != signal.SIGINT:
            raise
