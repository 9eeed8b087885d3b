"""The engine against independent references: sympy.diff and central differences."""

from __future__ import annotations

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from backprop_cli.exercise.reading import parse_expression
from backprop_cli.source import expr
from backprop_cli.autodiff.engine import backward, evaluate, forward
from backprop_cli.source.errors import BackpropError, Location, Where
from backprop_cli.autodiff.graph import Role, StepSource, build_graph

HERE = Where(Location("test", 1, 1))
R = sp.Rational


def graph_of(steps: dict[str, str], given: dict[str, sp.Expr]):
    sources = [StepSource(name, parse_expression(text), lambda s, e: HERE, HERE) for name, text in steps.items()]
    graph = build_graph([(g, HERE) for g in given], sources)
    return graph, forward(graph, given)


def grads(steps, given, of=None, seed=1):
    graph, values = graph_of(steps, given)
    target = graph.by_name[of or list(steps)[-1]]
    run = backward(graph, values, target, sp.Integer(seed))
    return {n.name: run.grad(n) for n in graph.nodes if n.role is Role.GIVEN}, run


# An independent translation of the parsed tree into SymPy, used only as the reference.
_REF_FUNCS = {
    "exp": sp.exp, "log": sp.log, "sqrt": sp.sqrt, "sin": sp.sin, "cos": sp.cos, "tan": sp.tan,
    "tanh": sp.tanh, "sigmoid": lambda z: 1 / (1 + sp.exp(-z)), "softplus": lambda z: sp.log(1 + sp.exp(z)),
    "relu": lambda z: sp.Max(0, z), "abs": sp.Abs, "max": sp.Max, "min": sp.Min,
}
_REF_OPS = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
            "/": lambda a, b: a / b, "**": lambda a, b: a**b}


def reference(tree: expr.Node, env: dict[str, sp.Expr]) -> sp.Expr:
    if isinstance(tree, expr.Num):
        return tree.value
    if isinstance(tree, expr.Name):
        return sp.pi if tree.id == "pi" else env[tree.id]
    if isinstance(tree, expr.Neg):
        return -reference(tree.operand, env)
    if isinstance(tree, expr.Binary):
        return _REF_OPS[tree.op](reference(tree.left, env), reference(tree.right, env))
    return _REF_FUNCS[tree.func](*(reference(a, env) for a in tree.args))


def composed(steps: dict[str, str], symbols: dict[str, sp.Symbol]) -> sp.Expr:
    env = dict(symbols)
    for name, text in steps.items():
        env[name] = reference(parse_expression(text), env)
    return env[list(steps)[-1]]


def close(a: sp.Expr, b: sp.Expr, rel=sp.Rational(1, 10**20)) -> bool:
    return abs(sp.N(a - b, 40)) <= rel * max(1, abs(sp.N(b, 40)))


# ---------------------------------------------------------------- fixed cases

def test_product_gate_with_upstream():
    g, _ = grads({"f": "x*w"}, {"x": sp.Integer(2), "w": sp.Integer(3)}, seed=5)
    assert g == {"x": 15, "w": 10}


def test_fan_out_sums_both_paths():
    g, run = grads({"q": "x + y", "f": "q*x"}, {"x": sp.Integer(3), "y": sp.Integer(-4)})
    assert g == {"x": 2, "y": 3}
    x_line = next(line for line in run.lines if line.node.name == "x")
    assert len(x_line.terms) == 2 and sum(t.value for t in x_line.terms) == 2


def test_same_node_twice_in_one_op():
    g, _ = grads({"f": "x*x"}, {"x": sp.Integer(5)})
    assert g["x"] == 10


def test_one_big_expression_is_decomposed():
    graph, values = graph_of({"f": "x*y + sin(x) + tanh(x*x)"}, {"x": sp.Integer(2), "y": sp.Integer(3)})
    parts = [n for n in graph.nodes if n.role is Role.PART]
    assert [n.definition() for n in parts] == ["x*y", "sin(x)", "f_1 + f_2", "x*x", "tanh(f_4)"]
    assert graph.by_name["f"].definition() == "f_3 + f_5"
    run = backward(graph, values, graph.by_name["f"])
    x, y = sp.symbols("x y")
    f = x * y + sp.sin(x) + sp.tanh(x * x)
    assert close(run.grad(graph.by_name["x"]), sp.diff(f, x).subs({x: 2, y: 3}))


def test_alias_and_constant_steps_are_nodes_of_their_own():
    graph, values = graph_of({"a": "x", "b": "2", "c": "a*b"}, {"x": sp.Integer(7)})
    assert graph.by_name["a"].role is Role.STEP and graph.by_name["a"].definition() == "x"
    assert values[graph.by_name["c"]] == 14
    g, _ = grads({"a": "x", "b": "2", "c": "a*b"}, {"x": sp.Integer(7)})
    assert g["x"] == 2


@pytest.mark.parametrize("text, at, expected", [
    ("relu(x)", 0, 0), ("relu(x)", 1, 1), ("relu(x)", -1, 0),
    ("abs(x)", 0, 0), ("abs(x)", -2, -1),
    ("max(x, 1)", 1, R(1, 2)), ("min(x, 1)", 1, R(1, 2)), ("max(x, 1)", 2, 1), ("min(x, 1)", 2, 0),
])
def test_kinks_follow_pytorch(text, at, expected):
    g, _ = grads({"f": text}, {"x": sp.Integer(at)})
    assert g["x"] == expected


