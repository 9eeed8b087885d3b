"""User-facing errors.

Everything a user can fix is reported as a :class:`Problem` with a
:class:`Location` (file, 1-based line and column) and, where it helps, the
source line with a caret under the culprit and a hint saying what to change.
Library code raises :class:`BackpropError`; the CLI renders its problems and
never shows a traceback unless ``--debug`` is given.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass


_ESCAPED = ("Cc", "Cf", "Cs", "Zl", "Zp")  # controls, formats, lone surrogates, line and paragraph separators


def printable(text: str) -> str:
    """Text safe to put on a terminal: control and format characters written as escapes.

    Answers and file names come from students; an ESC in an answer could
    otherwise clear the teacher's screen or fake a green "correct".  Line
    breaks and tabs are kept: this is for our own messages, whose lines are
    joined with ``\\n``; text from a file or a command line goes through
    :func:`one_line`.
    """
    if text.isprintable():
        return text
    return "".join(c if c in "\n\t" or unicodedata.category(c) not in _ESCAPED else _escape(c) for c in text)


def one_line(text: str) -> str:
    """Student or file text on one line: :func:`printable`, and line breaks written as escapes too.

    A line break in an answer, an answer key or a file name could otherwise
    start a line of its own in the report ("Score: 2/2").
    """
    if text.isprintable():
        return text
    return "".join(c if c == "\t" or unicodedata.category(c) not in _ESCAPED else _escape(c) for c in text)


def _escape(c: str) -> str:
    return c.encode("unicode_escape", "backslashreplace").decode("ascii") if c != "\ufffd" else c


@dataclass(frozen=True)
class Location:
    file: str
    line: int  # 1-based
    column: int  # 1-based

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Problem:
    message: str
    location: Location | None = None
    hint: str | None = None
    snippet: str | None = None  # the source line the location points into
    span: int = 1  # how many characters the caret underlines

    def render(self) -> str:
        """Plain text: ``file:line:col: message``, then snippet, caret and hint."""
        head = f"{self.location}: {self.message}" if self.location else self.message
        lines = [one_line(head)]  # every part one line: what it quotes cannot start a line of its own
        if self.snippet is not None and self.location is not None:
            lines.append("  " + one_line(self.snippet))
            lines.append("  " + " " * (self.location.column - 1) + "^" * max(1, self.span))
        if self.hint:
            lines.append(one_line(f"  hint: {self.hint}"))
        return "\n".join(lines)


class BackpropError(Exception):
    """An error in user input (exercise, answers or command line): one or more problems."""

    def __init__(self, problems: list[Problem] | Problem | str):
        if isinstance(problems, str):
            problems = [Problem(problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        super().__init__("\n".join(p.render() for p in self.problems))


class ExpressionError(Exception):
    """An error inside one expression's text, positioned by character offset.

    The parser does not know which file or YAML scalar the text came from; the
    caller turns the offset into a :class:`Location` with :meth:`to_problem`.
    """

    def __init__(self, message: str, offset: int = 0, length: int = 1, hint: str | None = None):
        self.message = message
        self.offset = offset  # 0-based character offset into the expression text
        self.length = max(1, length)
        self.hint = hint
        super().__init__(message)

    def to_problem(self, location: Location | None, snippet: str | None = None) -> Problem:
        return Problem(self.message, location, self.hint, snippet, self.length)


@dataclass(frozen=True)
class Where:
    """Where something was written: enough to build a Problem pointing at it."""

    location: Location
    snippet: str | None = None
    span: int = 1

    def problem(self, message: str, hint: str | None = None) -> Problem:
        return Problem(message, self.location, hint, self.snippet, self.span)
