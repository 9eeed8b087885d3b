"""Safe YAML loading that remembers where every key and value came from.

Every error the grader reports must name ``file:line:col``, and numbers are
read by our own expression parser, so PyYAML never constructs Python objects
here (no YAML 1.1 implicit typing: ``no`` stays the text "no", ``010`` stays
"010").  We stream the pure-Python parser's events and build a small tree of
:class:`YNode` objects holding raw scalar text and positions, with an explicit
stack so that no input can exhaust the Python stack.  Hostile or broken input
is refused early with a positioned :class:`BackpropError`: oversized files,
bad UTF-8, control characters, deep nesting, anchors and aliases (alias
bombs), explicit tags (``!!python/object``), duplicate keys, several
documents in one file, and anything that is not a regular file (a named pipe
would block the reader for ever).

Reading is bounded by what it costs: a list with more entries than a tensor
may have is counted by a cheap scan of the text and never parsed (its node
says how many entries it had, so the answer it holds is refused on its own),
and a file holding more values than any exercise needs is refused.  A lone
surrogate escape (``"\\ud800"``) is not a character; the scalar that holds one
carries a problem, raised when it is read, so an answer written so is that
answer's problem only.
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
from backprop_cli.source.files import read_file, too_large
from backprop_cli.source.limits import DEFAULT, Limits
from backprop_cli.source.prescan import TooDeep, prescan

_BREAK = re.compile(r"\r\n|[\r\n\x85\u2028\u2029]")  # line breaks as PyYAML counts them
_STYLES = {None: "plain", "": "plain", "'": "single", '"': "double", "|": "literal", ">": "folded"}
_NULLS = ("", "~", "null", "Null", "NULL")
_ESCAPE_DIGITS = {"x": 2, "u": 4, "U": 8}  # hex digits after \x, \u, \U in double quotes
_SURROGATE = re.compile("[\ud800-\udfff]")
_SURROGATE_ESCAPE = re.compile(r"\\(?:u|U0000)([dD][89a-fA-F][0-9a-fA-F]{2})")
_TAG = re.compile(r"![^\s,\[\]{}]*")
SYNTAX_ERROR = "invalid YAML"  # how every YAML syntax problem's message starts
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
    oversized: int = field(default=0, compare=False)  # entries of a list too long to parse (then no items)


def is_missing(node: YNode | None) -> bool:
    """Absent, or written with no value (``key:``, ``key: null``, ``key: ~``)."""
    return node is None or (isinstance(node, YScalar) and node.is_null)


def join_surrogates(text: str) -> tuple[str, str | None]:
    """``text`` with escaped surrogate pairs joined into characters, lone halves as U+FFFD;
    and the first lone half, if any."""
    out, lone, i = [], None, 0
    while i < len(text):
        c = text[i]
        nxt = text[i + 1] if i + 1 < len(text) else ""
        if "\ud800" <= c <= "\udbff" and "\udc00" <= nxt <= "\udfff":
            out.append(chr(0x10000 + ((ord(c) - 0xD800) << 10) + (ord(nxt) - 0xDC00)))
            i += 2
            continue
        if "\ud800" <= c <= "\udfff":
            lone = lone or c
            c = "\ufffd"
        out.append(c)
        i += 1
    return "".join(out), lone


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

    def __init__(self, source: Source, limits: Limits, text: str | None = None,
                 long_lists: dict[int, int] | None = None):
        self.source, self.limits = source, limits
        self.text = source.text if text is None else text  # what the parser reads (long lists blanked)
        self.long_lists = long_lists or {}
        self.values = 0
        self.stack: list[_Open] = []
        self.roots: list[YNode] = []
        self.documents = 0
        self.problems: list[Problem] = []

    def fail(self, problem: Problem) -> BackpropError:
        return BackpropError(self.problems + [problem])

    def build(self) -> YNode:
        for event in yaml.parse(self.text, Loader=yaml.SafeLoader):
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
            self.count(event)
            loc = Location(self.source.name, event.start_mark.line + 1, event.start_mark.column + 1)
            if isinstance(event, yaml.ScalarEvent):
                style = _STYLES.get(event.style, "plain")
                start, end = event.start_mark.index, event.end_mark.index
                text, problem = event.value, None
                if _SURROGATE.search(text):
                    text, problem = self.surrogates(text, start, end)
                self.attach(YScalar(loc, self.source, text, style, start, end, problem))
            elif isinstance(event, yaml.CollectionStartEvent):
                self.open(event, loc)
        elif isinstance(event, yaml.CollectionEndEvent):
            self.attach(self.stack.pop().node)

    def count(self, event: yaml.NodeEvent) -> None:
        self.values += 1
        if self.values > self.limits.max_yaml_values:
            message = f"the file holds more than {self.limits.max_yaml_values} values, the limit"
            hint = (f"a tensor has at most {self.limits.max_tensor_entries} entries; "
                    "put a larger piece of work in several files")
            raise self.fail(_problem_at(self.source, event.start_mark.index, message, hint))

    def surrogates(self, text: str, start: int, end: int) -> tuple[str, Problem | None]:
        """Join escaped surrogate pairs into their character; a lone half is a problem of the scalar."""
        joined, lone = join_surrogates(text)
        if lone is None:
            return joined, None
        where = start
        for m in _SURROGATE_ESCAPE.finditer(self.source.text, start, end):
            if int(m.group(1), 16) == ord(lone):
                where = m.start()
                break
        message = f"\\u{ord(lone):04x} is half of a UTF-16 surrogate pair, not a character"
        hint = "write the character itself (the file is UTF-8 text), or both halves of the pair"
        return joined, _problem_at(self.source, where, message, hint, span=6)

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
            long = self.long_lists.get(event.start_mark.index, 0)
            self.stack.append(_Open(YSequence(loc, self.source, [], long)))

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
            if node.flaw is not None:  # a key is structure: its flaw is the file's problem
                self.problems.append(node.flaw)
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
        raise too_large(name, size, limits.max_file_bytes)
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
                           f"{SYNTAX_ERROR}: this '{opened}' is never closed (a '{close}' is missing)",
                           f"end the {what} with '{close}' on this line, or wherever it ends")
    if e.context.startswith("while scanning a quoted scalar") and opened in "'\"":
        return _problem_at(source, start.index, f"{SYNTAX_ERROR}: this {opened} is never closed",
                           f"end the text with {opened}")
    return None


def _syntax_problem(source: Source, e: yaml.MarkedYAMLError) -> Problem:
    unclosed = _unclosed(source, e)
    if unclosed is not None:
        return unclosed
    message = f"{SYNTAX_ERROR}: {e.problem or e.context or 'syntax error'}"
    if e.problem and e.context:
        where = f" started at line {e.context_mark.line + 1}" if e.context_mark else ""
        message += f" ({e.context}{where})"
    mark = e.problem_mark or e.context_mark
    tab = any(t in (e.problem or "") for t in ("\t", "\\t", "tab character"))  # PyYAML writes '\\t'
    if tab:
        message = f"{SYNTAX_ERROR}: a tab character, where YAML expects spaces"
    hint = "use spaces to indent: YAML does not allow tabs" if tab else None
    if mark is None:
        return Problem(message, Location(source.name, 1, 1), hint)
    return _problem_at(source, mark.index, message, hint)


def load_text(text: str | bytes, name: str, limits: Limits = DEFAULT) -> YNode:
    """Parse one YAML document into YNodes; every failure is a positioned BackpropError."""
    source = Source(name, _decode(text, name, limits))
    _check_characters(source)
    try:
        parsed, long_lists = prescan(source.text, limits.max_yaml_depth, limits.max_tensor_entries)
    except TooDeep as deep:
        raise BackpropError(_problem_at(source, deep.index, _depth_message(limits))) from None
    builder = _TreeBuilder(source, limits, parsed, long_lists)
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
    """Read ``path`` (a regular file of at most ``max_file_bytes``) and :func:`load_text` it."""
    name = display_name if display_name is not None else os.fspath(path)
    return load_text(read_file(path, name, limits.max_file_bytes), name, limits)
