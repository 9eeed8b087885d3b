"""Safe YAML loading that remembers where every key and value came from.

Every error the grader reports must name ``file:line:col``, and numbers are
read by our own expression parser, so PyYAML never constructs Python objects
here (no YAML 1.1 implicit typing: ``no`` stays the text "no", ``010`` stays
"010").  We stream the pure-Python parser's events and build a small tree of
:class:`YNode` objects holding raw scalar text and positions, with an explicit
stack so that no input can exhaust the Python stack.  Hostile or broken input
is refused early with a positioned :class:`BackpropError`: oversized files,
bad UTF-8, control characters, deep nesting, anchors and aliases (alias
bombs), explicit tags (``!!python/object``), duplicate keys and several
documents in one file.
"""

from __future__ import annotations

import bisect
import os
import re
from dataclasses import dataclass, field
from functools import cached_property

import yaml
from yaml.reader import Reader

from backprop_cli.source.errors import BackpropError, Location, Problem
from backprop_cli.source.limits import DEFAULT, Limits

_BREAK = re.compile(r"\r\n|[\r\n\x85\u2028\u2029]")  # line breaks as PyYAML counts them
_STYLES = {None: "plain", "": "plain", "'": "single", '"': "double", "|": "literal", ">": "folded"}
_NULLS = ("", "~", "null", "Null", "NULL")
_ESCAPE_DIGITS = {"x": 2, "u": 4, "U": 8}  # hex digits after \x, \u, \U in double quotes
_FLOW_SCAN = re.compile(r"[\[\]{}'\"#]")
_QUOTED = {"'": re.compile(r"'(?:[^']|'')*'"), '"': re.compile(r'"(?:[^"\\]|\\.)*"', re.S)}
_OPEN_ERRORS = {FileNotFoundError: "no such file", IsADirectoryError: "it is a directory, not a file",
                PermissionError: "permission denied"}
_TAG = re.compile(r"![^\s,\[\]{}]*")
_ALIAS_MESSAGE = "YAML anchors and aliases are not allowed here: write the value out in full"


@dataclass(frozen=True)
class Source:
    """One input file: its name as the user gave it, and its decoded text."""

    name: str
    text: str = field(repr=False)

    @cached_property
    def _line_starts(self) -> list[int]:
        return [0] + [m.end() for m in _BREAK.finditer(self.text)]

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
        return Problem(message, loc, hint, _snippet(self.source, loc), max(1, length))

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


def is_missing(node: YNode | None) -> bool:
    """Absent, or written with no value (``key:``, ``key: null``, ``key: ~``)."""
    return node is None or (isinstance(node, YScalar) and node.is_null)


def _snippet(source: Source, loc: Location) -> str | None:
    """The source line of ``loc``, cut short when it is very long (e.g. 100000 brackets)."""
    line = source.line(loc.line)
    return None if line is None else line[: max(loc.column + 80, 160)]


def node_problem(node: YNode, message: str, hint: str | None = None) -> Problem:
    return Problem(message, node.location, hint, _snippet(node.source, node.location))


def _problem_at(source: Source, index: int, message: str, hint: str | None = None, span: int = 1) -> Problem:
    loc = source.location(index)
    return Problem(message, loc, hint, _snippet(source, loc), span)


def _depth_message(limits: Limits) -> str:
    return f"the YAML is nested too deeply (more than {limits.max_yaml_depth} levels)"


@dataclass
class _Open:
    """A collection being built; for a mapping, the key waiting for its value."""

    node: YMapping | YSequence
    key: YScalar | None = None
    seen: dict[str, YScalar] = field(default_factory=dict)


