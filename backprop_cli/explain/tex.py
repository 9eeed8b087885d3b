"""The forward and backward derivation in LaTeX, as plain strings for :mod:`backprop_cli.render.latex`.

It follows the trace's stages (chain rule, symbolic local derivatives, the
numbers, the result) but writes them for a teacher's notes: fractions for
partials, ``\\odot`` for elementwise products, tensors as ``bmatrix``, names
with subscripts (``W1`` as ``W_{1}``).  Operation forms come from the op
table's own ``form`` and ``vjp_form`` strings, translated token by token, so
a new op is written sensibly without a table of its own here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sympy as sp
from sympy.printing.latex import LatexPrinter

from backprop_cli.autodiff.engine import Backward, GradLine, Term
from backprop_cli.autodiff.graph import Node, Role
from backprop_cli.autodiff.numbers import SHORT, decimal_text, exact_text, is_short
from backprop_cli.autodiff.tensor import Value, is_tensor, shape

MAX_SIDE = 8  # rows or columns of a bmatrix beyond which the middle is elided
FUNCTIONS = {"exp": r"\exp", "log": r"\log", "sin": r"\sin", "cos": r"\cos", "tan": r"\tan",
             "tanh": r"\tanh", "max": r"\max", "min": r"\min", "sigmoid": r"\sigma"}


@dataclass(frozen=True)
class TexEntry:
    target: str  # the left-hand side
    stages: tuple[str, ...]  # the right-hand sides, in order
    note: str | None = None  # "seed", "given", ...


@dataclass(frozen=True)
class Derivation:
    title: str
    of: str  # LaTeX of what is differentiated
    forward: tuple[TexEntry, ...]
    backward: tuple[TexEntry, ...]


def name(text: str) -> str:
    """A node's name in LaTeX: ``x``, ``W_{1}``, ``\\mathit{y\\_hat}``."""
    if len(text) == 1:
        return text
    if m := re.fullmatch(r"([A-Za-z])(\d+)", text):
        return f"{m[1]}_{{{m[2]}}}"
    return r"\mathit{" + text.replace("_", r"\_") + "}"


class _Printer(LatexPrinter):
    """SymPy's LaTeX, with relu's derivative as an Iverson bracket like the trace's ``[z > 0]``."""

    def _print_Heaviside(self, expr, exp=None):
        z = self._print(expr.args[0])
        if len(expr.args) > 1 and expr.args[1] == 0:
            return rf"[{z} > 0]"
        return rf"\operatorname{{step}}({z})"


def _expr(value: sp.Expr, names: dict[sp.Symbol, str] | None = None) -> str:
    return _Printer({"symbol_names": names or {}, "mul_symbol": "dot"}).doprint(value)


def scalar(value: sp.Expr) -> str:
    """Exact when short (as the trace decides), else a decimal with ``\\approx``."""
    if is_short(value, 4 * SHORT) and len(exact_text(value)) <= SHORT:
        return _expr(value)
    return r"\approx " + decimal_text(value, 6)


def value(v: Value) -> str:
    """A scalar, or a tensor as a bmatrix (long exact entries as decimals)."""
    if not is_tensor(v):
        return scalar(v)
    rows, cols = shape(v)
    approx = False

    def entry(e) -> str:
        nonlocal approx
        text = scalar(e)
        if text.startswith(r"\approx"):
            approx = True
            return text[len(r"\approx "):]
        return text

    keep_r = _kept(rows)
    keep_c = _kept(cols)
    lines = []
    for i in keep_r:
        if i is None:
            lines.append(" & ".join(r"\vdots" if j is not None else r"\ddots" for j in keep_c))
            continue
        lines.append(" & ".join(entry(v[i, j]) if j is not None else r"\cdots" for j in keep_c))
    body = r"\begin{bmatrix} " + r" \\ ".join(lines) + r" \end{bmatrix}"
    return (r"\approx " if approx else "") + body


def _kept(n: int) -> list[int | None]:
    """Indices shown along one side; None where the middle is elided."""
    if n <= MAX_SIDE:
        return list(range(n))
    half = MAX_SIDE // 2
    return [*range(half - 1), None, *range(n - half + 1, n)] if half > 1 else [0, None, n - 1]


def partial(of: str, node: str) -> str:
    return rf"\frac{{\partial {name(of)}}}{{\partial {name(node)}}}"


_TOKEN = re.compile(r"\{(\w+)\}(\.T)?|ones\(\{shape0\}\)|([A-Za-z][A-Za-z0-9_]*)(?=\()|"
                    r"[A-Za-z]{2,}(?: [A-Za-z]{2,})*|[A-Za-z]|\*\*|\.T|\s+|.")
_OPERATORS = {"@": " ", "⊙": r" \odot ", "·": r" \cdot ", "Σ": r"\sum ", ".T": r"^{\top}", "**": "^"}


def template(form: str, fill: dict[str, str], words: dict[str, str], tensors: bool = False) -> str:
    """One of the op table's forms in LaTeX: placeholders filled, operators and words translated."""
    out = []
    for m in _TOKEN.finditer(form):
        token = m[0]
        if m[1] is not None:  # {0}, {g}, {out}, {stride}, ...
            out.append(fill.get(m[1], words.get(m[1], m[1])) + (r"^{\top}" if m[2] else ""))
        elif token.startswith("ones("):
            out.append(r"\mathbf{1}_{" + words.get("shape0", "").replace("x", r" \times ") + "}")
        elif m[3] is not None:  # a function call
            out.append(FUNCTIONS.get(token, r"\operatorname{" + token + "}"))
        elif token.isascii() and token.replace(" ", "").isalpha():  # the matrix form's prose, or an index
            out.append(token if len(token) == 1 else r"\text{ " + token + " }")
        elif token == "*":
            out.append(r" \odot " if tensors else r" \cdot ")
        elif token.isspace():
            out.append(" ")
        else:
            out.append(_OPERATORS.get(token, token))
    return re.sub(r" {2,}", " ", "".join(out)).strip()


