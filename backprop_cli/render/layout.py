"""A layered (Sugiyama-style) layout of a small DAG, left to right, in pure Python.

The computational graph is already a DAG in topological order, so of the
classic steps only these are needed:

1. layers: the longest path from the inputs; a node without inputs moves up
   to just before its first consumer, so a given used late is drawn near it;
2. every edge's label becomes a node of its own in the layer just before the
   edge's head (as Graphviz's ``dot`` does), and longer edges get one waypoint
   per layer they cross, so labels never overlap boxes or each other;
3. order within layers: barycenter sweeps, keeping the order with the fewest
   crossings;
4. positions: layers side by side; within a layer, each node as close as it
   can be to the mean of its neighbours' positions while keeping its order
   and spacing (isotonic regression, solved by pool-adjacent-violators).

Deterministic: ties keep the input order.  Sizes are in SVG user units.
"""

from __future__ import annotations

from dataclasses import dataclass

H_GAP = 28.0  # between layers
V_GAP = 14.0  # between nodes of one layer
SWEEPS = 12


@dataclass(frozen=True)
class Item:
    id: str
    width: float
    height: float


@dataclass(frozen=True)
class Link:
    source: str
    target: str
    label_width: float = 0.0  # 0: no label
    label_height: float = 0.0


@dataclass(frozen=True)
class Placed:
    x: float  # centre
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Route:
    points: tuple[tuple[float, float], ...]  # from the source's right side to the target's left side
    label: tuple[float, float] | None  # the centre of the label, on the wire


@dataclass(frozen=True)
class Layout:
    width: float
    height: float
    nodes: dict[str, Placed]
    routes: list[Route]  # one per link, in the links' order


@dataclass
class _Slot:
    id: str
    width: float
    height: float
    layer: int
    y: float = 0.0


def layout(items: list[Item], links: list[Link]) -> Layout:
    """Positions for ``items`` (given in topological order) and a route for each link."""
    index = {item.id: i for i, item in enumerate(items)}
    layer = _layers(items, links, index)
    slots = {item.id: _Slot(item.id, item.width, item.height, 2 * layer[item.id]) for item in items}
    chains: list[list[str]] = []
    for n, link in enumerate(links):
        head, tail = slots[link.source].layer, slots[link.target].layer
        chain = [link.source]
        for k in range(head + 1, tail):
            labelled = k == tail - 1 and link.label_width > 0
            dummy = _Slot(f"\0{n}:{k}", link.label_width if labelled else 0.0,
                          link.label_height if labelled else 0.0, k)
            slots[dummy.id] = dummy
            chain.append(dummy.id)
        chain.append(link.target)
        chains.append(chain)
    edges = [(a, b) for chain in chains for a, b in zip(chain, chain[1:])]
    rows = _order(slots, edges, index)
    xs = _columns(rows)
    _positions(rows, edges, slots)
    top = min((s.y - s.height / 2 for s in slots.values()), default=0.0)
    for s in slots.values():
        s.y -= top
    height = max((s.y + s.height / 2 for s in slots.values()), default=0.0)
    width = xs[-1][0] + xs[-1][1] if xs else 0.0
    placed = {item.id: Placed(xs[slots[item.id].layer][0] + xs[slots[item.id].layer][1] / 2,
                              slots[item.id].y, item.width, item.height) for item in items}
    routes = []
    for n, chain in enumerate(chains):
        a, b = placed[chain[0]], placed[chain[-1]]
        points = [(a.x + a.width / 2, a.y)]
        label = None
        for dummy in chain[1:-1]:
            s = slots[dummy]
            left, column = xs[s.layer]
            points += [(left, s.y), (left + column, s.y)]
            if s.width:
                label = (left + column / 2, s.y)
        points.append((b.x - b.width / 2, b.y))
        routes.append(Route(tuple(points), label))
    return Layout(width, height, placed, routes)


def _layers(items: list[Item], links: list[Link], index: dict[str, int]) -> dict[str, int]:
    into: dict[str, list[str]] = {i.id: [] for i in items}
    out: dict[str, list[str]] = {i.id: [] for i in items}
    for link in links:
        if index[link.source] >= index[link.target]:
            raise ValueError(f"links must follow the items' order: {link.source} -> {link.target}")
        into[link.target].append(link.source)
        out[link.source].append(link.target)
    layer: dict[str, int] = {}
    for item in items:
        layer[item.id] = max((layer[s] + 1 for s in into[item.id]), default=0)
    for item in reversed(items):  # sources move up to just before their first consumer
        if not into[item.id] and out[item.id]:
            layer[item.id] = min(layer[t] for t in out[item.id]) - 1
    return layer


