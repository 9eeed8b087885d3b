"""Property tests (hypothesis) for the parts that read untrusted text.

- ``expr.parse`` on any text returns an inert tree or raises ExpressionError, nothing else;
  what it returns stays inside the whitelist, and every position points into the text.
- Well-formed trees survive ``unparse`` -> ``parse`` and evaluate to an equal value.
- Exact values printed with ``numbers.exact_text`` parse back to an equal value.
- ``yamlsrc.load_text`` on any text or bytes returns a node or raises BackpropError
  with located problems, nothing else.

Bounded: modest ``max_examples``, ``deadline=None`` (SymPy's first calls are slow).
"""

from __future__ import annotations

import sympy as sp
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from backprop_cli.exercise.reading import parse_expression
from backprop_cli.autodiff.registry import FUNCTIONS
from backprop_cli.source import expr
from backprop_cli.autodiff.engine import evaluate
from backprop_cli.source.errors import BackpropError, ExpressionError, Location, Where
from backprop_cli.source.limits import DEFAULT
from backprop_cli.autodiff.numbers import equal, exact_text
from backprop_cli.source.yamlsrc import YNode, load_text

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SMALL = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
WHERE = Where(Location("fuzz", 1, 1), "fuzz", 1)
GIVEN = {"x": sp.Integer(2), "w": sp.Integer(-3), "y": sp.Rational(1, 2)}
BINARY_OPS = {"+", "-", "*", "/", "**", "@"}


# ------------------------------------------------------------------ parse never misbehaves

FRAGMENTS = [
    # the language
    "x", "w", "y", "W", "x1", "pi", "0", "1", "2", "10", "0.5", ".5", "5.", "1e3", "1e-3", "2E+2",
    "+", "-", "*", "/", "**", "^", "@", "(", ")", ",", " ", ".T",
    "exp(", "log(", "sqrt(", "sigmoid(", "tanh(", "relu(", "abs(", "softplus(", "max(", "min(",
    "sum(", "mean(", "transpose(", "softmax(", "conv2d(", "stride=", "padding=",
    # what must be refused
    "__import__", "('os')", ".system", ".__class__", ".__bases__", "[0]", ".__subclasses__()",
    "__builtins__", "_x", "exec(", "eval(", "open(", "'CANARY'", "\"w\"", "f'", "b'", "lambda", ":",
    "lambda: 0", "[", "]", "{", "}", "for", " in ", "if", "else", "not", "and", "or", "is", "yield",
    "await", "async", ":=", "=", "==", "<", ">=", "!", "~", "&", "|", "%", "//", "<<", ">>", "$", "?",
    "#", "\\", ";", "\n", "\t", "\r", "\x00", "\x7f", "*x", "**x", "...",
    "Symbol(", "sympify(", "Function(", "S", "E", "I", "oo", "zoo", "nan", "Integer(", "factorial(",
    "0x1F", "0o7", "0b1", "1_000", "3j", "1e", "1..2", "007", "1e999999", "9" * 120, "9**9**9",
    "\u00a0", "\u200b", "\u202e", "\uff16", "\u0430", "\u2212", "\u00d7", "\ufeff", "\U0001d7d9",
]

fragment_text = st.lists(st.sampled_from(FRAGMENTS), max_size=40).map("".join)