def _definition(node: Node, values: dict[Node, Value]) -> str:
    form = node.op.form
    fill = {str(i): _label(inp) for i, inp in enumerate(node.inputs)}
    tensors = any(is_tensor(values[i]) for i in node.inputs)
    if form == "{0}/{1}":
        return rf"\frac{{{fill['0']}}}{{{fill['1']}}}"
    if form == "{0}**{1}":
        return f"{fill['0']}^{{{fill['1']}}}"
    if form == "sqrt({0})":
        return rf"\sqrt{{{fill['0']}}}"
    words = {k: str(v) for k, v in node.params.items()}
    return template(form, fill, words, tensors)


def _label(node: Node) -> str:
    if node.role is Role.CONST:
        text = _expr(node.const)
        return f"({text})" if text.startswith("-") else text
    return name(node.name)


def forward_entries(nodes: list[Node], values: dict[Node, Value]) -> list[TexEntry]:
    out = []
    for node in nodes:
        if node.role is Role.CONST:
            continue
        if node.op is None:
            out.append(TexEntry(name(node.name), (value(values[node]),), "given"))
        else:
            out.append(TexEntry(name(node.name), (_definition(node, values), value(values[node]))))
    return out


def _factor(text: str) -> str:
    """Parenthesise a factor that starts with a sign or is a sum at its top level."""
    if text.startswith((r"\begin", r"\approx \begin")):
        return text
    depth, top_sum = 0, False
    for i, ch in enumerate(text):
        depth += (ch == "{") - (ch == "}")
        if depth == 0 and text.startswith((" + ", " - "), i):
            top_sum = True
    return f"\\left({text}\\right)" if text.startswith("-") or top_sum else text


def _term(term: Term, node: Node, of: str, values: dict[Node, Value]) -> tuple[str, str, str]:
    consumer = term.consumer
    g = partial(of, consumer.name)
    if term.local_symbolic is None:  # a tensor op: its VJP in matrix form
        form = consumer.op.vjp_form(term.slot)
        first = values[consumer.inputs[0]]
        words = {"shape0": "x".join(map(str, shape(first))), "size0": str(getattr(first, "size", 1)),
                 **{k: str(v) for k, v in consumer.params.items()}}
        names = {"g": g, "out": name(consumer.name),
                 **{str(i): _label(inp) for i, inp in enumerate(consumer.inputs)}}
        numbers = {"g": value(term.upstream), "out": value(values[consumer]),
                   **{str(i): value(values[inp]) for i, inp in enumerate(consumer.inputs)}}
        named = template(form, names, words)
        return named, named, template(form, numbers, words)
    tensor = is_tensor(term.upstream) or is_tensor(term.local)
    dot = r" \odot " if tensor else r" \cdot "
    symbols = {sp.Symbol(n.name): name(n.name) for n in (*consumer.inputs, consumer) if n.role is not Role.CONST}
    chain = g + dot + partial(consumer.name, node.name)
    symbolic = _factor(value(term.upstream)) + dot + _factor(_expr(term.local_symbolic, symbols))
    numeric = _factor(value(term.upstream)) + dot + _factor(value(term.local))
    if tensor and not is_tensor(values[node]):  # a scalar broadcast over a tensor collects every entry
        chain, symbolic, numeric = (rf"\operatorname{{sum}}\left({t}\right)" for t in (chain, symbolic, numeric))
    used = []
    by_name = {n.name: n for n in (*consumer.inputs, consumer)}
    for sym in sorted(term.local_symbolic.free_symbols, key=lambda s: s.name):
        if sym.name in by_name:
            used.append(f"{name(sym.name)} = {value(values[by_name[sym.name]])}")
    if used:
        numeric += r" \quad (" + ", ".join(used) + ")"
    return chain, symbolic, numeric


def _stages(line: GradLine, of: str, values: dict[Node, Value]) -> tuple[str, ...]:
    parts = [_term(t, line.node, of, values) for t in line.terms]
    stages = [" + ".join(p[i] for p in parts) for i in range(3)]
    if len(parts) > 1:
        stages.append(" + ".join(_factor(value(t.value)) for t in line.terms))
    stages.append(value(line.value))
    out: list[str] = []
    for stage in stages:  # identical neighbours say nothing new
        if not out or out[-1] != stage:
            out.append(stage)
    return tuple(out)


def derivation(run: Backward, title: str, wrt: Node | None = None) -> Derivation:
    """The whole derivation of one backward pass, or the part that leads to ``wrt``."""
    graph = run.graph
    keep = None if wrt is None else set(graph.between(run.target, wrt))
    nodes = graph.nodes if wrt is None else graph.ancestors(run.target)
    backward = []
    for line in run.lines:
        if keep is not None and line.node not in keep:
            continue
        target = partial(run.of, line.node.name)
        if not line.terms:
            note = "upstream, given" if run.outside else "seed"
            backward.append(TexEntry(target, (value(line.value),), note))
        else:
            backward.append(TexEntry(target, _stages(line, run.of, run.values)))
    return Derivation(title, name(run.of), tuple(forward_entries(nodes, run.values)), tuple(backward))
