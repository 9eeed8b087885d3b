"""Printing and comparing exact values (numbers.py) against SymPy's own evaluation."""

from __future__ import annotations

import mpmath
import pytest
import sympy as sp

from backprop_cli.exercise.reading import parse_expression
from backprop_cli.source import expr
from backprop_cli.autodiff.engine import evaluate
from backprop_cli.source.errors import Location, Where
from backprop_cli.autodiff.numbers import (approx, decimal_text, equal, exact_text, shown, sign_of,
                                  within_tolerance)

HERE = Where(Location("test", 1, 1))
E1 = sp.exp(-1)


@pytest.mark.parametrize("value", [
    sp.Rational(3, 7), sp.pi, sp.sqrt(2), E1 / (1 + E1) ** 2, sp.log(3) - sp.sin(2) * sp.tanh(1),
    sp.Max(sp.sqrt(2), sp.Rational(7, 5)), sp.Abs(sp.cos(3)), sp.exp(sp.sqrt(3)) ** sp.Rational(1, 3),
    sp.Integer(10) ** -20, sp.Integer(3) ** 40, sp.tan(sp.Rational(1, 3)),
])
def test_approx_agrees_with_sympy_evalf(value):
    with mpmath.workdps(50):
        assert abs(approx(value, 40) - sp.N(value, 50)) <= mpmath.mpf(10) ** -38 * max(1, abs(sp.N(value)))


def test_inert_forms_evaluate_like_their_simplified_selves():
    with sp.evaluate(False):
        inert = sp.Pow(sp.Add(1, sp.exp(sp.Mul(-1, sp.Integer(2)))), -1)
    assert equal(inert, 1 / (1 + sp.exp(-2)))
    assert decimal_text(inert) == decimal_text(1 / (1 + sp.exp(-2)))


@pytest.mark.parametrize("value", [sp.Rational(-3, 2), E1 / (1 + E1) ** 2, sp.sqrt(2) / 3 - sp.pi,
                                   sp.exp(1), sp.Max(1, sp.sqrt(3)), sp.Abs(sp.log(2) - 1)])
def test_exact_text_parses_back_to_the_same_number(value):
    text = exact_text(value)
    assert equal(evaluate(parse_expression(text), {}, HERE), value), text


def test_shown_is_exact_when_short_and_decimal_otherwise():
    assert shown(sp.Rational(3, 2)) == "3/2"
    long = sum(1 / (k + sp.exp(-k)) for k in range(1, 12))
    assert shown(long) == decimal_text(long) and len(shown(long)) < 20


def test_equality_is_exact_for_rationals_and_tight_for_irrationals():
    assert equal(sp.Rational(1, 3), sp.Rational(2, 6))
    assert not equal(sp.Rational(1, 3), sp.Rational(333333, 1000000))
    assert equal(E1 / (1 + E1) ** 2, (1 / (1 + E1)) * (1 - 1 / (1 + E1)))
    assert not equal(sp.pi, sp.pi + sp.Integer(10) ** -30)


def test_tolerance():
    zero = sp.Integer(0)
    assert within_tolerance(sp.Rational(2001, 1000), sp.Integer(2), sp.Rational(1, 1000), zero)
    assert not within_tolerance(sp.Rational(2003, 1000), sp.Integer(2), sp.Rational(1, 1000), zero)


@pytest.mark.parametrize("value, sign", [(sp.Integer(0), 0), (sp.Rational(-1, 9), -1), (sp.sqrt(2) - 1, 1),
                                         (sp.pi - sp.Rational(22, 7), -1), (sp.sqrt(2) ** 2 - 2, 0)])
def test_sign_of(value, sign):
    assert sign_of(value) == sign
