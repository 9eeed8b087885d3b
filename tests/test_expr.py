"""Tests for backprop_cli.source.expr: a whitelist parser for untrusted expression text."""

from __future__ import annotations

import ast
import keyword
import string
from pathlib import Path

import pytest
import sympy
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from backprop_cli.source.errors import ExpressionError
from backprop_cli.autodiff.registry import FUNCTIONS
from backprop_cli.exercise.reading import parse_expression as parse
from backprop_cli.source.expr import (
    CONSTANTS,
    Binary,
    Call,
    Name,
    Neg,
    Node,
    Num,
    names,
    unparse,
    walk,
)
from backprop_cli.source.limits import DEFAULT, Limits


def shape(node: Node):
    """A span-free, comparable description of a tree."""
    if isinstance(node, Num):
        return ("Num", node.value, node.decimal, node.text)
    if isinstance(node, Name):
        return ("Name", node.id)
    if isinstance(node, Neg):
        return ("Neg", shape(node.operand))
    if isinstance(node, Binary):
        return ("Binary", node.op, shape(node.left), shape(node.right))
    if isinstance(node, Call):
        return ("Call", node.func, tuple(shape(a) for a in node.args),
                tuple((k, shape(v)) for k, v in node.kwargs))
    raise TypeError(node)


def x(id_):
    return ("Name", id_)


def n(value, text=None, decimal=False):
    return ("Num", sympy.Integer(value), decimal, text or str(value))


# ------------------------------------------------------------------ accepted

ACCEPT = [
    ("x", "x"),
    ("(y_hat - y)**2", "(y_hat - y)**2"),
    ("(y_hat - y)^2", "(y_hat - y)**2"),
    ("x*y + sin(x) + tanh(x*x)", "x * y + sin(x) + tanh(x * x)"),
    ("x^2*3", "x**2 * 3"),
    ("2^3^2", "2**3**2"),
    ("(2^3)^2", "(2**3)**2"),
    ("-x**2", "-x**2"),
    ("(-x)**2", "(-x)**2"),
    ("x**-1", "x**-1"),
    ("x^-y^2", "x**-y**2"),
    ("W @ a + b", "W @ a + b"),
    ("W @ (a + b)", "W @ (a + b)"),
    ("a - (b - c)", "a - (b - c)"),
    ("a - b - c", "a - b - c"),
    ("a / (b * c)", "a / (b * c)"),
    ("a.T", "transpose(a)"),
    ("a.T.T @ b", "transpose(transpose(a)) @ b"),
    ("(W @ x).T", "transpose(W @ x)"),
    ("conv2d(X, K, stride=2)", "conv2d(X, K, stride=2)"),
    ("conv2d(X, K, stride=2, padding=1)", "conv2d(X, K, stride=2, padding=1)"),
    ("max(0, x) + min(x, 1)", "max(0, x) + min(x, 1)"),
    ("exp(-1)/(1+exp(-1))^2", "exp(-1) / (1 + exp(-1))**2"),
    ("-2", "-2"),
    ("3/2", "3 / 2"),
    ("+x", "x"),
    ("- -x", "--x"),
    ("pi * r^2", "pi * r**2"),
    ("  x ^ 2\n  + y\t", "x**2 + y"),
    ("sigmoid(\n  z\n)", "sigmoid(z)"),
    ("sum(softmax(z)) + mean(relu(z)) + abs(x) + softplus(x)", None),
    ("log(x) + sqrt(x) + cos(x) + tan(x)", None),
    ("0", "0"),
    ("0.0", "0.0"),
    ("010.5", "010.5"),
]


@pytest.mark.parametrize("text, expected", ACCEPT)
def test_accepts(text, expected):
    tree = parse(text)
    if expected is not None:
        assert unparse(tree) == expected
    assert shape(parse(unparse(tree))) == shape(tree)


