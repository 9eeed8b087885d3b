"""A picture as a Mermaid flowchart, which GitHub draws in Markdown and job summaries."""

from __future__ import annotations

from backprop_cli.explain.picture import Box, Kind, Picture, Shown, Wire

_SHAPES = {  # Mermaid's node shapes: (open, close)
    Kind.GIVEN: ('["', '"]'),
    Kind.STEP: ('["', '"]'),
    Kind.OP: ('(["', '"])'),
    Kind.CONST: ('["', '"]'),
    Kind.OUTSIDE: ('[/"', '"/]'),
}

CLASSES = {
    "given": "fill:#ddf4ff,stroke:#0969da",
    "step": "fill:#fff8c5,stroke:#9a6700",
    "op": "fill:#f6f8fa,stroke:#8c959f",
    "const": "fill:#ffffff,stroke:#d0d7de,stroke-dasharray:2 2",
    "outside": "fill:#ffffff,stroke:#57606a,stroke-dasharray:5 3",
    "path": "stroke:#0969da,stroke-width:3px",
    "wrong": "fill:#ffebe9,stroke:#cf222e,stroke-width:2px",
    "firstwrong": "fill:#ffebe9,stroke:#cf222e,stroke-width:4px",
}


def _text(text: str) -> str:
    """Text inside a quoted Mermaid label: its own entity codes for the characters it reads."""
    return (text.replace("#", "#35;").replace('"', "#quot;").replace("<", "#lt;")
            .replace(">", "#gt;").replace("|", "#124;"))


def _grad(grad: Shown) -> list[str]:
    return [("∂ " if i == 0 else "") + line for i, line in enumerate(grad.lines)]


def _box_lines(box: Box) -> list[str]:
    if box.kind in (Kind.OP, Kind.CONST):
        lines = [box.label]
    else:
        lines = [box.label + (f" ({box.shape})" if box.shape else "")]
        if box.kind is Kind.OUTSIDE:
            lines.append("outside loss")
        if box.grad is not None:
            lines += _grad(box.grad)
    if box.wrong:
        lines.append("✗ first wrong" if box.first_wrong else "✗ wrong")
    return lines


def _wire_lines(wire: Wire) -> list[str]:
    lines = [wire.name] if wire.name else []
    lines += list(wire.value.lines) if wire.value else []
    lines += _grad(wire.grad) if wire.grad else []
    return lines


def _class(box: Box) -> str:
    if box.wrong:
        return "firstwrong" if box.first_wrong else "wrong"
    if box.on_path:
        return "path"
    return box.kind.value


def render_mermaid(picture: Picture) -> str:
    out = ["flowchart LR"]
    for box in picture.boxes:
        start, end = _SHAPES[box.kind]
        out.append(f"  {box.id}{start}{'<br>'.join(_text(t) for t in _box_lines(box))}{end}")
    on_path = []
    for n, wire in enumerate(picture.wires):
        lines = _wire_lines(wire)
        arrow = "-.->" if wire.from_const else "-->"
        label = f'|"{"<br>".join(_text(t) for t in lines)}"|' if lines else ""
        out.append(f"  {wire.source} {arrow}{label} {wire.target}")
        if wire.on_path:
            on_path.append(str(n))
    for name, style in CLASSES.items():
        out.append(f"  classDef {name} {style}")
    by_class: dict[str, list[str]] = {}
    for box in picture.boxes:
        by_class.setdefault(_class(box), []).append(box.id)
    for name in CLASSES:
        if name in by_class:
            out.append(f"  class {','.join(by_class[name])} {name}")
    if on_path:
        out.append(f"  linkStyle {','.join(on_path)} stroke:#0969da,stroke-width:3px")
    return "\n".join(out) + "\n"
