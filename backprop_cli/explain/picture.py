"""The computational graph as a picture, in plain data: boxes, wires and their labels.

A :class:`Picture` is what every drawing (DOT, Mermaid, SVG, the HTML page)
shows, built once from the graph, its forward values and one backward pass:

* givens and steps are value boxes, named; each operation (a step's or an
  intermediate's) is an op box, labelled with its definition; numbers written
  in a step are small constant boxes; an outside loss is a box of its own;
* every wire carries the forward value that flows along it and, when the
  backward pass reaches it, the gradient that flows back (CS231n draws the
  first green and the second red).  A wire into an op carries its own share of
  the gradient, so a value that fans out shows each path's term, and its box
  the sum;
* tensors are written row by row while they fit, otherwise by their shape;
* ``wrt`` marks the boxes and wires on the paths between the target and one
  node, and every box knows the boxes on its own paths (the HTML page lights
  them up when it is pointed at).

Everything here is a string, so renderers never touch SymPy.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace

from backprop_cli.autodiff.engine import Backward
from backprop_cli.autodiff.graph import Node, Role
from backprop_cli.autodiff.numbers import decimal_text, exact_text, is_short
from backprop_cli.autodiff.tensor import Value, is_tensor, shape, shape_text
from backprop_cli.explain.trace import backward_entries, number

MAX_ROWS = 6  # a tensor with more rows is shown by its shape
MAX_LINE = 40  # ... and so is one whose rows are longer than this
SHORT_EXACT = 10  # an exact scalar longer than this is shown as a 4-digit decimal


class Kind(str, enum.Enum):
    GIVEN = "given"
    STEP = "step"
    OP = "op"
    CONST = "const"
    OUTSIDE = "outside"  # the outside loss whose gradient enters at the output


@dataclass(frozen=True)
class Shown:
    """A value as drawn (one line per tensor row, or its shape) and as the trace writes it."""

    lines: tuple[str, ...]
    full: str

    @property
    def text(self) -> str:
        return " ".join(self.lines)


@dataclass(frozen=True)
class Asked:
    """An asked item about a box: its key and whether the student got it right."""

    key: str
    right: bool
    first_wrong: bool = False


@dataclass(frozen=True)
class Box:
    id: str  # stable within a picture and safe as a DOT, Mermaid, SVG and HTML id
    kind: Kind
    label: str  # a name, an op's definition, a number
    node: str  # the graph node it stands for (an op box: the step or intermediate it computes)
    shape: str | None = None  # "3x1" for a tensor value
    value: Shown | None = None
    grad: Shown | None = None  # None where the backward pass does not reach
    on_path: bool = False  # on a path between the target and --wrt
    reach: tuple[str, ...] = ()  # ids of the boxes on this box's paths to the target
    entry: tuple[str, ...] = ()  # the node's chain-rule entry, as the trace writes it
    asked: tuple[Asked, ...] = ()

    @property
    def wrong(self) -> bool:
        return any(not a.right for a in self.asked)

    @property
    def first_wrong(self) -> bool:
        return any(a.first_wrong for a in self.asked)


@dataclass(frozen=True)
class Wire:
    source: str  # box ids
    target: str
    value: Shown | None  # None on a wire from a constant (the box is the number)
    grad: Shown | None
    name: str | None = None  # the intermediate it carries, e.g. z1_1
    on_path: bool = False
    from_const: bool = False  # a number written in a step: the box says it all


@dataclass(frozen=True)
class Picture:
    title: str
    of: str  # what the gradients are of
    wrt: str | None
    boxes: tuple[Box, ...]
    wires: tuple[Wire, ...] = field(default_factory=tuple)

    def box(self, box_id: str) -> Box:
        return next(b for b in self.boxes if b.id == box_id)

    def by_node(self, name: str) -> Box | None:
        """The value box of a given or step, the op box of an intermediate."""
        found = [b for b in self.boxes if b.node == name and b.kind is not Kind.CONST]
        return next((b for b in found if b.kind is not Kind.OP), found[0] if found else None)


def too_big(nodes: int, limit: int) -> str | None:
    """Why a graph of ``nodes`` nodes is not drawn, or None when it is."""
    if nodes <= limit:
        return None
    return f"the graph has {nodes} nodes, too many to draw (graphs of at most {limit} nodes are drawn)"


def shown(value: Value) -> Shown:
    """A value as a picture writes it: short, and by its shape when it does not fit."""
    full = number(value)
    if not is_tensor(value):
        return Shown((_scalar(value),), full)
    lines = tuple("[" + ", ".join(_scalar(e) for e in row) + "]" for row in value)
    if len(lines) > MAX_ROWS or max(len(line) for line in lines) > MAX_LINE:
        lines = (f"({shape_text(shape(value))} tensor)",)
    return Shown(lines, full)


def _scalar(value) -> str:
    if is_short(value, 2 * SHORT_EXACT):
        text = exact_text(value)
        if len(text) <= SHORT_EXACT:
            return text
    return decimal_text(value, 4)


def build(run: Backward, title: str, wrt: Node | None = None) -> Picture:
    """The picture of ``run``'s graph; ``wrt`` highlights the paths between the target and it."""
    graph, values = run.graph, run.values
    shares = {(t.consumer, t.slot): t.value for line in run.lines for t in line.terms}
    grads = {line.node: line.value for line in run.lines}
    reach = {n: _reach(run, n) for n in graph.nodes if n.role is not Role.CONST}
    entries = {e.name: tuple(e.lines()) for e in backward_entries(run)}
    path = set(reach.get(wrt, ())) if wrt is not None else set()
    boxes: list[Box] = []
    wires: list[Wire] = []
    for node in graph.nodes:
        value, grad = shown(values[node]), _maybe(grads.get(node))
        tensor = shape_text(shape(values[node])) if is_tensor(values[node]) else None
        if node.role is Role.CONST:
            boxes.append(Box(f"c{node.index}", Kind.CONST, _const_label(node), node.name))
            continue
        if node.op is not None:
            op_id = f"o{node.index}"
            boxes.append(Box(op_id, Kind.OP, node.definition(), node.name, tensor, value, grad,
                             op_id in path and node is not wrt, reach[node] + (op_id,),
                             entries.get(node.name, ())))
            for slot, inp in enumerate(node.inputs):
                wires.append(_input_wire(inp, node, slot, values, shares, path))
        if node.role in (Role.GIVEN, Role.STEP):
            box_id = f"v{node.index}"
            kind = Kind.GIVEN if node.role is Role.GIVEN else Kind.STEP
            boxes.append(Box(box_id, kind, node.name, node.name, tensor, value, grad,
                             box_id in path, reach[node], entries.get(node.name, ())))
            if node.op is not None:
                wires.append(Wire(f"o{node.index}", box_id, value, grad,
                                  on_path=box_id in path and f"o{node.index}" in path))
    if run.outside is not None:
        out_id = f"v{run.target.index}"
        seed = shown(run.seed)
        boxes.append(Box("outside", Kind.OUTSIDE, run.outside, run.outside, value=None, grad=seed,
                         on_path=bool(path), reach=("outside",),
                         entry=(f"∂{run.outside}/∂{run.target.name} = {seed.full}   (upstream, given)",)))
        wires.append(Wire(out_id, "outside", shown(values[run.target]), shown(run.seed),
                          on_path=bool(path)))
    return Picture(title, run.of, wrt.name if wrt is not None else None, tuple(boxes), tuple(wires))


