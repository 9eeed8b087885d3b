"""The operation table: each op's forward rule beside its local derivatives.

As in micrograd's ``engine.py``, an operation is read in one glance: what it
computes, and right next to it, d(out)/d(input) for each input.  The rules are
written over SymPy objects, so one definition serves three purposes:

* with exact numbers it computes values (``mul(2, 3) -> 6``);
* with symbols named after graph nodes it gives the symbolic local derivative
  the trace prints (``d(x*w)/dx -> w``, ``d sigmoid/dz -> a*(1 - a)``);
* with symbols for the givens it composes the whole function (used to check
  the engine against ``sympy.diff``, and later for formula answers).

A local derivative receives the op's inputs and its output ``out``; writing
sigmoid's as ``out*(1 - out)`` is what the course material does.  Kinks follow
PyTorch: relu'(0) = 0 and abs'(0) = 0; ``max``/``min`` split a tie evenly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import sympy as sp
from sympy import Heaviside, cos, exp, log, sign, sin, sqrt, tan, tanh
from sympy.core.parameters import global_parameters

from backprop_cli.autodiff.arrays import np
from backprop_cli.autodiff.op import Op, OpError, Pulled, as_expr, bad_value
from backprop_cli.source.limits import DEFAULT, Limits
from backprop_cli.autodiff.numbers import is_numeric, sign_of
from backprop_cli.autodiff.tensor import (Value, broadcast_shape, call, elementwise, entries, exact_arithmetic,
                                          fold, is_tensor, shape, shape_text, source_index, unbroadcast)

Local = Callable[..., sp.Expr]
Domain = Callable[..., "str | None"]


def _no_domain(*args: sp.Expr) -> str | None:
    return None


@dataclass(frozen=True)
class ElementwiseOp(Op):
    """Scalar rules, applied entry by entry to tensors (scalars broadcast)."""

    name: str
    form: str  # how the trace writes it, over the inputs' names: "{0}*{1}"
    forward: Callable[..., sp.Expr]
    locals_: tuple[Local, ...]  # locals_[i](*inputs, out) = d(out)/d(input i)
    domain: Domain = _no_domain  # a message when numeric inputs are outside the domain

    @property
    def arity(self) -> int:
        return len(self.locals_)

    def apply(self, args: list[Value], limits: Limits = DEFAULT, **params) -> Value:
        if broadcast_shape([shape(a) for a in args]) is None:
            raise OpError(f"{self.form.format(*'ab')} needs operands that broadcast (each dimension "
                          f"equal, or 1 in one of them, or a scalar), but the shapes are "
                          f"{' and '.join(shape_text(shape(a)) for a in args)}")
        return elementwise(lambda *xs: _checked(self, xs, limits), *args)

    def local_symbolic(self, slot: int, inputs: list[sp.Expr], out: sp.Expr) -> sp.Expr:
        return as_expr(self.locals_[slot](*inputs, out))

    def local(self, slot: int, args: list[Value], out: Value) -> Value:
        return elementwise(lambda *xs: as_expr(self.locals_[slot](*xs)), *args, out)

    def pull(self, slot: int, g: Value, args: list[Value], out: Value, **params) -> Pulled:
        local = self.local(slot, args, out)
        if self.domain is not _no_domain:  # only ops with a domain can have an undefined derivative
            for entry in entries(local):
                if (problem := bad_value(entry)) is not None:
                    raise OpError(f"the derivative is undefined here: {problem}")
        return Pulled(contribution(g, local, args[slot]), local)

    def entry_partials(self, slot, index, args, out, symbol, out_symbol, **params):
        s, own = shape(out), shape(args[slot])
        # the output entries this input entry reaches: itself, or every one it is broadcast to
        reached = [k for k in np.ndindex(*s) if source_index(k, own) == index] if s else [()]
        rows = []
        for k in reached:
            at = [a[source_index(k, a.shape)] if is_tensor(a) else a for a in args]
            symbols = [symbol(i, source_index(k, shape(a))) for i, a in enumerate(args)]
            out_k = out[k] if k else out
            with exact_arithmetic(*at, out_k):  # long exact entries: built inert, as in the engine
                local = fold(self.local_symbolic(slot, at, out_k))
            rows.append((k, local, self.local_symbolic(slot, symbols, out_symbol(k))))
        return rows


def contribution(g: Value, local: Value, arg: Value) -> Value:
    """Upstream gradient times local derivative, summed back to the input's shape."""
    return unbroadcast(elementwise(lambda a, b: a * b, g, local), shape(arg))


