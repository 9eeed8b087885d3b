"""A cheap scan of YAML text before it is parsed: nesting depth and the size of lists.

PyYAML's pure-Python parser spends about 30 microseconds on each value, so a
1 MiB file of ``0,0,0,...`` takes longer to parse than any exercise takes to
grade.  This scan walks the text with one regular expression (brackets,
commas, quotes, comments), so it costs little more than reading the text:

- it refuses ``[[[[`` / ``{{{{`` nesting deeper than the YAML depth limit;
- it counts the entries of every outermost flow list (``[...]``), and of every
  run of rows written ``- [...]`` one per line, and blanks the inside of those
  that hold more entries than a tensor may have.  Blanking keeps every
  character's line and column (line breaks stay), so the parser sees an empty
  list where the long one was, and the caller learns how many entries it had.

Outside brackets, ``[`` and quotes count only where a node can start (line
start, or after ``: - ?`` and a blank), not inside plain text like ``x[1]``;
quoted strings and comments are skipped.  The scan is a bound, not a parser:
whatever it gets wrong about broken YAML, PyYAML reports afterwards.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SCAN = re.compile(r"[\[\]{}'\"#,]")
_BREAK = re.compile(r"\r\n|[\r\n\x85\u2028\u2029]")
_QUOTED = {"'": re.compile(r"'(?:[^']|'')*'"), '"': re.compile(r'"(?:[^"\\]|\\.)*"', re.S)}
_ROW_PREFIX = re.compile(r"[ \t]*-[ \t]+\Z")  # a line's text before a row written '- [...]'
_GAP = re.compile(r"[ \t]*(?:#[^\r\n]*)?(?:\r\n|\r|\n)(?:[ \t]*(?:#[^\r\n]*)?(?:\r\n|\r|\n))*[ \t]*\Z")


class TooDeep(Exception):
    """Nesting past the limit, at character ``index``."""

    def __init__(self, index: int) -> None:
        super().__init__(index)
        self.index = index


@dataclass
class _List:
    start: int  # index of '['
    end: int = -1  # index of the matching ']'
    entries: int = 1
    dash: int = -1  # index of the '-' when the list is a row written '- [...]', else -1
    column: int = -1  # that dash's column


def previous_token_char(text: str, i: int) -> tuple[str, bool]:
    """Last non-blank character before ``i`` on its line ("" at line start), and whether blanks follow it."""
    j = i - 1
    while j >= 0 and text[j] in " \t":
        j -= 1
    prev = "" if j < 0 or text[j] in "\r\n\x85\u2028\u2029" else text[j]
    return prev, j < i - 1


def prescan(text: str, max_depth: int, max_entries: int) -> tuple[str, dict[int, int]]:
    """The text to parse, and {index where a too-long list starts: its entries}.

    Raises :class:`TooDeep` for nesting past ``max_depth``.
    """
    lists = _outer_lists(text, max_depth)
    long: dict[int, int] = {}
    blank: list[_List] = []
    for item in lists:
        if item.entries > max_entries:
            long[item.start] = item.entries
            blank.append(item)
    for run in _row_runs(text, lists):
        total = sum(item.entries for item in run)
        if total > max_entries:
            long[run[0].dash] = total
            blank += run
    if not blank:
        return text, long
    chars = list(text)
    for item in blank:
        for k in range(item.start + 1, item.end):
            if chars[k] not in "\r\n\x85\u2028\u2029":
                chars[k] = " "
    return "".join(chars), long


def _outer_lists(text: str, max_depth: int) -> list[_List]:
    """Every closed outermost ``[...]``, with its entry count (commas at any depth, plus one)."""
    found: list[_List] = []
    depth, pos, current, opener = 0, 0, None, ""
    while m := _SCAN.search(text, pos):
        i, c = m.start(), m.group()
        pos = i + 1
        if c == ",":
            if current is not None:
                current.entries += 1
            continue
        if c in "]}":
            if depth > 0:
                depth -= 1
                if depth == 0 and current is not None and c == "]" and opener == "[":
                    current.end = i
                    found.append(current)
                if depth == 0:
                    current = None
            continue
        prev, gap = previous_token_char(text, i)
        if c == "#":
            if gap or prev == "":
                line_end = _BREAK.search(text, i)
                pos = line_end.start() if line_end else len(text)
            continue
        after_indicator = prev == "" or (prev in ":-?" and gap)
        if c in "'\"":
            if not (after_indicator or (depth > 0 and prev in "[{,:")):
                continue  # a quote inside plain text
            quoted = _QUOTED[c].match(text, i)  # an unclosed quote is left to PyYAML
            pos = quoted.end() if quoted else pos
            continue
        if not (after_indicator or depth > 0):
            continue  # a bracket inside block plain text such as x[1]
        depth += 1
        if depth > max_depth:
            raise TooDeep(i)
        if depth == 1:
            current, opener = _List(i), c
    return found


def _row_runs(text: str, lists: list[_List]) -> list[list[_List]]:
    """Runs of rows written one per line as ``- [...]`` at the same column: one block list each."""
    runs: list[list[_List]] = []
    for item in lists:
        line_start = max(text.rfind("\n", 0, item.start), text.rfind("\r", 0, item.start)) + 1
        prefix = text[line_start:item.start]
        if not _ROW_PREFIX.match(prefix):
            continue
        item.dash = line_start + prefix.index("-")
        item.column = item.dash - line_start
        last = runs[-1][-1] if runs else None
        if (last is not None and last.column == item.column
                and _GAP.match(text[last.end + 1:item.dash])):
            runs[-1].append(item)
        else:
            runs.append([item])
    return runs
