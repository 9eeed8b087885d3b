"""What grading reports as it goes, so that a runner can bound each part in time.

Grading calls ``watch(phase, item)`` as it starts on each part of a file; a
runner that had to stop a part hands it back in ``skips`` with the reason, and
grading then marks that part instead of computing it again.

The parts have separate clocks: reading the file, working out the exercise
(its graph, values and right answers, the same for every student), and one
clock per answer that covers everything done for that answer (reading and
comparing it, naming its mistake, cutting its trace), however those steps are
interleaved with other answers' steps.
"""

from __future__ import annotations

import enum
import hashlib
from typing import Callable


class Phase(enum.IntEnum):
    READING = 0  # reading the file's text as YAML (the exercise and any answers in it)
    LOADING = 1  # working out the exercise: graph, values, right answers and how they print
    ANSWER = 2  # reading one answer and comparing it with the right one
    DIAGNOSIS = 3  # naming the mistake of one wrong answer
    TRACE = 4  # cutting the trace that explains one wrong answer

    @property
    def per_answer(self) -> bool:
        """Whether this part is charged to one answer's budget (else to the file's)."""
        return self >= Phase.ANSWER


Watch = Callable[[Phase, str], None]
Skips = dict[tuple[Phase, str], str]  # (phase, item_id(label)) -> what went wrong, e.g. "took longer than 2 s"

_LONGEST_ID = 1000  # bytes of a label a runner passes on as it is


def no_watch(phase: Phase, label: str) -> None:
    pass


def item_id(label: str) -> str:
    """How a runner names an item: its label, or a digest of a very long one (a hostile key)."""
    data = label.encode("utf-8", "surrogatepass")
    return label if len(data) <= _LONGEST_ID else "#" + hashlib.sha256(data).hexdigest()


def skipped(skips: Skips, phase: Phase, label: str) -> str | None:
    """Why this part of this item was stopped on an earlier try, or None to do it."""
    return skips.get((phase, item_id(label))) if skips else None


def stopped(phase: Phase, why: str) -> str:
    """The sentence a student reads when part of grading their answer was stopped.

    Only a stopped reading or comparing makes an answer ``invalid``; a stopped
    diagnosis or trace leaves the verdict standing and says it was cut short.
    """
    if phase is Phase.ANSWER:
        return f"grading this answer {why}; it was stopped (the other answers are graded)"
    if phase is Phase.DIAGNOSIS:
        return f"naming the mistake {why}, so it was cut short; the grade stands"
    if phase is Phase.TRACE:
        return f"working out the explanation {why}, so it was left out"
    return f"{why} while {'reading the file' if phase is Phase.READING else 'reading the exercise'}"


def failure_words(err: Exception, what: str, done: str = "graded") -> tuple[str, bool]:
    """What to say when working on ``what`` raised ``err``, and whether that is a bug of ours.

    Numbers too large to work with (``sin(exp(exp(exp(10))))`` overflows a float) and nesting
    too deep are the input's doing; anything else is ours, said as an internal error.
    """
    text = str(err)
    if isinstance(err, OverflowError) or (isinstance(err, ValueError) and "digits" in text):
        return f"a number in {what} is too large to work with", False
    if isinstance(err, RecursionError):
        return f"{what} is nested too deeply to work with", False
    if isinstance(err, ZeroDivisionError):
        return f"{what} divides by zero", False
    return (f"{what} could not be {done}: internal error ({type(err).__name__}: {text[:200]}); "
            "please report this"), True