def _order(slots: dict[str, _Slot], edges: list[tuple[str, str]], index: dict[str, int]) -> list[list[_Slot]]:
    count = max(s.layer for s in slots.values()) + 1 if slots else 0
    rows: list[list[_Slot]] = [[] for _ in range(count)]
    for s in slots.values():  # items in their given order, waypoints after them
        rows[s.layer].append(s)
    for row in rows:
        row.sort(key=lambda s: (index.get(s.id, len(index)), s.id))
    up: dict[str, list[str]] = {s: [] for s in slots}
    down: dict[str, list[str]] = {s: [] for s in slots}
    for a, b in edges:
        down[a].append(b)
        up[b].append(a)
    best, best_crossings = [list(r) for r in rows], _crossings(rows, down)
    for sweep in range(SWEEPS):
        forward = sweep % 2 == 0
        order = range(1, count) if forward else range(count - 2, -1, -1)
        for k in order:
            fixed = rows[k - 1] if forward else rows[k + 1]
            where = {s.id: i for i, s in enumerate(fixed)}
            near = up if forward else down
            keyed = []
            for i, s in enumerate(rows[k]):
                others = [where[o] for o in near[s.id] if o in where]
                keyed.append((sum(others) / len(others) if others else i, i, s))
            rows[k] = [s for _, _, s in sorted(keyed, key=lambda t: (t[0], t[1]))]
        crossings = _crossings(rows, down)
        if crossings < best_crossings:
            best, best_crossings = [list(r) for r in rows], crossings
    return best


def _crossings(rows: list[list[_Slot]], down: dict[str, list[str]]) -> int:
    total = 0
    for k in range(len(rows) - 1):
        where = {s.id: i for i, s in enumerate(rows[k + 1])}
        pairs = [(i, where[t]) for i, s in enumerate(rows[k]) for t in down[s.id] if t in where]
        total += sum(1 for n, (a, b) in enumerate(pairs) for c, d in pairs[n + 1:]
                     if (a - c) * (b - d) < 0)
    return total


def _columns(rows: list[list[_Slot]]) -> list[tuple[float, float]]:
    """(left edge, width) of each layer."""
    out, x = [], 0.0
    for row in rows:
        width = max((s.width for s in row), default=0.0)
        out.append((x, width))
        x += width + (H_GAP if width else H_GAP / 2)
    return out


def _positions(rows: list[list[_Slot]], edges: list[tuple[str, str]], slots: dict[str, _Slot]) -> None:
    neighbours: dict[str, list[str]] = {s: [] for s in slots}
    for a, b in edges:
        neighbours[a].append(b)
        neighbours[b].append(a)
    for row in rows:  # start stacked
        _place(row, [0.0] * len(row))
    for sweep in range(SWEEPS):
        order = rows if sweep % 2 == 0 else rows[::-1]
        for row in order:
            wanted = []
            for s in row:
                ys = [slots[n].y for n in neighbours[s.id]]
                wanted.append(sum(ys) / len(ys) if ys else s.y)
            _place(row, wanted)


def _place(row: list[_Slot], wanted: list[float]) -> None:
    """Ys as close as possible to ``wanted`` (least squares), in order, without overlaps."""
    offsets, total = [], 0.0
    for i, s in enumerate(row):
        if i:
            total += (row[i - 1].height + s.height) / 2 + (V_GAP if s.height and row[i - 1].height else V_GAP / 2)
        offsets.append(total)
    blocks: list[list[float]] = []  # [mean, weight] of pooled targets, non-decreasing
    for w, off in zip(wanted, offsets):
        blocks.append([w - off, 1.0])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            m2, w2 = blocks.pop()
            m1, w1 = blocks.pop()
            blocks.append([(m1 * w1 + m2 * w2) / (w1 + w2), w1 + w2])
    i = 0
    for mean, weight in blocks:
        for _ in range(int(weight)):
            row[i].y = mean + offsets[i]
            i += 1