def test_sigmoid_derivative_is_exact():
    g, _ = grads({"a": "sigmoid(z)"}, {"z": sp.Integer(0)})
    assert g["z"] == R(1, 4)
    g, _ = grads({"a": "sigmoid(z)"}, {"z": sp.Integer(1)})
    assert g["z"].is_Rational is False
    assert close(g["z"], sp.exp(-1) / (1 + sp.exp(-1)) ** 2)


@pytest.mark.parametrize("steps, message", [
    ({"f": "log(x - 2)"}, "log is only defined for positive numbers"),
    ({"f": "1/(x - 2)"}, "division by zero"),
    ({"f": "sqrt(-x)"}, "not a real number"),
    ({"f": "(x - 2)**(-1)"}, "division by zero"),
    ({"f": "(-x)**(1/2)"}, "not a real number"),
    ({"f": "x**5000"}, "too large"),
])
def test_domain_errors_name_the_step(steps, message):
    with pytest.raises(BackpropError) as err:
        graph_of(steps, {"x": sp.Integer(2)})
    assert message in str(err.value) and "in step 'f'" in str(err.value)


def test_undefined_derivative_is_an_error():
    graph, values = graph_of({"f": "sqrt(x)"}, {"x": sp.Integer(0)})
    with pytest.raises(BackpropError, match="undefined"):
        backward(graph, values, graph.by_name["f"])


def test_evaluate_constant_expression():
    assert evaluate(parse_expression("exp(0) + 3/2"), {}, HERE) == R(5, 2)
    with pytest.raises(BackpropError, match="unknown name 'x'"):
        evaluate(parse_expression("x + 1"), {}, HERE)


def test_gradient_of_an_intermediate_step():
    # d r / d y_hat in the linear model: only the paths below r count.
    g, _ = grads({"y_hat": "x*w", "r": "y_hat - y", "loss": "r**2"},
                 {"x": sp.Integer(1), "y": sp.Integer(2), "w": sp.Integer(1)}, of="r")
    assert g == {"x": 1, "y": -1, "w": 1}


# ---------------------------------------------------------------- random graphs

UNARY = ["exp({})", "sin({})", "cos({})", "tanh({})", "sigmoid({})", "softplus({})",
         "log(1 + ({})**2)", "sqrt(2 + ({})**2)", "-({})", "({})**2", "({})**3"]
BINARY = ["{} + {}", "{} - {}", "{} * {}", "{} / (1 + ({})**2)", "max({}, {})", "2*{} - {}/3"]


@st.composite
def random_graphs(draw):
    """A few givens and steps; each step combines earlier names (so values fan out)."""
    n_given = draw(st.integers(1, 3))
    names = [f"g{i}" for i in range(n_given)]
    given = {n: sp.Rational(draw(st.integers(-7, 7)), draw(st.integers(1, 4))) for n in names}
    steps = {}
    for i in range(draw(st.integers(1, 5))):
        if draw(st.booleans()):
            text = draw(st.sampled_from(UNARY)).format(draw(st.sampled_from(names)))
        else:
            a, b = draw(st.sampled_from(names)), draw(st.sampled_from(names))
            text = draw(st.sampled_from(BINARY)).format(a, b)
        steps[f"s{i}"] = text
        names.append(f"s{i}")
    return steps, given


def _no_ties(steps, given):
    # max is not differentiable at a tie: keep random points away from kinks.
    env = dict(given)
    for name, text in steps.items():
        tree = parse_expression(text)
        for node in expr.walk(tree):
            if isinstance(node, expr.Call) and node.func == "max":
                a, b = (reference(arg, env) for arg in node.args)
                if abs(sp.N(a - b, 30)) < sp.Rational(1, 10**6):
                    return False
        env[name] = reference(tree, env)
    return True


def engine_and_reference(case):
    """The engine's gradients of a random graph, and the graph as one SymPy expression;
    None at a kink of max, where neither reference applies."""
    steps, given = case
    if not _no_ties(steps, given):
        return None
    syms = {n: sp.Symbol(n) for n in given}
    got, _ = grads(steps, given)
    return got, composed(steps, syms), syms, given


@settings(max_examples=60, deadline=None)
@given(random_graphs())
def test_engine_matches_sympy_diff(case):
    if (found := engine_and_reference(case)) is None:
        return
    got, f, syms, given = found
    point = {syms[n]: v for n, v in given.items()}
    for name, sym in syms.items():
        assert close(got[name], sp.diff(f, sym).subs(point)), (case, name)


@settings(max_examples=40, deadline=None)
@given(random_graphs())
def test_engine_matches_central_differences(case):
    if (found := engine_and_reference(case)) is None:
        return
    got, f, syms, given = found
    h = sp.Rational(1, 10**8)
    for name, sym in syms.items():
        def at(x):
            return sp.N(f.subs({**{syms[n]: v for n, v in given.items()}, sym: x}), 40)
        estimate = (at(given[name] + h) - at(given[name] - h)) / (2 * h)
        assert abs(sp.N(got[name], 40) - estimate) <= sp.Rational(1, 10**6) * max(1, abs(estimate)), \
            (case, name)
