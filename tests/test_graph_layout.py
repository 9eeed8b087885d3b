"""The layered graph layout (render/layout.py): boxes and labels never overlap, wires run left to right, the same input gives the same picture."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from backprop_cli.render.layout import Item, Link, layout

Rect = tuple[float, float, float, float]  # left, top, right, bottom


def _overlap(a: Rect, b: Rect) -> bool:
    return a[0] < b[2] - 1e-6 and b[0] < a[2] - 1e-6 and a[1] < b[3] - 1e-6 and b[1] < a[3] - 1e-6


@st.composite
def dags(draw):
    n = draw(st.integers(1, 14))
    items = [Item(f"n{i}", draw(st.integers(10, 120)), draw(st.integers(10, 60))) for i in range(n)]
    links = []
    for j in range(1, n):
        for i in draw(st.lists(st.integers(0, j - 1), max_size=3, unique=True)):
            labelled = draw(st.booleans())
            links.append(Link(f"n{i}", f"n{j}", draw(st.integers(5, 90)) if labelled else 0,
                              draw(st.integers(10, 50)) if labelled else 0))
    return items, links


@settings(max_examples=120, deadline=None)
@given(dags())
def test_nothing_overlaps_and_wires_run_forward(graph):
    items, links = graph
    result = layout(items, links)
    rects = []
    for item in items:
        p = result.nodes[item.id]
        assert (p.width, p.height) == (item.width, item.height)
        rects.append((p.x - p.width / 2, p.y - p.height / 2, p.x + p.width / 2, p.y + p.height / 2))
    for route, link in zip(result.routes, links):
        xs = [x for x, _ in route.points]
        assert xs == sorted(xs), "a wire runs backwards"
        assert route.points[0][0] == result.nodes[link.source].x + result.nodes[link.source].width / 2
        assert route.points[-1][0] == result.nodes[link.target].x - result.nodes[link.target].width / 2
        if link.label_width:
            x, y = route.label
            rects.append((x - link.label_width / 2, y - link.label_height / 2,
                          x + link.label_width / 2, y + link.label_height / 2))
        else:
            assert route.label is None
    for i, a in enumerate(rects):
        assert a[0] >= -1e-6 and a[1] >= -1e-6 and a[2] <= result.width + 1e-6 and a[3] <= result.height + 1e-6
        for b in rects[i + 1:]:
            assert not _overlap(a, b), (a, b)
    assert layout(items, links) == result


def test_a_given_used_late_sits_next_to_its_consumer():
    items = [Item(n, 20, 20) for n in ("x", "w", "y", "xw", "yhat", "r")]
    links = [Link("x", "xw"), Link("w", "xw"), Link("xw", "yhat"), Link("yhat", "r"), Link("y", "r")]
    result = layout(items, links)
    assert result.nodes["y"].x == result.nodes["yhat"].x  # one layer before r, not at the far left
    assert result.nodes["x"].x < result.nodes["xw"].x < result.nodes["yhat"].x < result.nodes["r"].x


def test_links_must_follow_the_order():
    import pytest

    with pytest.raises(ValueError):
        layout([Item("a", 1, 1), Item("b", 1, 1)], [Link("b", "a")])
