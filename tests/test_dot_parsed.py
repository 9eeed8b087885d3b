"""The DOT output parsed back with a small parser: every box and wire is there, labelled right.

The parser reads what Graphviz reads for this subset: statements ending in
``;``, quoted strings with backslash escapes, and HTML-like labels ``<...>``
with balanced angle brackets.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from backprop_cli.explain.picture import Kind
from backprop_cli.grading import pipeline
from backprop_cli.render.dot import render_dot

ROOT = Path(__file__).resolve().parent.parent
EXERCISES = ["linear-model", "mlp-2-3-3-1", "conv-stride2", "softmax-classifier", "fan-out",
             "batch-mse", "sigmoid-chain"]


def _value(text: str, i: int) -> tuple[str, int]:
    """One attribute value starting at text[i]: a quoted string, an HTML-like label or an ID."""
    if text[i] == '"':
        out, i = [], i + 1
        while text[i] != '"':
            if text[i] == "\\":
                i += 1
            out.append(text[i])
            i += 1
        return "".join(out), i + 1
    if text[i] == "<":
        depth, start = 0, i
        while True:
            depth += (text[i] == "<") - (text[i] == ">")
            i += 1
            if depth == 0:
                return text[start + 1:i - 1], i
    m = re.compile(r"[\w.#-]+").match(text, i)
    assert m, f"no value at {text[i:i + 20]!r}"
    return m[0], m.end()


def _attrs(text: str) -> dict[str, str]:
    out, i = {}, 0
    while i < len(text):
        if text[i] in " ,\n":
            i += 1
            continue
        m = re.compile(r"(\w+)\s*=\s*").match(text, i)
        assert m, f"bad attribute list at {text[i:i + 30]!r}"
        out[m[1]], i = _value(text, m.end())
    return out


def parse_dot(text: str) -> tuple[dict, dict[str, dict], list[tuple[str, str, dict]]]:
    """(graph attributes, nodes by id, edges) of a ``digraph NAME { ... }``."""
    m = re.fullmatch(r"digraph (\w+) \{\n(.*)\}\n", text, re.S)
    assert m, "not a digraph"
    body, statements, i, start = m[2], [], 0, 0
    while i < len(body):  # split on ';' outside quotes and labels
        if body[i] in '"<':
            _, i = _value(body, i)
            continue
        if body[i] == ";":
            statements.append(body[start:i].strip())
            start = i + 1
        i += 1
    assert not body[start:].strip(), f"text after the last statement: {body[start:]!r}"
    graph, nodes, edges = {}, {}, []
    for st in statements:
        head, _, rest = st.partition(" [")
        attrs = _attrs(rest[:-1]) if rest else {}
        if head in ("graph", "node", "edge"):
            graph.setdefault(head, {}).update(attrs)
        elif " -> " in head:
            a, b = head.split(" -> ")
            edges.append((a, b, attrs))
        else:
            assert re.fullmatch(r"\w+", head), head
            assert head not in nodes, f"node {head} twice"
            nodes[head] = attrs
    return graph, nodes, edges


def _text(label: str) -> str:
    """An HTML-like label's text, lines joined by newlines."""
    plain = re.sub(r"<br/>", "\n", label)
    plain = re.sub(r"<[^>]+>", "", plain)
    return plain.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&amp;", "&")


@pytest.mark.parametrize("name", EXERCISES)
def test_dot_holds_the_picture(name):
    exercise = pipeline.load(ROOT / "exercises" / f"{name}.yaml")
    picture = pipeline.picture(exercise)
    text = render_dot(picture)
    assert text == render_dot(pipeline.picture(pipeline.load(ROOT / "exercises" / f"{name}.yaml")))
    graph, nodes, edges = parse_dot(text)
    assert graph["graph"]["rankdir"] == "LR"
    assert set(nodes) == {b.id for b in picture.boxes}
    for box in picture.boxes:
        shown = _text(nodes[box.id]["label"])
        assert shown.splitlines()[0].startswith(box.label)
        if box.kind in (Kind.GIVEN, Kind.STEP) and box.grad is not None:
            assert "∂ " + box.grad.lines[0] in shown
    assert [(a, b) for a, b, _ in edges] == [(w.source, w.target) for w in picture.wires]
    for (a, b, attrs), wire in zip(edges, picture.wires):
        assert a in nodes and b in nodes
        if wire.from_const:
            assert "label" not in attrs and attrs["style"] == "dashed"
            continue
        lines = _text(attrs["label"]).splitlines()
        assert lines[len(lines) - len(wire.grad.lines) - len(wire.value.lines):][:len(wire.value.lines)] \
            == list(wire.value.lines)
        assert lines[-len(wire.grad.lines)] == "∂ " + wire.grad.lines[0]
        assert 'color="#1a7f37"' in attrs["label"] and 'color="#cf222e"' in attrs["label"]


def test_wrt_highlights_the_paths_only():
    exercise = pipeline.load(ROOT / "exercises" / "linear-model.yaml")
    _, nodes, edges = parse_dot(render_dot(pipeline.picture(exercise, wrt="w")))
    blue = {(a, b) for a, b, attrs in edges if attrs.get("penwidth") == "2.5"}
    # w -> x*w -> y_hat -> y_hat - y -> r -> r**2 -> loss; x, y and the constant 2 are off the path
    assert blue == {("v2", "o3"), ("o3", "v3"), ("v3", "o4"), ("o4", "v4"), ("v4", "o6"), ("o6", "v6")}
    assert nodes["v2"].get("penwidth") == "2.5" and "penwidth" not in nodes["v0"]


def test_a_tensor_too_big_to_write_is_shown_by_its_shape(tmp_path):
    path = tmp_path / "big.yaml"
    rows = ", ".join("[" + ", ".join(str(i * 8 + j) for j in range(8)) + "]" for i in range(8))
    path.write_text(f"backprop: 1\ngiven:\n  A: [{rows}]\nsteps:\n  s: sum(A*A)\nask: [dA/ds]\n"
                    .replace("dA/ds", "ds/dA"))
    _, nodes, edges = parse_dot(render_dot(pipeline.picture(pipeline.load(path))))
    assert "A (8x8)" in _text(nodes["v0"]["label"])
    assert "(8x8 tensor)" in _text(edges[0][2]["label"])


def test_titles_and_names_are_escaped(tmp_path):
    path = tmp_path / "odd.yaml"
    path.write_text('backprop: 1\ntitle: "a \\"quoted\\" <b>title</b> & \\\\ more"\n'
                    "given:\n  x: 2\nsteps:\n  f: x*x\nask: [df/dx]\n")
    graph, nodes, _ = parse_dot(render_dot(pipeline.picture(pipeline.load(path))))
    assert graph["graph"]["label"].startswith('a "quoted" <b>title</b> & \\ more')
