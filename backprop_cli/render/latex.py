"""A derivation as LaTeX: ``align*`` blocks for notes and slides, or a whole document."""

from __future__ import annotations

from backprop_cli.explain.tex import Derivation, TexEntry

PREAMBLE = r"""\documentclass[10pt]{article}
\usepackage[a4paper,landscape,margin=1.5cm]{geometry}
\usepackage{amsmath,amssymb}
\allowdisplaybreaks
\setcounter{MaxMatrixCols}{20}
\begin{document}
"""


def _escape_text(text: str) -> str:
    out = []
    for ch in text:
        if ch in "\\":
            out.append(r"\textbackslash{}")
        elif ch in "&%$#_{}":
            out.append("\\" + ch)
        elif ch in "~^":
            out.append(r"\string" + ch)
        elif ord(ch) < 128:
            out.append(ch)
        else:
            out.append("?")  # pdflatex's default fonts have no glyph for it
    return "".join(out)


def _block(entries: tuple[TexEntry, ...]) -> list[str]:
    lines = [r"\begin{align*}"]
    rows = []
    for entry in entries:
        for i, stage in enumerate(entry.stages):
            row = (f"  {entry.target} " if i == 0 else "  ") + f"&= {stage}"
            if entry.note and i == len(entry.stages) - 1:
                row += rf" && \text{{({_escape_text(entry.note)})}}"
            rows.append(row)
    lines.append(" \\\\\n".join(rows))
    lines.append(r"\end{align*}")
    return lines


def render_latex(derivation: Derivation, standalone: bool = False) -> str:
    """The forward pass and the backward pass as ``align*`` blocks (in a document: ``standalone``)."""
    out = [PREAMBLE.rstrip("\n"), rf"\section*{{{_escape_text(derivation.title)}}}"] if standalone else [
        f"% {_escape_text(derivation.title)}"]
    if derivation.forward:
        out += [r"% Forward pass" if not standalone else r"\subsection*{Forward pass}",
                *_block(derivation.forward)]
    if derivation.backward:
        heading = rf"Backward pass (gradients of ${derivation.of}$)"
        out += ["% " + heading if not standalone else rf"\subsection*{{{heading}}}",
                *_block(derivation.backward)]
    if standalone:
        out.append(r"\end{document}")
    return "\n".join(out) + "\n"
