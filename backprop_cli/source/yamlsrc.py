"""Safe YAML loading that remembers where every key and value came from.

Every error the grader reports must name ``file:line:col``, and numbers are
read by our own expression parser, so PyYAML never constructs Python objects
here (no YAML 1.1 implicit typing: ``no`` stays the text "no", ``010`` stays
"010").  We stream the parser's events and build a small tree of
:class:`YNode` objects holding raw scalar text and positions, with an explicit
stack so that no input can exhaust the Python stack.  libyaml's C event parser
reads ordinary files when PyYAML has it; anything it and the pure-Python
parser might read differently (tabs, a block scalar header with a comment
glued on, an empty value inside brackets), and every file with a problem, is
read by the pure-Python parser, so nodes, positions and messages are the same
either way.  Hostile or broken input
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

import os
import re
from dataclasses import dataclass, field

import yaml
from yaml.reader import Reader

try:  # libyaml's event parser, when PyYAML was built with it
    from yaml.cyaml import CParser as _CParser
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    _CParser = None

from backprop_cli.source.errors import BackpropError, Location, Problem
from backprop_cli.source.files import read_file, too_large
from backprop_cli.source.limits import DEFAULT, Limits
from backprop_cli.source.prescan import TooDeep, prescan
from backprop_cli.source.ynodes import (Source, YMapping, YNode, YScalar, YSequence,  # the nodes, for
                                        is_missing, node_problem)  # the modules that read them  # noqa: F401
from backprop_cli.source.ynodes import problem_at as _problem_at
from backprop_cli.source.ynodes import snippet as _snippet

_STYLES = {None: "plain", "": "plain", "'": "single", '"': "double", "|": "literal", ">": "folded"}
_SURROGATE = re.compile("[\ud800-\udfff]")
_SURROGATE_ESCAPE = re.compile(r"\\(?:u|U0000)([dD][89a-fA-F][0-9a-fA-F]{2})")
_TAG = re.compile(r"![^\s,\[\]{}]*")
SYNTAX_ERROR = "invalid YAML"  # how every YAML syntax problem's message starts
_ALIAS_MESSAGE = "YAML anchors and aliases are not allowed here: write the value out in full"
# What libyaml reads differently from the pure-Python parser: tabs, byte order marks past the
# start, directives, and a block scalar header with a comment and no blank before it ("|#").
_NOT_FOR_LIBYAML = re.compile(r"[\t\ufeff]|^%|[|>][-+0-9]*#", re.M)  # what not_for_libyaml looks for
_MANY_COMMENTS = 256  # more '#' than this: the regular expression looks, not the loop


def not_for_libyaml(text: str) -> bool:
    """``_NOT_FOR_LIBYAML.search(text)``, found without it: that search tries each character in
    turn in Python's regular expression engine, which costs more than libyaml's reading of a small
    file; substring searches and a look back from each '#' find the same."""
    if "\t" in text or "\ufeff" in text or text.startswith("%") or "\n%" in text:
        return True
    if text.count("#") > _MANY_COMMENTS:
        return _NOT_FOR_LIBYAML.search(text) is not None
    at = text.find("#")
    while at >= 0:  # '|' or '>', then only '-', '+' and digits up to this '#': a block scalar header
        before = at - 1
        while before >= 0 and text[before] in "-+0123456789":
            before -= 1
        if before >= 0 and text[before] in "|>":
            return True
        at = text.find("#", at + 1)
    return False


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


def _depth_message(limits: Limits) -> str:
    return f"the YAML is nested too deeply (more than {limits.max_yaml_depth} levels)"


class _Unsure(Exception):
    """libyaml's reading might differ from the pure-Python parser's here: read it with that one."""


def _unsure_in_brackets(event: yaml.ScalarEvent) -> bool:
    """An empty value (the parsers place it differently), or a plain one with a '?' (which the
    pure-Python parser refuses inside brackets and libyaml accepts)."""
    return not event.value or (not event.style and "?" in event.value)


@dataclass
class _Open:
    """A collection being built; for a mapping, the key waiting for its value."""

    node: YMapping | YSequence
    flow: bool = False  # written in brackets
    key: YScalar | None = None
    seen: dict[str, YScalar] = field(default_factory=dict)


class _TreeBuilder:
    """Turns parse events into YNodes; duplicate keys are collected, not raised at once."""

    offset = 0  # where in the source the text parsed starts

    def __init__(self, source: Source, limits: Limits, text: str | None = None,
                 long_lists: dict[int, int] | None = None, strict: bool = False):
        self.source, self.limits = source, limits
        self.text = source.text if text is None else text  # what the parser reads (long lists blanked)
        self.long_lists = long_lists or {}
        self.strict = strict  # refuse what the two parsers might read differently
        self.values = 0
        self.stack: list[_Open] = []
        self.roots: list[YNode] = []
        self.documents = 0
        self.problems: list[Problem] = []

    def fail(self, problem: Problem) -> BackpropError:
        return BackpropError(self.problems + [problem])

    def build(self, parser=yaml.SafeLoader) -> YNode:
        """The tree from ``parser``'s events: PyYAML's pure-Python SafeLoader, or libyaml's CParser."""
        events = parser(self.text)
        try:
            while events.check_event():
                self.feed(events.get_event())
        finally:
            events.dispose()
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
            loc = self.source.location(event.start_mark.index + self.offset)  # the parsers' lines differ at the end
            if isinstance(event, yaml.ScalarEvent):
                style = _STYLES.get(event.style, "plain")
                start, end = event.start_mark.index + self.offset, event.end_mark.index + self.offset
                text, problem = event.value, None
                if self.strict and (_SURROGATE.search(text) or (self.stack and self.stack[-1].flow
                                                                 and _unsure_in_brackets(event))):
                    raise _Unsure(text)
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
            self.stack.append(_Open(YMapping(loc, self.source, []), bool(event.flow_style)))
        else:
            long = self.long_lists.get(event.start_mark.index + self.offset, 0)
            self.stack.append(_Open(YSequence(loc, self.source, [], long), bool(event.flow_style)))

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