class _TreeBuilder:
    """Turns parse events into YNodes; duplicate keys are collected, not raised at once."""

    def __init__(self, source: Source, limits: Limits):
        self.source, self.limits = source, limits
        self.stack: list[_Open] = []
        self.roots: list[YNode] = []
        self.documents = 0
        self.problems: list[Problem] = []

    def fail(self, problem: Problem) -> BackpropError:
        return BackpropError(self.problems + [problem])

    def build(self) -> YNode:
        for event in yaml.parse(self.source.text, Loader=yaml.SafeLoader):
            self.feed(event)
        if self.problems:
            raise BackpropError(self.problems)
        root = self.roots[0] if self.roots else None
        if root is None or (isinstance(root, YScalar) and root.style == "plain" and root.text == ""):
            raise BackpropError(Problem("the file is empty", Location(self.source.name, 1, 1)))
        return root

    def feed(self, event: yaml.Event) -> None:
        if isinstance(event, yaml.DocumentStartEvent):
            self.documents += 1
            if self.documents > 1:
                message = "only one YAML document is allowed per file; this is a second one"
                raise self.fail(_problem_at(self.source, event.start_mark.index, message, span=3))
        elif isinstance(event, yaml.NodeEvent):
            self.check_properties(event)
            loc = Location(self.source.name, event.start_mark.line + 1, event.start_mark.column + 1)
            if isinstance(event, yaml.ScalarEvent):
                style = _STYLES.get(event.style, "plain")
                start, end = event.start_mark.index, event.end_mark.index
                self.attach(YScalar(loc, self.source, event.value, style, start, end))
            elif isinstance(event, yaml.CollectionStartEvent):
                self.open(event, loc)
        elif isinstance(event, yaml.CollectionEndEvent):
            self.attach(self.stack.pop().node)

    def check_properties(self, event: yaml.NodeEvent) -> None:
        if isinstance(event, yaml.AliasEvent) or event.anchor is not None:
            span = len(event.anchor or "") + 1
            raise self.fail(_problem_at(self.source, event.start_mark.index, _ALIAS_MESSAGE, span=span))
        if event.tag is not None:
            m = _TAG.match(self.source.text, event.start_mark.index)
            shown = m.group() if m else event.tag
            message = f"YAML tags ({shown}) are not allowed: write plain values without '!' tags"
            raise self.fail(_problem_at(self.source, event.start_mark.index, message, span=len(shown)))

    def open(self, event: yaml.CollectionStartEvent, loc: Location) -> None:
        if len(self.stack) >= self.limits.max_yaml_depth:
            raise self.fail(_problem_at(self.source, event.start_mark.index, _depth_message(self.limits)))
        parent = self.stack[-1] if self.stack else None
        if parent and isinstance(parent.node, YMapping) and parent.key is None:
            message = "complex keys are not allowed: a key must be a plain word or string"
            raise self.fail(_problem_at(self.source, event.start_mark.index, message))
        if isinstance(event, yaml.MappingStartEvent):
            self.stack.append(_Open(YMapping(loc, self.source, [])))
        else:
            self.stack.append(_Open(YSequence(loc, self.source, [])))

    def attach(self, node: YNode) -> None:
        if not self.stack:
            self.roots.append(node)
            return
        top = self.stack[-1]
        if isinstance(top.node, YSequence):
            top.node.items.append(node)
        elif top.key is not None:
            top.node.items.append((top.key, node))
            top.key = None
        else:
            assert isinstance(node, YScalar)  # collection keys are refused in open()
            first = top.seen.setdefault(node.text, node)
            if first is not node:
                message = f"duplicate key '{node.text}' (first defined at line {first.location.line})"
                hint = "each key may appear only once in a mapping"
                self.problems.append(node.problem(message, length=len(node.text), hint=hint))
            top.key = node


def _decode(data: str | bytes, name: str, limits: Limits) -> str:
    """Check the size, decode strict UTF-8 and drop a byte order mark."""
    size = len(data) if isinstance(data, bytes) else len(data.encode("utf-8", "surrogatepass"))
    if size > limits.max_file_bytes:
        message = f"file is too large ({size} bytes; the limit is {limits.max_file_bytes})"
        raise BackpropError(Problem(message, Location(name, 1, 1)))
    if isinstance(data, str):
        return data.removeprefix("\ufeff")
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as e:
        prefix = data[: e.start].decode("utf-8").removeprefix("\ufeff")
        source = Source(name, prefix + data[e.start :].decode("utf-8", "replace"))
        message = f"not UTF-8 text: byte 0x{data[e.start]:02x} (byte offset {e.start}) cannot be decoded"
        hint = "save the file with UTF-8 encoding"
        raise BackpropError(_problem_at(source, len(prefix), message, hint)) from None


def _check_characters(source: Source) -> None:
    """Refuse the characters PyYAML's reader forbids ("special characters are not allowed")."""
    m = Reader.NON_PRINTABLE.search(source.text)
    if m:
        loc = source.location(m.start())
        message = f"control character U+{ord(m.group()):04X} is not allowed in YAML text"
        snippet = Reader.NON_PRINTABLE.sub("\ufffd", _snippet(source, loc) or "")
        hint = "the file may be binary or damaged; remove the character"
        raise BackpropError(Problem(message, loc, hint, snippet))