@pytest.mark.parametrize("text, value, decimal", [
    ("0.1", sympy.Rational(1, 10), True),
    ("1e-3", sympy.Rational(1, 1000), True),
    ("2.5E2", sympy.Integer(250), True),
    (".5", sympy.Rational(1, 2), True),
    ("3.", sympy.Integer(3), True),
    ("2.50", sympy.Rational(5, 2), True),
    ("1e3", sympy.Integer(1000), True),
    ("1E+2", sympy.Integer(100), True),
    ("42", sympy.Integer(42), False),
    ("1" * 100, sympy.Integer(int("1" * 100)), False),
    ("0.000001", sympy.Rational(1, 10**6), True),
])
def test_numbers_are_exact(text, value, decimal):
    node = parse(text)
    assert isinstance(node, Num)
    assert node.value == value and type(node.value) is type(value)
    assert node.decimal is decimal
    assert node.text == text
    assert (node.start, node.end) == (0, len(text))


def test_structure_precedence_and_associativity():
    assert shape(parse("x^2*3")) == ("Binary", "*", ("Binary", "**", x("x"), n(2)), n(3))
    assert shape(parse("2^3^2")) == ("Binary", "**", n(2), ("Binary", "**", n(3), n(2)))
    assert shape(parse("-x**2")) == ("Neg", ("Binary", "**", x("x"), n(2)))
    assert shape(parse("W @ a + b")) == ("Binary", "+", ("Binary", "@", x("W"), x("a")), x("b"))
    assert shape(parse("a.T")) == ("Call", "transpose", (x("a"),), ())
    assert shape(parse("conv2d(X, K, stride=2, padding=1)")) == (
        "Call", "conv2d", (x("X"), x("K")), (("stride", n(2)), ("padding", n(1))))


def test_spans_refer_to_original_text_after_caret_rewrite():
    text = "x^2 + y^(a+b)"
    tree = parse(text)
    assert (tree.start, tree.end) == (0, len(text))
    power, other = tree.left, tree.right
    assert (power.start, power.end) == (0, 3) and text[power.start:power.end] == "x^2"
    assert text[power.right.start:power.right.end] == "2"
    assert text[other.start:other.end] == "y^(a+b)"
    assert text[other.right.start:other.right.end] == "a+b"
    b = other.right.right
    assert (b.start, b.end) == (11, 12)


def test_spans_with_newlines_and_leading_space():
    text = "\n  a ^ 2\n  * b"
    tree = parse(text)
    assert text[tree.start:tree.end] == "a ^ 2\n  * b"
    assert text[tree.right.start:tree.right.end] == "b"


def test_names_walk_and_unary_plus():
    tree = parse("b*a + c*a + pi*sigmoid(b) + conv2d(X, K, stride=s)")
    assert names(tree) == ["b", "a", "c", "pi", "X", "K", "s"]
    kinds = [type(node).__name__ for node in walk(parse("-(x+1)"))]
    assert kinds == ["Neg", "Binary", "Name", "Num"]
    plus = parse("+(x)")
    assert plus == Name(0, 4, "x")


def test_walk_is_iterative_on_deep_trees():
    tree: Node = Name(0, 1, "x")
    for _ in range(20_000):
        tree = Neg(0, 1, tree)
    assert sum(1 for _ in walk(tree)) == 20_001
    assert names(tree) == ["x"]


def test_nodes_are_frozen():
    with pytest.raises(AttributeError):
        parse("x").id = "y"  # type: ignore[misc]


def test_function_table():
    assert FUNCTIONS["sigmoid"].arity == 1 and FUNCTIONS["max"].arity == 2
    assert FUNCTIONS["conv2d"].arity == 2 and FUNCTIONS["transpose"].arity == 1
    assert FUNCTIONS["conv2d"].keywords == ("stride", "padding") and FUNCTIONS["exp"].keywords == ()
    assert CONSTANTS == frozenset({"pi"})


# ------------------------------------------------------------------ rejected

DEEP_PARENS = "(" * 1000 + "x"
BALANCED_PARENS = "(" * 500 + "x" + ")" * 500
LONG = "+".join(["x"] * 2500)