def _checked(op: ElementwiseOp, xs, limits: Limits) -> sp.Expr:
    if op.domain is _no_domain:  # sums, products, exp, sigmoid ... of real numbers are real numbers
        return _sized(op.forward(*xs), limits)
    problem = op.domain(*xs)
    if problem is None and op is POW:
        problem = _power_size(xs[0], xs[1], limits)
    if problem is None:
        value = op.forward(*xs)
        problem = bad_value(value)
        if problem is None:
            return _sized(value, limits)
    raise OpError(problem)


def _bits(q: sp.Rational) -> int:
    return max(int(q.p).bit_length(), int(q.q).bit_length())


def _sized(value: sp.Expr, limits: Limits) -> sp.Expr:
    """An exact rational may not grow without bound (x*x*x*... over a large graph)."""
    if value.is_Rational and _bits(value) > limits.max_number_bits:
        raise OpError(f"the exact result has more than {limits.max_number_bits} bits; the numbers "
                      "in an exercise or answer must stay smaller")
    return value


def _power_size(base, exponent, limits: Limits) -> str | None:
    """Refuse a ** n before computing it when the result would be too large."""
    if not _numeric(exponent) or not exponent.is_Rational:
        return None
    if abs(exponent) > limits.max_power_exponent:
        return f"the exponent {exponent} is too large (the limit is {limits.max_power_exponent})"
    if base.is_Rational and _bits(base) * abs(exponent) > limits.max_number_bits:
        return (f"the exact result of this power would have about {int(_bits(base) * abs(exponent))} "
                f"bits (the limit is {limits.max_number_bits})")
    return None


def _numeric(*args: sp.Expr) -> bool:
    return all(isinstance(a, sp.Basic) and is_numeric(a) for a in args)


def _step(z, at_zero) -> sp.Expr:
    """1 for z > 0, 0 for z < 0 and ``at_zero`` at 0 (over symbols: Heaviside)."""
    if not _numeric(z):
        return Heaviside(z, at_zero)
    return {1: sp.Integer(1), -1: sp.Integer(0), 0: sp.Rational(at_zero)}[sign_of(z)]


def _max(a, b):
    if not _numeric(a, b):
        return sp.Max(a, b)
    return a if sign_of(a - b) >= 0 else b


def _min(a, b):
    if not _numeric(a, b):
        return sp.Min(a, b)
    return a if sign_of(a - b) <= 0 else b


def _abs(z):
    return z * sign_of(z) if _numeric(z) else sp.Abs(z)


def _sign(z):
    return sp.Integer(sign_of(z)) if _numeric(z) else sign(z)


def _positive(name: str) -> Domain:
    def check(z):
        if _numeric(z) and sign_of(z) <= 0:
            return f"{name} is only defined for positive numbers; here its argument is {z}"
        return None

    return check


def _sqrt_domain(z):
    if _numeric(z) and sign_of(z) < 0:
        return f"sqrt of a negative number ({z}) is not a real number"
    return None


def _div_domain(a, b):
    if _numeric(b) and sign_of(b) == 0:
        return "division by zero"
    return None


def _pow_domain(a, b):
    if not _numeric(a, b) or (b.is_Integer and b >= 0):  # r**2 needs no sign test of r
        return None
    if sign_of(a) == 0 and sign_of(b) < 0:
        return f"0 raised to a negative power ({b}) is a division by zero"
    if sign_of(a) < 0 and not b.is_integer:
        return f"a negative number ({a}) raised to a non-integer power ({b}) is not a real number"
    return None


def _tan_domain(z):
    if _numeric(z) and sign_of(call(cos, z)) == 0:
        return f"tan is undefined at {z} (cos is 0 there)"
    return None


