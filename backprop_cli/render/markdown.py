"""A trace as Markdown, for course pages and issue comments."""

from __future__ import annotations

from backprop_cli.explain.trace import Trace
from backprop_cli.source.errors import one_line, printable


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def trace_markdown(trace: Trace, heading: str | None = None, prompt: str | None = None,
                   graph: str | None = None) -> str:
    """The trace; ``graph`` is a Mermaid flowchart of the graph, shown before it."""
    out: list[str] = []
    if heading:  # an author's text: no terminal escapes, and the heading on one line
        out += [f"## {one_line(heading)}", ""]
    if prompt:
        out += [printable(prompt.rstrip()), ""]
    if graph:
        out += ["### Graph", "", "Values flow forward; gradients (∂) flow back.", "",
                "```mermaid", graph.rstrip(), "```", ""]
    if trace.forward:
        out += ["### Forward pass", "", "| step | definition | value | decimal |", "| --- | --- | --- | --- |"]
        for row in trace.forward:
            definition = row.definition if row.step is None else f"{row.definition} (in {row.step})"
            out.append(f"| `{row.name}` | `{_cell(definition)}` | `{_cell(row.value)}` | {row.decimal or ''} |")
        out.append("")
    if trace.note:
        out += [trace.note, ""]
    if trace.backward or trace.independent:
        out += [f"### Backward pass (gradients of {trace.of})", "", "```text"]
        for entry in trace.backward:
            out += entry.lines()
        out += trace.independent_lines()
        out += ["```", ""]
    if trace.updates:
        out += ["### Updates", "", "```text"]
        for entry in trace.updates:
            out += entry.lines()
        out += ["```", ""]
    return "\n".join(out)