REJECT = [
    # (text, offset, substring of message)
    ("", 0, "empty expression"),
    ("  \n\t", 0, "empty expression"),
    ("__import__('os')", 0, "may not start with '_'"),
    ("().__class__", 3, "attribute '.__class__'"),
    ("x.__class__.__mro__", 2, "attribute '.__class__'"),
    ("a.b", 2, "attribute '.b'"),
    ("lambda: 1", 0, "lambda"),
    ("[x for x in y]", 0, "comprehensions"),
    ("sum(x for x in y)", 3, "generator expressions"),
    ('f"{x}"', 0, "f-strings"),
    ("'a'", 0, "strings are not allowed"),
    ("b'a'", 0, "bytes"),
    ("exec('1')", 0, "unknown function 'exec'"),
    ("eval(x)", 0, "unknown function 'eval'"),
    ("open(f)", 0, "unknown function 'open'"),
    ("sigma(z)", 0, "unknown function 'sigma'"),
    ("1e1000000", 0, "exponent too large"),
    ("x + 1e-101", 4, "exponent too large"),
    ("1" * 200, 0, "too many digits"),
    ("0x10", 0, "hexadecimal literals"),
    ("0o17", 0, "octal literals"),
    ("0b101", 0, "binary literals"),
    ("1_000", 0, "underscores"),
    ("3j", 0, "complex"),
    ("010", 0, "YAML 1.1 would read 010 as octal 8"),
    ("2x", 1, "missing operator"),
    ("2 x", 2, "missing operator"),
    ("x y", 2, "missing operator"),
    ("3sigmoid(z)", 1, "missing operator"),
    ("2(x+1)", 1, "missing operator"),
    ("(x+1)y", 5, "missing operator"),
    ("(x)(2)", 3, "missing operator"),
    ("f(x)(y)", 4, "missing operator"),
    (DEEP_PARENS, 40, "nested too deeply"),
    (BALANCED_PARENS, 40, "nested too deeply"),
    ("-" * 100000 + "x", 2000, "too long"),
    ("-" * 1000 + "x", 40, "nested too deeply"),
    ("x" + "**x" * 60, 120, "nested too deeply"),
    ("+".join(["x"] * 60), 40, "nested too deeply"),
    (LONG, 2000, "too long"),
    ("x\u200by", 1, "U+200B (ZERO WIDTH SPACE)"),
    ("2*\uff58", 2, "U+FF58"),
    ("x\x00", 1, "control character"),
    ("x if y else z", 2, "conditional expressions"),
    ("x < y", 2, "comparisons are not allowed"),
    ("x == y", 2, "comparisons are not allowed"),
    ("x and y", 2, "boolean operators"),
    ("not x", 0, "'not'"),
    ("~x", 0, "'~'"),
    ("x & y", 2, "'&'"),
    ("x | y", 2, "'|'"),
    ("x << y", 2, "'<<'"),
    ("x >> y", 2, "'>>'"),
    ("x // y", 2, "'//' is not allowed: use '/'"),
    ("x % y", 2, "'%' is not allowed"),
    ("x[0]", 1, "indexing"),
    ("x[1:2]", 1, "slicing"),
    ("[x, y]", 0, "lists"),
    ("(x, y)", 0, "tuples"),
    ("{x: y}", 0, "dicts"),
    ("{x}", 0, "sets"),
    ("x := 1", 2, "':='"),
    ("(x := 1)", 3, "':='"),
    ("(yield x)", 1, "'yield'"),
    ("await x", 0, "'await'"),
    ("True", 0, "'True' is not allowed"),
    ("False", 0, "'False' is not allowed"),
    ("None", 0, "'None' is not allowed"),
    ("...", 0, "'...' is not allowed"),
    ("sum(x, y)", 0, "takes 1 argument (2 given)"),
    ("relu()", 0, "takes 1 argument (0 given)"),
    ("max(x)", 0, "takes 2 arguments (1 given)"),
    ("exp(x, stride=1)", 7, "takes no keyword arguments"),
    ("conv2d(X, K, dilation=2)", 13, "unknown keyword 'dilation'"),
    ("conv2d(X, K, stride=1, stride=2)", 23, "'stride' given twice"),
    ("sum(*x)", 4, "'*' arguments"),
    ("sum(**x)", 4, "'**' arguments"),
    ("_x", 0, "names may not start with '_'"),
    ("x + __x", 4, "names may not start with '_'"),
    ("sigmoid + 1", 0, "'sigmoid' is a function: write sigmoid(...)"),
    ("pi(2)", 0, "'pi' is a constant"),
    ("x # comment", 2, "comments"),
    ("x \\\n+ y", 2, "backslash"),
    ("x +", 3, "syntax error"),
    ("(x", 0, "syntax error: '(' was never closed"),
    ("x)", 1, "syntax error"),
    ("x = 1", 2, "'=' is only allowed for conv2d keywords"),
    ("x ^^ 2", 3, "syntax error"),
    ("1.2.3", 0, "malformed number"),
]