def _depth(root: expr.Node) -> int:
    """Levels of the tree (iteratively: a too-deep tree must fail the check, not recurse)."""
    deepest, stack = 0, [(root, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in _direct(node))
    return deepest


def _direct(node: expr.Node) -> tuple[expr.Node, ...]:
    if isinstance(node, expr.Neg):
        return (node.operand,)
    if isinstance(node, expr.Binary):
        return (node.left, node.right)
    if isinstance(node, expr.Call):
        return node.args + tuple(v for _, v in node.kwargs)
    return ()


def _check_parse(text: str) -> None:
    try:
        tree = parse_expression(text)
    except ExpressionError as err:
        assert 0 <= err.offset <= len(text), (text, err.offset, err.message)
        assert err.length >= 1 and err.message, (text, err.message)
        return
    assert isinstance(tree, expr.Node), (text, tree)
    for node in expr.walk(tree):  # nothing outside the whitelist gets through
        assert 0 <= node.start <= node.end <= len(text), (text, node)
        if isinstance(node, expr.Name):
            assert not node.id.startswith("_") and node.id.isidentifier() and node.id.isascii(), (text, node)
        elif isinstance(node, expr.Call):
            assert node.func in FUNCTIONS, (text, node)
        elif isinstance(node, expr.Binary):
            assert node.op in BINARY_OPS, (text, node)
        elif isinstance(node, expr.Num):
            assert isinstance(node.value, sp.Rational), (text, node)
        else:
            assert isinstance(node, expr.Neg), (text, node)
    assert _depth(tree) <= DEFAULT.max_expr_depth, text


@FUZZ
@given(st.text(max_size=300))
def test_parse_random_text(text):
    _check_parse(text)


@FUZZ
@given(fragment_text)
def test_parse_random_fragments(text):
    _check_parse(text)


@SMALL
@given(st.lists(st.sampled_from(FRAGMENTS), min_size=200, max_size=800).map("".join))
def test_parse_long_random_fragments(text):
    _check_parse(text)


# -------------------------------------------------- unparse -> parse -> evaluate round trip

def _num(text: str) -> expr.Num:
    node = parse_expression(text)
    assert isinstance(node, expr.Num)
    return node


NUMBERS = ["0", "1", "2", "3", "7", "10", "0.5", "1.25", "2e-1", "1e2"]
numbers = st.sampled_from(NUMBERS).map(_num)
names = st.sampled_from(sorted(GIVEN)).map(lambda n: expr.Name(0, 0, n))
leaves = numbers | names
small_exponents = (st.sampled_from(["0", "1", "2", "3"]).map(_num)
                   | st.sampled_from(["1", "2"]).map(lambda t: expr.Neg(0, 0, _num(t)))
                   | names)
UNARY_FUNCTIONS = ["exp", "log", "sqrt", "sin", "cos", "tan", "tanh", "sigmoid", "relu", "abs", "softplus"]


def _extend(children):
    return st.one_of(
        children.map(lambda c: expr.Neg(0, 0, c)),
        st.tuples(st.sampled_from(["+", "-", "*", "/"]), children, children).map(
            lambda t: expr.Binary(0, 0, t[0], t[1], t[2])),
        st.tuples(children, small_exponents).map(lambda t: expr.Binary(0, 0, "**", t[0], t[1])),
        st.tuples(st.sampled_from(UNARY_FUNCTIONS), children).map(
            lambda t: expr.Call(0, 0, t[0], (t[1],))),
        st.tuples(st.sampled_from(["max", "min"]), children, children).map(
            lambda t: expr.Call(0, 0, t[0], (t[1], t[2]))),
    )


trees = st.recursive(leaves, _extend, max_leaves=10)


def _shape(node: expr.Node):
    """The tree without positions."""
    if isinstance(node, expr.Num):
        return ("num", node.value, node.decimal)
    if isinstance(node, expr.Name):
        return ("name", node.id)
    if isinstance(node, expr.Neg):
        return ("neg", _shape(node.operand))
    if isinstance(node, expr.Binary):
        return ("bin", node.op, _shape(node.left), _shape(node.right))
    assert isinstance(node, expr.Call)
    return ("call", node.func, tuple(map(_shape, node.args)), tuple((k, _shape(v)) for k, v in node.kwargs))


def _value(tree: expr.Node):
    used = {n: GIVEN[n] for n in expr.names(tree) if n in GIVEN}
    return evaluate(tree, used, WHERE)


@SMALL
@given(trees)
def test_unparse_parse_round_trip(tree):
    text = expr.unparse(tree)
    again = parse_expression(text)
    assert _shape(again) == _shape(tree), text
    assert expr.unparse(again) == text
    try:
        expected = _value(tree)
    except BackpropError:  # a domain error (log(-3), 1/0, ...): the re-parsed tree must agree
        try:
            _value(again)
        except BackpropError:
            return
        raise AssertionError(f"only the original tree is outside a domain: {text}")
    got = _value(again)
    assert equal(got, expected), (text, got, expected)


# ---------------------------------------------------- exact values print and parse back

@st.composite
def value_text(draw, depth: int = 3, positive: bool = False) -> str:
    """Text of an exact value from rationals, exp, log and sqrt of positives, sigmoid, tanh."""
    if depth == 0 or draw(st.integers(0, 3)) == 0:
        p = draw(st.integers(1 if positive else -9, 9))
        q = draw(st.integers(1, 7))
        return f"({p}/{q})"
    inner = value_text(depth=depth - 1)
    inner_positive = value_text(depth=depth - 1, positive=True)
    makers = [lambda: f"exp({draw(inner)})", lambda: f"sigmoid({draw(inner)})",
              lambda: f"sqrt({draw(inner_positive)})",
              lambda: f"({draw(inner_positive)} + {draw(inner_positive)})",
              lambda: f"({draw(inner_positive)} * {draw(inner_positive)})"]
    if not positive:
        makers += [lambda: f"tanh({draw(inner)})", lambda: f"log({draw(inner_positive)})",
                   lambda: f"({draw(inner)} - {draw(inner)})", lambda: f"-({draw(inner)})"]
    return draw(st.sampled_from(makers))()


@SMALL
@given(value_text())
def test_exact_text_round_trip(text):
    value = _value(parse_expression(text))
    printed = exact_text(value)
    assume(len(printed) <= DEFAULT.max_expr_length)
    again = _value(parse_expression(printed))
    assert equal(again, value), (text, printed, again, value)


# ------------------------------------------------------------- YAML never misbehaves

YAML_FRAGMENTS = [
    "backprop: 1\n", "given:\n", "steps:\n", "ask:\n", "answers:\n", "  x: 2\n", "  a: x * w\n",
    "  - ", "- ", "x", "1", "010", "0x1F", "yes", "~", "null", ".inf", "1:30", "2001-12-14",
    "[", "]", "{", "}", ", ", ": ", ":", "? ", "&a ", "*a", "<<: ", "!tag ", "!!str ", "!!python/object/apply:os.system ",
    "!!python/name:os.system", "%YAML 1.1\n", "%TAG ! tag:x,2000:\n", "---\n", "...\n", "|\n", ">-\n",
    "'", "''", "\"", "\\", "\\x00", "#", " #c", "\t", "\n", "  ", "    ", "\r\n", "\x00", "\x1b",
    "\ufeff", "\u2028", "\u0085", "\ud800", "\U0001f600", "é", "[" * 30, "{a: " * 25, "- " * 25,
]
yaml_text = st.lists(st.sampled_from(YAML_FRAGMENTS), max_size=60).map("".join)


def _check_load(data) -> None:
    try:
        node = load_text(data, "fuzz.yaml")
    except BackpropError as err:
        assert err.problems, data
        for problem in err.problems:
            assert problem.message, (data, problem)
            loc = problem.location
            assert loc is not None and loc.file == "fuzz.yaml", (data, problem)
            assert loc.line >= 1 and loc.column >= 1, (data, problem)
        return
    assert isinstance(node, YNode), (data, node)


@FUZZ
@given(st.text(max_size=400))
def test_load_random_text(text):
    _check_load(text)


@FUZZ
@given(yaml_text)
def test_load_random_yaml_fragments(text):
    _check_load(text)


@SMALL
@given(st.binary(max_size=400))
def test_load_random_bytes(data):
    _check_load(data)
