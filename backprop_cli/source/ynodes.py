"""YAML nodes that remember where they were written: what the reader in yamlsrc builds.

A :class:`YScalar` holds the text exactly as YAML gives it (never converted)
and where it stands, so that every problem found later (an expression that
does not parse, an unknown name) names ``file:line:col`` and shows the line.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from functools import cached_property

from backprop_cli.source.errors import Location, Problem

_BREAK = re.compile(r"\r\n|[\r\n\x85\u2028\u2029]")  # line breaks as PyYAML counts them
_NULLS = ("", "~", "null", "Null", "NULL")
_ESCAPE_DIGITS = {"x": 2, "u": 4, "U": 8}  # hex digits after \x, \u, \U in double quotes


@dataclass(frozen=True)
class Source:
    """One input file: its name as the user gave it, and its decoded text."""

    name: str
    text: str = field(repr=False)

    @cached_property
    def _line_starts(self) -> list[int]:
        return line_starts(self.text)

    def line(self, n: int) -> str | None:
        """Source line ``n`` (1-based) without its line break, None if out of range."""
        starts = self._line_starts
        if not 1 <= n <= len(starts):
            return None
        end = starts[n] if n < len(starts) else len(self.text)
        return _BREAK.sub("", self.text[starts[n - 1] : end])

    def location(self, index: int) -> Location:
        """Location of character ``index`` (0-based) of the text."""
        starts = self._line_starts
        n = bisect.bisect_right(starts, max(0, index))
        return Location(self.name, n, index - starts[n - 1] + 1)


@dataclass
class YNode:
    location: Location  # start of the node
    source: Source = field(repr=False, compare=False)


@dataclass
class YScalar(YNode):
    text: str  # the value exactly as YAML gives it, never converted
    style: str  # "plain", "single", "double", "literal" or "folded"
    start_index: int = field(default=-1, repr=False, compare=False)  # in source.text
    end_index: int = field(default=-1, repr=False, compare=False)
    flaw: Problem | None = field(default=None, repr=False, compare=False)  # why it is not text; raised when read

    @property
    def is_null(self) -> bool:
        return self.style == "plain" and self.text in _NULLS

    def location_at(self, offset: int) -> Location:
        """Location of character ``offset`` of :attr:`text` (best effort, see _source_index)."""
        if self.start_index < 0 or not self.text:
            return self.location
        offset = max(0, offset)
        last = min(offset, len(self.text) - 1)
        index = self._source_index(last)
        if index is None:
            return self.location
        return self.source.location(index + offset - last)

    def problem(self, message: str, offset: int = 0, length: int = 1, hint: str | None = None) -> Problem:
        loc = self.location_at(offset)
        return Problem(message, loc, hint, snippet(self.source, loc), max(1, length))

    def _content_start(self) -> int:
        if self.style in ("single", "double"):
            return self.start_index + 1  # skip the opening quote
        if self.style in ("literal", "folded"):  # skip the header line "|2- # comment"
            m = _BREAK.search(self.source.text, self.start_index, self.end_index)
            return m.end() if m else self.end_index
        return self.start_index

    def _source_index(self, k: int) -> int | None:
        """Source index of text character ``k``, matching text against source greedily.

        Exact for single-line scalars (quote escapes included); for folded or
        multi-line text, indentation and line breaks are skipped, which is
        right for every character that is not a folding space.
        """
        src, i, end = self.source.text, self._content_start(), self.end_index
        found = None
        for ch in self.text[: k + 1]:
            found = None
            while found is None and i < end:
                c = src[i]
                if c == "\\" and self.style == "double":
                    nxt = src[i + 1 : i + 2]
                    if nxt and nxt in "\r\n\x85\u2028\u2029":  # escaped line break: no text
                        i += 1
                        continue
                    found, i = i, i + 2 + _ESCAPE_DIGITS.get(nxt, 0)
                elif c == ch:
                    step = 2 if c == "'" and self.style == "single" else 1  # '' is one quote
                    found, i = i, i + step
                else:
                    i += 1
            if found is None:
                return None
        return found


@dataclass
class YMapping(YNode):
    items: list[tuple[YScalar, YNode]]  # in file order

    def get(self, key: str) -> YNode | None:
        return next((value for k, value in self.items if k.text == key), None)

    def key_node(self, key: str) -> YScalar | None:
        return next((k for k, _ in self.items if k.text == key), None)

    def keys(self) -> list[str]:
        return [k.text for k, _ in self.items]


@dataclass
class YSequence(YNode):
    items: list[YNode]
    oversized: int = field(default=0, compare=False)  # entries of a list too long to parse (then no items)


def line_starts(text: str) -> list[int]:
    """Where each line of ``text`` starts, lines broken as PyYAML breaks them.  Most files break
    lines with '\n' alone, found by substring search: the regular expression that also knows the
    other breaks tries each character in turn, at several times the cost."""
    if "\r" in text or "\x85" in text or "\u2028" in text or "\u2029" in text:
        return [0] + [m.end() for m in _BREAK.finditer(text)]
    starts, at = [0], text.find("\n")
    while at >= 0:
        starts.append(at + 1)
        at = text.find("\n", at + 1)
    return starts


def is_missing(node: YNode | None) -> bool:
    """Absent, or written with no value (``key:``, ``key: null``, ``key: ~``)."""
    return node is None or (isinstance(node, YScalar) and node.is_null)


def snippet(source: Source, loc: Location) -> str | None:
    """The source line of ``loc``, cut short when it is very long (e.g. 100000 brackets)."""
    line = source.line(loc.line)
    return None if line is None else line[: max(loc.column + 80, 160)]


def node_problem(node: YNode, message: str, hint: str | None = None) -> Problem:
    return Problem(message, node.location, hint, snippet(node.source, node.location))


def problem_at(source: Source, index: int, message: str, hint: str | None = None, span: int = 1) -> Problem:
    loc = source.location(index)
    return Problem(message, loc, hint, snippet(source, loc), span)