@pytest.mark.parametrize("text, offset, message", REJECT, ids=lambda v: repr(v)[:40])
def test_rejects(text, offset, message):
    with pytest.raises(ExpressionError) as info:
        parse(text)
    err = info.value
    assert message in err.message
    assert err.offset == offset
    assert 0 <= err.offset <= len(text) and err.length >= 1


@pytest.mark.parametrize("text, hint", [
    ("sigma(z)", "did you mean 'sigmoid'?"),
    ("exec('1')", "known functions: abs, conv2d"),
    ("x(y+1)", "to multiply, write x*(...)"),
    ("2x", "write 2*x"),
    ("2 x", "write 2*x"),
    ("3sigmoid(z) + 1", "write 3*sigmoid(z)"),
    ("2(x+1)", "write 2*(x+1)"),
    ("(x+1)(x-1)", "write (x+1)*(x-1)"),
    ("a * sigmoid(x) y", "write sigmoid(x)*y"),
    ("1_000", "write 1000"),
    ("010", "write 10 (or 8)"),
    ("09", "write 9"),
    ("\uff58", "did you mean 'x'?"),
    ("\u2212x", "did you mean '-'?"),
    ("conv2d(X, K, pad=1)", "allowed: padding, stride"),
])
def test_hints(text, hint):
    with pytest.raises(ExpressionError) as info:
        parse(text)
    assert hint in (info.value.hint or "")


def test_non_ascii_message_names_codepoint_and_column():
    with pytest.raises(ExpressionError) as info:
        parse("abcd\u200b")
    assert info.value.message == "non-ASCII character U+200B (ZERO WIDTH SPACE) at column 5"


def test_limits_are_honoured():
    tight = Limits(max_expr_length=10, max_expr_depth=3, max_int_digits=3, max_literal_exponent=2)
    assert parse("-(x + 1)", tight)
    for text, message in [("x" * 11, "too long"), ("1234", "too many digits"),
                          ("1e3", "exponent too large"), ("((((x))))", "nested too deeply"),
                          ("x+x+x+x", "nested too deeply"), ("----x", "nested too deeply")]:
        with pytest.raises(ExpressionError, match=message):
            parse(text, tight)
    assert parse("1e2", tight).value == 100
    assert parse("x" * 2000, DEFAULT).id == "x" * 2000


def test_deep_input_with_generous_limits_fails_cleanly():
    generous = Limits(max_expr_length=10**6, max_expr_depth=10**6, max_int_digits=10**4)
    for text in ["-" * 100_000 + "x", "(" * 100_000 + "x" + ")" * 100_000, "x+" * 50_000 + "x",
                 "x**" * 30_000 + "x", "1" * 5000]:
        with pytest.raises(ExpressionError):
            parse(text, generous)


# ------------------------------------------------------------------ properties

TEXT = st.text(
    st.one_of(st.sampled_from(string.printable), st.sampled_from("^()*-+.e0_x\u200b\uff58"),
              st.characters()),
    max_size=40,
)


def check_parse_or_expression_error(text):
    try:
        tree = parse(text)
    except ExpressionError as err:
        assert 0 <= err.offset <= len(text) and err.length >= 1
        return
    for node in walk(tree):
        assert 0 <= node.start < node.end <= len(text)
    assert shape(parse(unparse(tree))) == shape(tree)