def _previous_token_char(text: str, i: int) -> tuple[str, bool]:
    """Last non-blank character before ``i`` on its line ("" at line start), and whether blanks follow it."""
    j = i - 1
    while j >= 0 and text[j] in " \t":
        j -= 1
    prev = "" if j < 0 or text[j] in "\r\n\x85\u2028\u2029" else text[j]
    return prev, j < i - 1


def _check_flow_depth(source: Source, limits: Limits) -> None:
    """Cheap pre-scan: refuse deep ``[[[[`` / ``{{{{`` nesting before PyYAML sees it.

    Outside brackets, ``[`` and quotes count only where a node can start (line
    start, or after ``: - ?`` and a blank), not inside plain text like ``x[1]``;
    quoted strings and comments are skipped.
    """
    text, depth, pos = source.text, 0, 0
    while m := _FLOW_SCAN.search(text, pos):
        i, c = m.start(), m.group()
        pos = i + 1
        if c in "]}":
            depth = max(0, depth - 1)
            continue
        prev, gap = _previous_token_char(text, i)
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
        if depth > limits.max_yaml_depth:
            raise BackpropError(_problem_at(source, i, _depth_message(limits)))


def _unclosed(source: Source, e: yaml.MarkedYAMLError) -> Problem | None:
    """A bracket or quote that is never closed, reported where it was opened: the parser only
    notices at a later line (or at the end of the file), which is not where the fix goes."""
    start, found = e.context_mark, e.problem_mark
    if not (e.context and start and found and found.line > start.line):
        return None
    opened = source.text[start.index:start.index + 1]
    if e.context.startswith("while parsing a flow") and opened in "[{":
        close = "]" if opened == "[" else "}"
        what = "list" if opened == "[" else "mapping"
        return _problem_at(source, start.index,
                           f"invalid YAML: this '{opened}' is never closed (a '{close}' is missing)",
                           f"end the {what} with '{close}' on this line, or wherever it ends")
    if e.context.startswith("while scanning a quoted scalar") and opened in "'\"":
        return _problem_at(source, start.index, f"invalid YAML: this {opened} is never closed",
                           f"end the text with {opened}")
    return None


def _syntax_problem(source: Source, e: yaml.MarkedYAMLError) -> Problem:
    unclosed = _unclosed(source, e)
    if unclosed is not None:
        return unclosed
    message = f"invalid YAML: {e.problem or e.context or 'syntax error'}"
    if e.problem and e.context:
        where = f" started at line {e.context_mark.line + 1}" if e.context_mark else ""
        message += f" ({e.context}{where})"
    mark = e.problem_mark or e.context_mark
    tab = any(t in (e.problem or "") for t in ("\t", "\\t", "tab character"))  # PyYAML writes '\\t'
    if tab:
        message = "invalid YAML: a tab character, where YAML expects spaces"
    hint = "use spaces to indent: YAML does not allow tabs" if tab else None
    if mark is None:
        return Problem(message, Location(source.name, 1, 1), hint)
    return _problem_at(source, mark.index, message, hint)


def load_text(text: str | bytes, name: str, limits: Limits = DEFAULT) -> YNode:
    """Parse one YAML document into YNodes; every failure is a positioned BackpropError."""
    source = Source(name, _decode(text, name, limits))
    _check_characters(source)
    _check_flow_depth(source, limits)
    builder = _TreeBuilder(source, limits)
    start = Location(name, 1, 1)
    try:
        return builder.build()
    except BackpropError:
        raise
    except yaml.MarkedYAMLError as e:
        raise builder.fail(_syntax_problem(source, e)) from e
    except RecursionError as e:
        raise builder.fail(Problem(_depth_message(limits), start)) from e
    except MemoryError as e:
        raise builder.fail(Problem("cannot read YAML: the file needs too much memory", start)) from e
    except Exception as e:  # last resort: never show a PyYAML traceback
        raise builder.fail(Problem(f"cannot read YAML: {e}", start)) from e


def load_file(path: str | os.PathLike, limits: Limits = DEFAULT, display_name: str | None = None) -> YNode:
    """Read at most ``max_file_bytes + 1`` bytes of ``path`` and :func:`load_text` them."""
    name = display_name if display_name is not None else os.fspath(path)
    try:
        if os.path.isdir(path):
            raise IsADirectoryError(path)
        with open(path, "rb") as f:
            data = f.read(limits.max_file_bytes + 1)
    except (OSError, ValueError) as e:
        reason = _OPEN_ERRORS.get(type(e)) or getattr(e, "strerror", None) or str(e)
        raise BackpropError(Problem(f"cannot read '{name}': {reason}")) from None
    return load_text(data, name, limits)