def _maybe(value: Value | None) -> Shown | None:
    return None if value is None else shown(value)


def _const_label(node: Node) -> str:
    label = node.label
    return label[1:-1] if label.startswith("(") else label


def _reach(run: Backward, node: Node) -> tuple[str, ...]:
    """The boxes on the paths from ``node`` up to the target (its own op box excluded)."""
    between = run.graph.between(run.target, node)
    ids = []
    for n in between:
        if n.op is not None and n is not node:
            ids.append(f"o{n.index}")
        if n.role in (Role.GIVEN, Role.STEP):
            ids.append(f"v{n.index}")
    if between and run.outside is not None:
        ids.append("outside")
    return tuple(ids)


def _input_wire(inp: Node, consumer: Node, slot: int, values, shares, path: set[str]) -> Wire:
    target = f"o{consumer.index}"
    if inp.role is Role.CONST:
        return Wire(f"c{inp.index}", target, None, None, from_const=True)
    source = f"v{inp.index}" if inp.role in (Role.GIVEN, Role.STEP) else f"o{inp.index}"
    name = inp.name if inp.role is Role.PART else None
    return Wire(source, target, shown(values[inp]), _maybe(shares.get((consumer, slot))), name,
                source in path and target in path)


def with_asked(picture: Picture, asked: dict[str, list[Asked]]) -> Picture:
    """The picture with asked items marked on their boxes (keyed by node name)."""
    boxes = []
    for box in picture.boxes:
        own = picture.by_node(box.node) is box
        boxes.append(replace(box, asked=tuple(asked.get(box.node, ()))) if own else box)
    return replace(picture, boxes=tuple(boxes))


def without_values(picture: Picture) -> Picture:
    """The picture with no value, gradient or chain-rule entry: for exercises that hide them."""
    boxes = tuple(replace(b, value=None, grad=None, entry=()) for b in picture.boxes)
    wires = tuple(replace(w, value=None, grad=None) for w in picture.wires)
    return replace(picture, boxes=boxes, wires=wires)