@settings(max_examples=300, deadline=None)
@given(TEXT)
def test_any_text_parses_or_raises_expression_error(text):
    check_parse_or_expression_error(text)


TOKEN_SOUP = st.lists(
    st.sampled_from(["x", "y_hat", "W", "2", "0.5", "1e-3", ".5", "3.", "pi", "^", "**", "*", "/",
                     "+", "-", "@", "(", ")", "sigmoid(", "max(", "conv2d(", ",", "stride=",
                     ".T", " ", "\n", "[", "<", "_", "e", "j", "0x", "not "]),
    max_size=25,
).map("".join)


@settings(max_examples=400, deadline=None)
@given(TOKEN_SOUP)
def test_token_soup_parses_or_raises_expression_error(text):
    check_parse_or_expression_error(text)


NUMBER_TEXT = st.one_of(
    st.integers(0, 10**12).map(str),
    st.from_regex(r"(0|[1-9][0-9]{0,4})?\.[0-9]{1,4}([eE][+-]?[0-9]{1,2})?", fullmatch=True),
    st.from_regex(r"(0|[1-9][0-9]{0,4})\.?([eE][+-]?[0-9]{1,2})?", fullmatch=True),
)
NAME_TEXT = st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,5}", fullmatch=True).filter(
    lambda s: s not in FUNCTIONS and not keyword.iskeyword(s))
LEAVES = st.one_of(NUMBER_TEXT.map(parse), NAME_TEXT.map(lambda s: Name(0, 0, s)),
                   st.just(Name(0, 0, "pi")))


def _extend(children):
    unary = sorted(f for f, op in FUNCTIONS.items() if op.arity == 1)
    return st.one_of(
        children.map(lambda c: Neg(0, 0, c)),
        st.builds(lambda op, a, b: Binary(0, 0, op, a, b),
                  st.sampled_from(["+", "-", "*", "/", "**", "@"]), children, children),
        st.builds(lambda f, a: Call(0, 0, f, (a,)), st.sampled_from(unary), children),
        st.builds(lambda f, a, b: Call(0, 0, f, (a, b)), st.sampled_from(["max", "min"]),
                  children, children),
        st.builds(lambda a, b, kw: Call(0, 0, "conv2d", (a, b), kw), children, children,
                  st.sampled_from([(), (("stride", Num(0, 0, sympy.Integer(2), False, "2")),),
                                   (("padding", Name(0, 0, "p")), ("stride", Name(0, 0, "s")))])),
    )


TREES = st.recursive(LEAVES, _extend, max_leaves=25)


def _depth(node: Node) -> int:
    return 1 + max((_depth(c) for c in _children_of(node)), default=0)


def _children_of(node: Node):
    if isinstance(node, Neg):
        return [node.operand]
    if isinstance(node, Binary):
        return [node.left, node.right]
    if isinstance(node, Call):
        return list(node.args) + [v for _, v in node.kwargs]
    return []


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TREES)
def test_unparse_round_trips(tree):
    assume(_depth(tree) <= DEFAULT.max_expr_depth)
    text = unparse(tree)
    reparsed = parse(text)
    assert shape(reparsed) == shape(tree)
    assert unparse(reparsed) == text


def test_module_never_evaluates_text():
    """Guard the security contract: no eval/exec/compile/sympify/parse_expr/S/__import__ calls."""
    import backprop_cli.source.expr as module
    import backprop_cli.source.scan as scan
    import backprop_cli.source.syntax as syntax

    forbidden = {"eval", "exec", "compile", "sympify", "parse_expr", "S", "__import__", "getattr"}
    tree = ast.Module(body=[node for m in (module, scan, syntax)
                            for node in ast.parse(Path(m.__file__).read_text()).body], type_ignores=[])
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "compile":
            assert isinstance(func.value, ast.Name) and func.value.id == "re"  # regexes only
            continue
        called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        assert called not in forbidden, f"line {node.lineno}: {called}()"
