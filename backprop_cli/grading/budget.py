"""What grading reports as it goes, so that a runner can bound each part in time.

Grading calls ``watch(phase, item)`` as it starts on each part of a file; a
runner that had to stop a part hands it back in ``skips`` with the reason, and
grading then marks that part instead of computing it again.
"""

from __future__ import annotations

import enum
from typing import Callable


class Phase(enum.IntEnum):
    LOADING = 0  # reading and solving the exercise, before the first item
    ANSWER = 1  # reading, comparing and diagnosing one answer
    TRACE = 2  # cutting the trace that explains one wrong answer


Watch = Callable[[Phase, str], None]
Skips = dict[tuple[Phase, str], str]  # (phase, item label) -> why that part was stopped


def no_watch(phase: Phase, label: str) -> None:
    pass