def _logistic(z) -> sp.Expr:
    """1/(1 + exp(-z)): sigmoid, and softplus's derivative.

    For a rational z SymPy builds 1/(1 + exp(-z)) as the power (1 + exp(-z))**-1
    only after asking whether exp(-z) is infinite and whether the sum is a complex
    number a + b*I, questions its assumption system answers at a cost of a few
    hundred microseconds a time: the largest part of a small network's forward
    pass.  For that case the answers are known (exp of a rational is a finite real
    number, and 1 + exp(q) has no I), so the same power is built without asking;
    every other argument, and inert arithmetic, takes SymPy's own route.  The one fact
    SymPy would have learnt on the way, that exp(-z) is finite, is asked of it directly
    (a cheap question, where asking "infinite?" may first try whether it is algebraic):
    the next product or sum with the value asks it again.
    """
    e = call(exp, -z)
    d = 1 + e
    if (global_parameters.evaluate and isinstance(e, exp) and e.args[0].is_Rational and d.is_Add
            and len(d.args) == 2 and sp.S.One in d.args and e in d.args and e.is_finite):
        return sp.Pow(d, sp.S.NegativeOne, evaluate=False)
    return 1 / d


def _binary(name, form, forward, d_left, d_right, domain=_no_domain) -> ElementwiseOp:
    return ElementwiseOp(name, form, forward, (d_left, d_right), domain)


def _unary(name, forward, d_input, domain=_no_domain) -> ElementwiseOp:
    return ElementwiseOp(name, name + "({0})", forward, (d_input,), domain)


#              name      form           forward                  d out / d left               d out / d right
ADD = _binary("add", "{0} + {1}", lambda a, b: a + b, lambda a, b, out: 1, lambda a, b, out: 1)
SUB = _binary("sub", "{0} - {1}", lambda a, b: a - b, lambda a, b, out: 1, lambda a, b, out: -1)
MUL = _binary("mul", "{0}*{1}", lambda a, b: a * b, lambda a, b, out: b, lambda a, b, out: a)
DIV = _binary("div", "{0}/{1}", lambda a, b: a / b,
              lambda a, b, out: 1 / b, lambda a, b, out: -a / b**2, _div_domain)
POW = _binary("pow", "{0}**{1}", lambda a, b: a**b,
              lambda a, b, out: b * a ** (b - 1), lambda a, b, out: out * call(log, a), _pow_domain)
# Ties split the gradient evenly, so the two partials still add up to 1.
MAX = _binary("max", "max({0}, {1})", _max,
              lambda a, b, out: _step(a - b, sp.S.Half), lambda a, b, out: _step(b - a, sp.S.Half))
MIN = _binary("min", "min({0}, {1})", _min,
              lambda a, b, out: _step(b - a, sp.S.Half), lambda a, b, out: _step(a - b, sp.S.Half))

#             name        forward                       d out / d z
NEG = ElementwiseOp("neg", "-{0}", lambda z: -z, (lambda z, out: -1,))
IDENTITY = ElementwiseOp("identity", "{0}", lambda z: z, (lambda z, out: 1,))
EXP = _unary("exp", lambda z: call(exp, z), lambda z, out: out)
LOG = _unary("log", lambda z: call(log, z), lambda z, out: 1 / z, _positive("log"))
SQRT = _unary("sqrt", lambda z: call(sqrt, z), lambda z, out: 1 / (2 * out), _sqrt_domain)
SIN = _unary("sin", lambda z: call(sin, z), lambda z, out: call(cos, z))
COS = _unary("cos", lambda z: call(cos, z), lambda z, out: -call(sin, z))
TAN = _unary("tan", lambda z: call(tan, z), lambda z, out: 1 + out**2, _tan_domain)
TANH = _unary("tanh", lambda z: call(tanh, z), lambda z, out: 1 - out**2)
SIGMOID = _unary("sigmoid", _logistic, lambda z, out: out * (1 - out))
RELU = _unary("relu", lambda z: _max(z, sp.Integer(0)), lambda z, out: _step(z, 0))  # relu'(0) = 0
ABS = _unary("abs", _abs, lambda z, out: _sign(z))  # abs'(0) = sign(0) = 0
SOFTPLUS = _unary("softplus", lambda z: call(log, 1 + call(exp, z)), lambda z, out: _logistic(z))

