"""Bounded memo tables, and numbers read once per text: same results, problems still in place."""

from __future__ import annotations

import pytest

from backprop_cli.exercise import reading
from backprop_cli.exercise.load import load_exercise
from backprop_cli.source.errors import BackpropError
from backprop_cli.source.limits import DEFAULT, Limits
from backprop_cli.source.memo import Memo, clear_all
from backprop_cli.source.yamlsrc import load_text


def test_a_memo_keeps_at_most_its_size_and_forgets_the_least_recently_used():
    memo = Memo(2)
    memo.put("a", 1)
    memo.put("b", 2)
    assert memo.get("a") == 1  # "a" is now the most recently used
    memo.put("c", 3)
    assert memo.get("b") is None
    assert (memo.get("a"), memo.get("c")) == (1, 3)
    assert len(memo.entries) == 2


def test_a_failure_is_not_kept():
    memo = Memo(4)
    calls = []

    def fail():
        calls.append(1)
        raise ValueError("no")

    for _ in range(2):
        with pytest.raises(ValueError):
            memo.get_or_make("k", fail)
    assert len(calls) == 2 and memo.get("k") is None


def test_clear_all_empties_every_table():
    memo = Memo(4)
    memo.put("k", 1)
    clear_all()
    assert memo.get("k") is None


def test_a_number_read_again_is_the_same_number():
    clear_all()
    node = load_text("a: 0.25\n", "f.yaml").get("a")
    first = reading.read_number(node, "a")
    again = reading.read_number(node, "a")
    assert again is first  # read once
    assert (first.text, first.value, first.decimal) == ("0.25", reading.sp.Rational(1, 4), True)


def test_limits_are_part_of_what_a_number_is_read_under():
    clear_all()
    node = load_text("a: 123456\n", "f.yaml").get("a")
    assert reading.read_number(node, "a").value == 123456
    with pytest.raises(BackpropError) as info:
        reading.read_number(node, "a", Limits(max_int_digits=3))
    assert "digits" in info.value.problems[0].message


def test_the_same_bad_number_twice_is_reported_where_each_one_stands(tmp_path):
    path = tmp_path / "twice.yaml"
    path.write_text("backprop: 1\ngiven:\n  x: 1/0\n  y: 1/0\nsteps:\n  f: x * y\n", encoding="utf-8")
    with pytest.raises(BackpropError) as info:
        load_exercise(path)
    lines = [p.location.line for p in info.value.problems]
    assert lines == [3, 4], [p.render() for p in info.value.problems]


def test_answers_over_givens_are_not_read_from_the_table():
    clear_all()
    node = load_text("a: 2*x\n", "f.yaml").get("a")
    assert reading.read_number(node, "a", DEFAULT, {"x": reading.sp.Integer(3)}).value == 6
    assert reading.read_number(node, "a", DEFAULT, {"x": reading.sp.Integer(5)}).value == 10


# ------------------------------------------------------------- sizes of exact values, counted once

def _tree_nodes(value) -> int:
    return sum(1 for _ in reading.sp.preorder_traversal(value))


def test_is_short_counts_the_tree_as_a_walk_would():
    sp = reading.sp
    x = sp.Integer(2)
    a = 1 / (1 + sp.exp(-x))
    values = [x, a]
    for _ in range(6):  # each layer uses the one before twice: a DAG much smaller than its tree
        values.append(values[-1] * (1 - values[-1]) + sp.exp(-values[-2]))
    from backprop_cli.autodiff.numbers import is_short

    for value in values:
        size = _tree_nodes(value)
        for limit in (1, 5, 40, 60, 240, 480, 511, 600, 5000):
            assert is_short(value, limit) == (size <= limit), (value, limit, size)


def test_elementwise_switches_evaluation_per_entry_and_restores_it():
    import numpy as np
    from sympy.core.parameters import global_parameters

    from backprop_cli.autodiff.tensor import elementwise, exact_arithmetic, fold

    sp = reading.sp
    long = sp.Integer(1)
    for _ in range(5):
        long = 1 / (1 + sp.exp(-long))  # nested: built inert
    grid = np.array([[sp.Rational(1, 2), long], [long, sp.Integer(3)]], dtype=object)

    def rule(e):
        return e * 2 + e

    def one_by_one(e):
        with exact_arithmetic(e):
            return fold(rule(e))

    got = elementwise(rule, grid)
    assert [str(v) for v in got.flat] == [str(one_by_one(e)) for e in grid.flat]
    assert global_parameters.evaluate is True

    def fails(e):
        if e == 3:
            raise ValueError("no")
        return e

    with pytest.raises(ValueError):
        elementwise(fails, grid)
    assert global_parameters.evaluate is True
