"""What validation finds: errors and warnings, each a positioned problem with a code."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from backprop_cli.source.errors import Problem


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"


class Code(str, enum.Enum):
    FORMAT = "format"  # the file cannot be read as an exercise
    KEY = "key"  # the engine, sympy.diff and finite differences disagree
    QUESTION_TEST = "question-test"  # a question test does not hold
    VARIANT = "variant"  # variants cannot be drawn
    KINK = "kink"  # a relu or abs at 0, a max or min tie, at the given values
    UNUSED_GIVEN = "unused-given"
    DEGENERATE = "degenerate"  # the loss is 0, or every asked gradient is 0
    GIVE_AWAY = "give-away"  # one asked answer equals another
    UNWIELDY = "unwieldy-decimals"  # decimal givens make an exact answer long


@dataclass(frozen=True)
class Finding:
    severity: Severity
    code: Code
    problem: Problem

    def render(self) -> str:
        text = self.problem.render()
        if self.severity is Severity.ERROR:
            return text
        head, _, rest = text.partition("\n")
        location = f"{self.problem.location}: " if self.problem.location else ""
        head = location + "warning: " + head[len(location):]
        return head + ("\n" + rest if rest else "")


def error(code: Code, problem: Problem) -> Finding:
    return Finding(Severity.ERROR, code, problem)


def warning(code: Code, problem: Problem) -> Finding:
    return Finding(Severity.WARNING, code, problem)
