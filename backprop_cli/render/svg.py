"""A picture as SVG, laid out in Python (no Graphviz needed): for the HTML page and --format svg.

Boxes and wire labels are sized for a monospace font, so the layout knows
their size without measuring text.  Values are green and gradients red, as in
CS231n; gradient lines start with ``∂`` so they read without colour too.
Every box and wire carries ids and classes that the HTML page's script and
tests use: ``data-node`` (the graph node), ``data-reach`` (the boxes on its
paths to the target), ``wrong`` and ``first-wrong`` for a checked report.
"""

from __future__ import annotations

from html import escape

from backprop_cli.explain.picture import Box, Kind, Picture, Shown, Wire
from backprop_cli.render.layout import Item, Layout, Link, layout

CHAR = 7.3  # width of one character at FONT px in a monospace font
FONT = 12
LINE = 15  # line height
PAD_X, PAD_Y = 10, 6
MARGIN = 12

CSS = """
svg.graph { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "DejaVu Sans Mono", monospace;
  font-size: 12px; }
svg.graph .box rect { fill: #ffffff; stroke: #57606a; stroke-width: 1.2; }
svg.graph .given rect { fill: #ddf4ff; stroke: #0969da; }
svg.graph .step rect { fill: #fff8c5; stroke: #9a6700; }
svg.graph .op rect { fill: #f6f8fa; stroke: #8c959f; }
svg.graph .const rect { fill: #ffffff; stroke: #d0d7de; stroke-dasharray: 2 2; }
svg.graph .outside rect { fill: #ffffff; stroke: #57606a; stroke-dasharray: 5 3; }
svg.graph .box text { fill: #1f2328; text-anchor: middle; dominant-baseline: central; }
svg.graph .box text.name { font-weight: bold; }
svg.graph text.val { fill: #1a7f37; }
svg.graph text.grad { fill: #cf222e; }
svg.graph text.wname { fill: #57606a; font-style: italic; }
svg.graph .wire text { text-anchor: middle; }
svg.graph .wire path { fill: none; stroke: #8c959f; stroke-width: 1.3; }
svg.graph .path rect, svg.graph .wire.path path { stroke: #0969da; stroke-width: 2.6; }
svg.graph .wrong rect { fill: #ffebe9; stroke: #cf222e; stroke-width: 2.2; }
svg.graph .first-wrong rect { stroke-width: 4; }
svg.graph .box text.mark { fill: #cf222e; font-weight: bold; }
svg.graph .lit rect, svg.graph .wire.lit path { stroke: #8250df; stroke-width: 3; }
svg.graph .wrong.lit rect { stroke: #cf222e; stroke-width: 4; }
svg.graph.pointing .box:not(.lit), svg.graph.pointing .wire:not(.lit) { opacity: 0.3; }
svg.graph .box { cursor: pointer; }
""".strip()


def box_lines(box: Box) -> list[tuple[str, str]]:
    """(css class, text) for each line written in a box."""
    if box.kind in (Kind.OP, Kind.CONST):
        lines = [("", box.label)]
    else:
        name = box.label + (f" ({box.shape})" if box.shape else "")
        if box.kind is Kind.OUTSIDE:
            name += " (outside loss)"
        lines = [("name", name)]
        if box.grad is not None:
            lines += grad_lines(box.grad)
    if box.wrong:
        lines.append(("mark", "✗ first wrong" if box.first_wrong else "✗ wrong"))
    return lines


def grad_lines(grad: Shown) -> list[tuple[str, str]]:
    return [("grad", ("∂ " if i == 0 else "  ") + line) for i, line in enumerate(grad.lines)]


def wire_lines(wire: Wire) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The lines above the wire (its name and value) and below it (the gradient)."""
    above = [("wname", wire.name)] if wire.name else []
    above += [("val", line) for line in wire.value.lines] if wire.value else []
    below = grad_lines(wire.grad) if wire.grad else []
    return above, below


def _width(lines) -> float:
    return max((len(text) for _, text in lines), default=0) * CHAR


def arrange(picture: Picture) -> Layout:
    """The layout of the picture's boxes and labelled wires."""
    items = []
    for box in picture.boxes:
        lines = box_lines(box)
        items.append(Item(box.id, _width(lines) + 2 * PAD_X, len(lines) * LINE + 2 * PAD_Y))
    links = []
    for wire in picture.wires:
        above, below = wire_lines(wire)
        half = max(len(above), len(below)) * LINE + 4
        width = _width(above + below) + 8
        links.append(Link(wire.source, wire.target, width if above or below else 0.0,
                          2 * half if above or below else 0.0))
    return layout(items, links)