class _ValueReader(_TreeBuilder):
    """Builds the nodes of one top-level value; the rest of the file is only walked through."""

    def __init__(self, source, limits, text, long_lists, key: str, span: tuple[int, int], outside: int):
        super().__init__(source, limits, text, long_lists, strict=True)
        self.key, (self.start, self.end) = key, span
        if self.end == len(source.text):  # the last value of the file: the parser reads it alone
            self.text, self.offset = text[self.start:], self.start
        self.values = outside  # the values outside the span, counted once already
        self.depth = 0  # nesting of the collections walked through
        self.state = "before"  # then "value" (building it), "after", "done"

    def feed(self, event: yaml.Event) -> None:
        index = event.start_mark.index + self.offset
        if self.state == "value":
            super().feed(event)
            if not self.stack:
                self.state = "after"
        elif isinstance(event, yaml.CollectionStartEvent):
            self.depth += 1
        elif isinstance(event, yaml.CollectionEndEvent):
            self.depth -= 1
            if self.depth == 0 and self.state == "after" and index >= self.end == len(self.source.text):
                self.state = "done"  # the value was the last one of the file
        elif isinstance(event, yaml.ScalarEvent) and self.depth == 1:
            if self.state == "before" and index == self.start and event.value == self.key:
                self.state = "value"
            elif self.state == "after" and index == self.end:
                self.state = "done"  # the next top-level key stands where the span ends

    def build(self, parser=yaml.SafeLoader) -> YNode:
        node = super().build(parser)
        if self.state != "done" or self.problems or len(self.roots) != 1:
            raise _Unsure(self.key)
        return node


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


def load_text(text: str | bytes, name: str, limits: Limits = DEFAULT, libyaml: bool = True) -> YNode:
    """Parse one YAML document into YNodes; every failure is a positioned BackpropError.

    ``libyaml=False`` always uses the pure-Python parser (the two give the same result).
    """
    return parse(_checked(text, name, limits), limits, libyaml)


def _checked(text: str | bytes, name: str, limits: Limits) -> Source:
    source = Source(name, _decode(text, name, limits))
    _check_characters(source)
    return source


def _prescanned(source: Source, limits: Limits) -> tuple[str, dict[int, int]]:
    try:
        return prescan(source.text, limits.max_yaml_depth, limits.max_tensor_entries)
    except TooDeep as deep:
        raise BackpropError(_problem_at(source, deep.index, _depth_message(limits))) from None


def parse(source: Source, limits: Limits = DEFAULT, libyaml: bool = True) -> YNode:
    """The tree of a file already read (:func:`read_source`)."""
    parsed, long_lists = _prescanned(source, limits)
    if libyaml and _CParser is not None and not not_for_libyaml(source.text):
        try:
            return _TreeBuilder(source, limits, parsed, long_lists, strict=True).build(_CParser)
        except Exception:  # any problem at all: the pure-Python parser reports it, as it always has
            pass
    builder = _TreeBuilder(source, limits, parsed, long_lists)
    start = Location(source.name, 1, 1)
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
    return parse(read_source(path, limits, display_name), limits)


def read_source(path: str | os.PathLike, limits: Limits = DEFAULT, display_name: str | None = None) -> Source:
    """The text of ``path``, decoded and checked, not yet parsed."""
    name = display_name if display_name is not None else os.fspath(path)
    return _checked(read_file(path, name, limits.max_file_bytes), name, limits)


def top_level_span(text: str, key: str) -> tuple[int, int] | None:
    """Where ``key:`` and its value stand when written as a top-level block (from the key to the next
    line that starts at the margin), found in the text alone; None when it is not written so once."""
    found = list(re.finditer(rf"^{re.escape(key)}[ \t]*:(?=[ \t\r\n]|$)", text, re.M))
    if len(found) != 1:
        return None
    start = found[0].start()
    after = re.compile(r"^[^ \t\r\n#]", re.M).search(text, found[0].end())
    return start, after.start() if after else len(text)


def read_top_value(source: Source, limits: Limits, key: str, span: tuple[int, int],
                   outside: int) -> YNode | None:
    """The value of the top-level ``key`` written at ``span``, read with libyaml, no other node built.

    For a file whose text outside ``span`` is known to read well (a copy of an exercise read
    before) and to hold ``outside`` values: the value is parsed alone when it is the last in the
    file, else libyaml walks through the rest.  None when it cannot be read that way (no libyaml,
    anything unexpected or wrong): then read the whole file, which says what is wrong.
    """
    if _CParser is None or not_for_libyaml(source.text):
        return None
    try:
        parsed, long_lists = _prescanned(source, limits)
        return _ValueReader(source, limits, parsed, long_lists, key, span, outside).build(_CParser)
    except Exception:  # read the whole file instead
        return None

