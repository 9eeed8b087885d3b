"""Writing exercise YAML: a tree of YNodes back to text, every value exactly as written.

Students' copies are written from the tree the teacher's file was read into,
not by editing its text: values keep their exact text (``0.1`` stays
``0.1``, a quoted ``"3/2"`` stays quoted, a prompt stays a literal block),
while the teacher's comments, which may give answers away, are not copied.
Short lists (tensors) and small mappings are written in flow style, like
``[[1, 2], [3, 4]]``; a matrix too long for one line gets a row per line.
"""

from __future__ import annotations

import re

from backprop_cli.source.yamlsrc import YMapping, YNode, YScalar, YSequence

WIDTH = 100
_FLOW_PLAIN = re.compile(r"[A-Za-z0-9_.+\-*/^@()]+(?: [A-Za-z0-9_.+\-*/^@()]+)*")
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_/@().+\- ]*")
# Characters written as themselves (YAML's printable set, less the line breaks \x85 \u2028 \u2029).
_PRINTABLE = re.compile("[\t\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r", "\x85": "\\N",
            "\u2028": "\\L", "\u2029": "\\P"}


def quoted(text: str) -> str:
    """A YAML double-quoted scalar holding exactly ``text``."""
    out = []
    for ch in text:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif _PRINTABLE.fullmatch(ch):
            out.append(ch)
        else:
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000
                       else f"\\U{code:08x}")
    return '"' + "".join(out) + '"'


def key_text(text: str) -> str:
    if _PLAIN_KEY.fullmatch(text) and not text.endswith(" ") and " #" not in text:
        return text
    return quoted(text)


def scalar_text(node: YScalar, flow: bool = False) -> str:
    """One scalar on one line; plain where plain reads back the same, else double-quoted."""
    if node.is_null:
        return "null" if flow else ""
    text = node.text
    if node.style == "plain" and "\n" not in text and (not flow or _FLOW_PLAIN.fullmatch(text)):
        return text
    return quoted(text)


def _one_line(node: YNode) -> bool:
    return isinstance(node, YScalar) and "\n" not in node.text


def flow(node: YNode) -> str | None:
    """Flow style for scalars, lists of them and small mappings of them; None if not fitting."""
    if isinstance(node, YScalar):
        return scalar_text(node, flow=True) if _one_line(node) else None
    if isinstance(node, YSequence):
        parts = [flow(item) for item in node.items]
        return None if None in parts else "[" + ", ".join(parts) + "]"
    parts = [(key_text(k.text), flow(v)) for k, v in node.items]
    if any(v is None for _, v in parts):
        return None
    return "{" + ", ".join(f"{k}: {v}" for k, v in parts) + "}"


def _rows(node: YSequence, lead: int) -> list[str] | None:
    """A matrix with one row per line, the rows aligned after ``lead`` columns."""
    if not all(isinstance(row, YSequence) for row in node.items):
        return None
    rows = [flow(row) for row in node.items]
    if None in rows:
        return None
    lines = ["[" + rows[0] + ","] + [" " * (lead + 1) + row + "," for row in rows[1:]]
    lines[-1] = lines[-1][:-1] + "]"
    return lines


def _literal(text: str, indent: int) -> list[str] | None:
    """A literal block (``|``) holding exactly ``text``, or None when one cannot."""
    body = text.rstrip("\n")
    if not body or any(not _PRINTABLE.fullmatch(c) or c == "\t" for c in body):
        return None
    lines = body.split("\n")
    if any(line and not line.strip() for line in lines) or any(line != line.rstrip() for line in lines):
        return None
    trailing = len(text) - len(body)
    chomp = "-" if trailing == 0 else "" if trailing == 1 else "+"
    indicator = "2" if any(line.startswith(" ") for line in lines) else ""  # content at indent + 2
    pad = " " * (indent + 2)
    return [f"|{indicator}{chomp}"] + [pad + line if line else "" for line in lines] + [""] * (
        trailing - 1 if chomp == "+" else 0)


def entry(key: str, node: YNode, indent: int, comment: str | None = None, flow_ok: bool = True) -> list[str]:
    """``key: value`` at ``indent``, as one line or a block below the key."""
    head = " " * indent + key_text(key) + ":"
    note = f"  # {' '.join(comment.split())}" if comment else ""
    if isinstance(node, YScalar):
        if "\n" in node.text:
            literal = _literal(node.text, indent)
            if literal is not None:
                return [f"{head} {literal[0]}"] + literal[1:]
        text = scalar_text(node)
        return [(f"{head} {text}" if text else head) + note]
    nested = isinstance(node, YMapping) and any(isinstance(v, YMapping) for _, v in node.items)
    short = flow(node) if flow_ok and not nested else None
    if short is not None and len(head) + 1 + len(short) + len(note) <= WIDTH:
        return [f"{head} {short}{note}"]
    if isinstance(node, YSequence):
        rows = _rows(node, len(head) + 1)
        if rows is not None and max(len(head) + 1 + len(r) for r in rows) <= WIDTH:
            return [f"{head} {rows[0]}"] + rows[1:]
        return [head + note] + items(node, indent + 2)
    return [head + note] + mapping(node, indent + 2)


def mapping(node: YMapping, indent: int, comments: dict[str, str] | None = None) -> list[str]:
    """A block mapping; ``comments`` by key go at the end of the key's line, aligned."""
    comments = comments or {}
    width = max((len(key_text(k.text)) for k, v in node.items if k.text in comments), default=0)
    lines = []
    for key, value in node.items:
        comment = comments.get(key.text)
        if comment and isinstance(value, YScalar) and value.is_null:
            lines.append(f"{' ' * indent}{key_text(key.text) + ':':<{width + 1}}  # {' '.join(comment.split())}")
        else:
            lines += entry(key.text, value, indent, comment)
    return lines


def items(node: YSequence, indent: int) -> list[str]:
    """A block sequence: ``- item`` lines."""
    pad, lines = " " * indent, []
    for item in node.items:
        if isinstance(item, YScalar):
            text = scalar_text(item) if "\n" not in item.text else quoted(item.text)
            lines.append(f"{pad}- {text}".rstrip())
            continue
        short = flow(item)
        if short is not None and indent + 2 + len(short) <= WIDTH:
            lines.append(f"{pad}- {short}")
        elif isinstance(item, YMapping):
            inner = mapping(item, indent + 2)
            lines += [f"{pad}- {inner[0].lstrip()}"] + inner[1:]
        else:
            lines += [f"{pad}-"] + items(item, indent + 2)
    return lines