def render_svg(picture: Picture, standalone: bool = False, prefix: str = "") -> str:
    """The picture as an ``<svg>`` element; ``standalone`` makes a file with its own style.

    ``prefix`` goes before every id, so that several pictures can share one page.
    """
    placed = arrange(picture)
    width, height = placed.width + 2 * MARGIN, placed.height + 2 * MARGIN
    head = (f'<svg class="graph" viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" '
            f'height="{height:.0f}" role="img" aria-label="{escape(_caption(picture))}"')
    out = []
    if standalone:
        out.append('<?xml version="1.0" encoding="UTF-8"?>')
        head += ' xmlns="http://www.w3.org/2000/svg"'
    out.append(head + ">")
    if standalone:
        out.append(f"<style>{CSS}</style>")
    out.append(f'<defs><marker id="{prefix}arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
               'markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#6e7781"/>'
               "</marker></defs>")
    out.append(f'<g transform="translate({MARGIN},{MARGIN})">')
    for n, (wire, route) in enumerate(zip(picture.wires, placed.routes)):
        out.append(_wire(n, wire, route, prefix))
    for box in picture.boxes:
        out.append(_box(box, placed.nodes[box.id], prefix))
    out.append("</g></svg>")
    return "\n".join(out) + "\n"


def _caption(picture: Picture) -> str:
    return f"The computational graph of {picture.title}: values in green, gradients of {picture.of} in red"


def _classes(*pairs: tuple[str, bool]) -> str:
    return " ".join(name for name, on in pairs if on)


def _wire(n: int, wire: Wire, route, prefix: str) -> str:
    points = route.points
    d = f"M{points[0][0]:.1f},{points[0][1]:.1f}"
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        if abs(y1 - y0) < 0.5:
            d += f" L{x1:.1f},{y1:.1f}"
        else:
            mid = (x0 + x1) / 2
            d += f" C{mid:.1f},{y0:.1f} {mid:.1f},{y1:.1f} {x1:.1f},{y1:.1f}"
    cls = _classes(("wire", True), ("path", wire.on_path))
    out = [f'<g class="{cls}" id="{prefix}w{n}" data-from="{prefix}{wire.source}" '
           f'data-to="{prefix}{wire.target}">', f'<path d="{d}" marker-end="url(#{prefix}arrow)"/>']
    if route.label is not None:
        x, y = route.label
        above, below = wire_lines(wire)
        for i, (css, text) in enumerate(reversed(above)):
            out.append(f'<text class="{css}" x="{x:.1f}" y="{y - 5 - i * LINE:.1f}">{escape(text)}</text>')
        for i, (css, text) in enumerate(below):
            out.append(f'<text class="{css}" x="{x:.1f}" y="{y + LINE - 2 + i * LINE:.1f}">'
                       f"{escape(text)}</text>")
    out.append("</g>")
    return "".join(out)


def _box(box: Box, at, prefix: str) -> str:
    cls = _classes(("box", True), (box.kind.value, True), ("path", box.on_path),
                   ("wrong", box.wrong), ("first-wrong", box.first_wrong))
    left, top = at.x - at.width / 2, at.y - at.height / 2
    radius = at.height / 2 if box.kind is Kind.OP else 4
    reach = " ".join(prefix + r for r in box.reach)
    out = [f'<g class="{cls}" id="{prefix}{box.id}" data-node="{escape(box.node)}" '
           f'data-reach="{reach}" tabindex="0">',
           f"<title>{escape(tooltip(box))}</title>",
           f'<rect x="{left:.1f}" y="{top:.1f}" width="{at.width:.1f}" height="{at.height:.1f}" '
           f'rx="{radius:.1f}"/>']
    for i, (css, text) in enumerate(box_lines(box)):
        y = top + PAD_Y + LINE / 2 + i * LINE
        attr = f' class="{css}"' if css else ""
        out.append(f'<text{attr} x="{at.x:.1f}" y="{y:.1f}">{escape(text)}</text>')
    out.append("</g>")
    return "".join(out)


def tooltip(box: Box) -> str:
    """What hovering a box says: its value, its gradient, and how the asked items went."""
    parts = [box.label if box.kind is not Kind.OP else f"{box.node} = {box.label}"]
    if box.value is not None:
        parts.append(f"value {box.value.full}")
    if box.grad is not None:
        parts.append(f"gradient {box.grad.full}")
    parts += [f"{a.key}: {'right' if a.right else 'wrong'}" for a in box.asked]
    return "; ".join(parts)
