"""Time spent on each item of a file, measured from the progress grading reports.

Grading calls ``watch(phase, label)`` as it starts each part of a file (see
:mod:`backprop_cli.grading.budget`); the time from one call to the next
belongs to the part that was started, so an item's time adds up its
reading, comparing, diagnosing and tracing.  JUnit, Gradescope and GitHub
Classroom reports carry these times; the gradebook does not, so that it is
the same on every run.
"""

from __future__ import annotations

import time

from backprop_cli.grading.budget import Phase, Watch, no_watch


class Stopwatch:
    """A :data:`Watch` that times each item and passes every call on to ``inner``."""

    def __init__(self, inner: Watch = no_watch, clock=time.perf_counter) -> None:
        self.inner, self.clock = inner, clock
        self.started = self.last = clock()
        self.label: str | None = None  # the item being worked on; None while loading
        self.seconds: dict[str, float] = {}

    def __call__(self, phase: Phase, label: str) -> None:
        self._lap()
        self.label = label if phase.per_answer else None  # reading and loading are the file's
        self.inner(phase, label)

    def stop(self) -> float:
        """End the current item; the time since the stopwatch started."""
        self._lap()
        self.label = None
        return self.last - self.started

    def _lap(self) -> None:
        now = self.clock()
        if self.label is not None:
            self.seconds[self.label] = self.seconds.get(self.label, 0.0) + now - self.last
        self.last = now
