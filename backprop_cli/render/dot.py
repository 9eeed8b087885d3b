"""A picture as Graphviz DOT: deterministic text, values green and gradients red on the wires.

Graphviz's ``dot`` program turns it into SVG or PNG (:func:`run_dot`); the DOT
text itself needs nothing installed.
"""

from __future__ import annotations

import shutil
import subprocess

from backprop_cli.explain.picture import Box, Kind, Picture, Shown, Wire

GREEN, RED, BLUE, GREY = "#1a7f37", "#cf222e", "#0969da", "#8c959f"
FONT = "Helvetica"

_SHAPES = {
    Kind.GIVEN: 'shape=box, style="rounded,filled", fillcolor="#ddf4ff", color="#0969da"',
    Kind.STEP: 'shape=box, style="rounded,filled", fillcolor="#fff8c5", color="#9a6700"',
    Kind.OP: 'shape=ellipse, style=filled, fillcolor="#f6f8fa", color="#8c959f"',
    Kind.CONST: 'shape=plaintext',
    Kind.OUTSIDE: 'shape=box, style="rounded,dashed"',
}


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _font(color: str, lines: list[str], italic: bool = False) -> list[str]:
    out = []
    for line in lines:
        body = _html(line)
        if italic:
            body = f"<i>{body}</i>"
        out.append(f'<font color="{color}">{body}</font>')
    return out


def _grad(grad: Shown) -> list[str]:
    return [("∂ " if i == 0 else "  ") + line for i, line in enumerate(grad.lines)]


def box_label(box: Box) -> str:
    if box.kind in (Kind.OP, Kind.CONST):
        lines = [_html(box.label)]
    else:
        name = box.label + (f" ({box.shape})" if box.shape else "")
        lines = [f"<b>{_html(name)}</b>"]
        if box.kind is Kind.OUTSIDE:
            lines.append("outside loss")
        if box.grad is not None:
            lines += _font(RED, _grad(box.grad))
    if box.wrong:
        lines += _font(RED, ["✗ first wrong" if box.first_wrong else "✗ wrong"])
    return "<" + "<br/>".join(lines) + ">"


def wire_label(wire: Wire) -> str | None:
    lines = _font(GREY, [wire.name], italic=True) if wire.name else []
    if wire.value is not None:
        lines += _font(GREEN, list(wire.value.lines))
    if wire.grad is not None:
        lines += _font(RED, _grad(wire.grad))
    return "<" + "<br/>".join(lines) + ">" if lines else None


def render_dot(picture: Picture) -> str:
    highlight = picture.wrt is not None
    title = picture.title + (f": gradients of {picture.of}" if picture.of else "")
    if picture.wrt:
        title += f", paths to {picture.wrt} in blue"
    out = ["digraph backprop {",
           f"  graph [rankdir=LR, fontname={_quoted(FONT)}, labelloc=t, label={_quoted(title)}];",
           f"  node [fontname={_quoted(FONT)}, fontsize=11];",
           f"  edge [fontname={_quoted(FONT)}, fontsize=10, color={_quoted(GREY)}];"]
    for box in picture.boxes:
        attrs = [f"label={box_label(box)}", _SHAPES[box.kind]]
        if box.on_path:
            attrs.append(f'penwidth=2.5, color="{BLUE}"')
        if box.wrong:
            attrs.append(f'penwidth={4 if box.first_wrong else 2.5}, color="{RED}", fillcolor="#ffebe9"')
        out.append(f"  {box.id} [{', '.join(attrs)}];")
    for wire in picture.wires:
        attrs = []
        label = wire_label(wire)
        if label:
            attrs.append(f"label={label}")
        if wire.on_path:
            attrs.append(f'penwidth=2.5, color="{BLUE}"')
        elif highlight:
            attrs.append('color="#d0d7de"')
        if wire.from_const:
            attrs.append("style=dashed")
        out.append(f"  {wire.source} -> {wire.target}" + (f" [{', '.join(attrs)}]" if attrs else "") + ";")
    out.append("}")
    return "\n".join(out) + "\n"


class GraphvizMissing(Exception):
    """Graphviz's ``dot`` program is not installed."""


def run_dot(dot_text: str, fmt: str, timeout: float = 60.0) -> bytes:
    """Graphviz's rendering of the DOT text as ``svg`` or ``png``."""
    program = shutil.which("dot")
    if program is None:
        raise GraphvizMissing("drawing SVG or PNG needs Graphviz's 'dot' program: install the "
                              "Debian/Ubuntu package 'graphviz' (apt-get install graphviz; on macOS: "
                              "brew install graphviz), or use --format dot, mermaid or html")
    done = subprocess.run([program, f"-T{fmt}"], input=dot_text.encode("utf-8"),
                          capture_output=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"dot failed: {done.stderr.decode('utf-8', 'replace').strip()}")
    return done.stdout
