"""What a solve no longer derives up front, and shortcuts that must build SymPy's own objects."""

from __future__ import annotations

import sympy as sp

from backprop_cli.autodiff.engine import backward, forward
from backprop_cli.autodiff.graph import StepSource, build_graph
from backprop_cli.exercise.reading import parse_expression
from backprop_cli.source.errors import Location, Where

HERE = Where(Location("test", 1, 1))


def _run(steps: dict[str, str], given: dict[str, sp.Expr]):
    sources = [StepSource(n, parse_expression(t), lambda s, e: HERE, HERE) for n, t in steps.items()]
    graph = build_graph([(g, HERE) for g in given], sources)
    values = forward(graph, given)
    return graph, backward(graph, values, graph.by_name[list(steps)[-1]])


def test_backward_leaves_symbolic_local_derivatives_until_a_trace_asks():
    graph, run = _run({"z": "w*x + b", "a": "sigmoid(z)", "L": "(a - y)**2"},
                      {"w": sp.Integer(2), "x": sp.Integer(1), "b": sp.Integer(-2), "y": sp.Integer(1)})
    assert all(not node._locals for node in graph.nodes)
    terms = {(t.consumer.name, t.slot): t for line in run.lines for t in line.terms}
    a = graph.by_name["a"]
    assert terms[("a", 0)].local_symbolic == sp.Symbol("a") * (1 - sp.Symbol("a"))
    assert a._locals == {0: sp.Symbol("a") * (1 - sp.Symbol("a"))}


def test_symbolic_local_derivative_first_asked_inside_inert_arithmetic_is_the_evaluated_one():
    graph, run = _run({"L": "x**3 + x"}, {"x": sp.Integer(3)})
    terms = [t for line in run.lines for t in line.terms]
    with sp.evaluate(False):
        inside = [t.local_symbolic for t in terms]
    graph2, run2 = _run({"L": "x**3 + x"}, {"x": sp.Integer(3)})
    outside = [t.local_symbolic for line in run2.lines for t in line.terms]
    assert [sp.srepr(e) for e in inside] == [sp.srepr(e) for e in outside]
    assert 3 * sp.Symbol("x") ** 2 in inside  # x**(3 - 1) if built inert


def _sympy_logistic(z):  # what the op wrote before the shortcut
    from backprop_cli.autodiff.tensor import call

    return 1 / (1 + call(sp.exp, -z))


def test_sigmoid_of_a_rational_is_sympys_own_power_built_without_asking():
    from backprop_cli.autodiff.ops import SIGMOID, SOFTPLUS

    for z in [sp.Rational(k, d) for k in range(-30, 31) for d in (1, 2, 3, 7, 10)] + [sp.Rational(10**40 + 1, 3)]:
        for built in (SIGMOID.forward(z), SOFTPLUS.locals_[0](z, None)):
            expected = _sympy_logistic(z)
            assert sp.srepr(built) == sp.srepr(expected) and built.args == expected.args, z
            assert type(built) is type(expected)


def test_sigmoid_of_other_arguments_keeps_sympys_evaluation():
    from backprop_cli.autodiff.ops import SIGMOID

    x = sp.Symbol("x")
    for z in (x, sp.log(3), -sp.log(3), sp.sqrt(2), sp.pi / 2, 1 + sp.log(2), sp.Integer(-1), sp.Integer(1)):
        assert sp.srepr(SIGMOID.forward(z)) == sp.srepr(_sympy_logistic(z)), z
    assert SIGMOID.forward(sp.log(3)) == sp.Rational(3, 4)
    with sp.evaluate(False):
        inert = SIGMOID.forward(sp.Rational(1, 2))
    assert sp.srepr(inert) == sp.srepr(_inert_logistic(sp.Rational(1, 2)))


def _inert_logistic(z):
    from backprop_cli.autodiff.tensor import call

    with sp.evaluate(False):
        return 1 / (1 + call(sp.exp, -z))
