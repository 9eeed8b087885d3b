"""Tensor operations: each forward rule beside its vector-Jacobian product.

As HIPS autograd registers a VJP next to each primitive, every op here says
what it computes and, right beside it, how the gradient of the output flows
back to each input (``g`` is d(loss)/d(output), of the output's shape).  The
``vjp_form`` is how the trace writes that rule in matrix form, and
``entry_partials`` gives single entries of the Jacobian for ``explain --entry``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import sympy as sp

from backprop_cli.autodiff.op import Op, OpError, Pulled
from backprop_cli.source.limits import DEFAULT, Limits
from backprop_cli.autodiff.tensor import (Tensor, Value, call, entries, exact_arithmetic, filled, fold,
                                          is_tensor, shape_text)


def dot(a: Tensor, b: Tensor) -> Tensor:
    """Exact matrix product; one n-ary Add per entry keeps SymPy from re-flattening sums."""
    out = np.empty((a.shape[0], b.shape[1]), dtype=object)
    for i in range(a.shape[0]):
        for j in range(b.shape[1]):
            out[i, j] = sp.Add(*(a[i, k] * b[k, j] for k in range(a.shape[1])))
    return out


def _tensor(x: Value, what: str) -> Tensor:
    if not is_tensor(x):
        raise OpError(f"{what} needs a tensor, but this operand is a scalar")
    return x


# ------------------------------------------------------------------ matmul
def _matmul(a, b):
    a, b = _tensor(a, "@"), _tensor(b, "@")
    if a.shape[1] != b.shape[0]:
        raise OpError(f"@ cannot multiply a {shape_text(a.shape)} matrix by a {shape_text(b.shape)} "
                      f"matrix: the inner sizes {a.shape[1]} and {b.shape[0]} differ")
    return dot(a, b)


def _matmul_entries(slot, index, args, out, sym, out_sym):
    a, b = args
    i, j = index
    if slot == 0:  # d out[i,p] / d a[i,j] = b[j,p]
        return [((i, p), b[j, p], sym(1, (j, p))) for p in range(b.shape[1])]
    return [((r, j), a[r, i], sym(0, (r, i))) for r in range(a.shape[0])]  # d out[r,j] / d b[i,j]


# ------------------------------------------------------------------ transpose, sum, mean
def _transpose(x):
    return _tensor(x, "transpose").T.copy()


def _sum(x):
    return sp.Add(*entries(_tensor(x, "sum")))


def _mean(x):
    x = _tensor(x, "mean")
    return sp.Add(*entries(x)) / x.size


# ------------------------------------------------------------------ softmax
def _softmax(v):
    v = _tensor(v, "softmax")
    if 1 not in v.shape:
        raise OpError(f"softmax needs a vector (n x 1 or 1 x n), but this is {shape_text(v.shape)}")
    e = np.vectorize(lambda z: call(sp.exp, z), otypes=[object])(v)
    return e / sp.Add(*e.flat)


def _softmax_vjp(g, v, s):
    inner = sp.Add(*(s * g).flat)
    return s * (g - inner)


def _softmax_entries(slot, index, args, out, sym, out_sym):
    # d s_k / d v_e = s_k * ([k = e] - s_e)
    rows = []
    for k in np.ndindex(*out.shape):
        delta = 1 if k == index else 0
        rows.append((k, out[k] * (delta - out[index]), out_sym(k) * (delta - out_sym(index))))
    return rows


# ------------------------------------------------------------------ conv2d
def _pad(x: Tensor, padding: int) -> Tensor:
    if padding == 0:
        return x
    out = filled((x.shape[0] + 2 * padding, x.shape[1] + 2 * padding), sp.Integer(0))
    out[padding:-padding, padding:-padding] = x
    return out


def _windows(x_shape, k_shape, stride, padding):
    """Output size of a cross-correlation, or an error naming the shapes."""
    rows = (x_shape[0] + 2 * padding - k_shape[0]) // stride + 1
    cols = (x_shape[1] + 2 * padding - k_shape[1]) // stride + 1
    if rows < 1 or cols < 1:
        raise OpError(f"conv2d: a {shape_text(k_shape)} kernel does not fit in a "
                      f"{shape_text(x_shape)} input with padding {padding}")
    return rows, cols


def _conv2d(x, k, stride=1, padding=0):
    x, k = _tensor(x, "conv2d"), _tensor(k, "conv2d")
    rows, cols = _windows(x.shape, k.shape, stride, padding)
    xp = _pad(x, padding)
    kh, kw = k.shape
    out = np.empty((rows, cols), dtype=object)
    for i in range(rows):
        for j in range(cols):
            window = xp[i * stride:i * stride + kh, j * stride:j * stride + kw]
            out[i, j] = sp.Add(*(window * k).flat)
    return out


def _conv2d_vjp_x(g, x, k, out, stride=1, padding=0):
    # Every window spreads g[i,j] * K back over the inputs it covered; overlaps add up.
    kh, kw = k.shape
    grad = filled((x.shape[0] + 2 * padding, x.shape[1] + 2 * padding), sp.Integer(0))
    for i, j in np.ndindex(*g.shape):
        grad[i * stride:i * stride + kh, j * stride:j * stride + kw] += g[i, j] * k
    return grad[padding:padding + x.shape[0], padding:padding + x.shape[1]].copy()


def _conv2d_vjp_k(g, x, k, out, stride=1, padding=0):
    xp = _pad(x, padding)
    kh, kw = k.shape
    grad = filled(k.shape, sp.Integer(0))
    for i, j in np.ndindex(*g.shape):
        grad += g[i, j] * xp[i * stride:i * stride + kh, j * stride:j * stride + kw]
    return grad


def _conv2d_entries(slot, index, args, out, sym, out_sym, stride=1, padding=0):
    x, k = args
    kh, kw = k.shape
    rows = []
    for i, j in np.ndindex(*out.shape):
        if slot == 0:  # x[r,c] meets k[r - i*s + p, c - j*s + p] in window (i, j)
            u, v = index[0] + padding - i * stride, index[1] + padding - j * stride
            if 0 <= u < kh and 0 <= v < kw:
                rows.append(((i, j), k[u, v], sym(1, (u, v))))
        else:  # k[u,v] meets x[i*s + u - p, j*s + v - p]
            r, c = i * stride + index[0] - padding, j * stride + index[1] - padding
            inside = 0 <= r < x.shape[0] and 0 <= c < x.shape[1]
            rows.append(((i, j), x[r, c] if inside else sp.Integer(0),
                         sym(0, (r, c)) if inside else sp.Integer(0)))
    return [row for row in rows if row[1] != 0 or slot == 0]


@dataclass(frozen=True)
class TensorOp(Op):
    name: str
    form: str  # "{0} @ {1}"; conv2d adds its parameters
    forward: Callable[..., Value]
    vjps: tuple[Callable[..., Value], ...]  # vjps[i](g, *inputs, out, **params)
    vjp_forms: tuple[str, ...]  # the trace's matrix form: "{g} @ {1}.T"
    entry: Callable  # entry(slot, index, inputs, out, symbol, out_symbol, **params)
    defaults: dict = field(default_factory=dict)  # keyword parameters and their values when left out

    @property
    def arity(self) -> int:
        return len(self.vjps)

    @property
    def keywords(self) -> tuple[str, ...]:
        return tuple(self.defaults)

    def apply(self, args: list[Value], limits: Limits = DEFAULT, **params) -> Value:
        with exact_arithmetic(*args):
            return fold(self.forward(*args, **params))

    def pull(self, slot: int, g: Value, args: list[Value], out: Value, **params) -> Pulled:
        with exact_arithmetic(g, *args, out):
            return Pulled(fold(self.vjps[slot](g, *args, out, **params)), None)

    def vjp_form(self, slot: int) -> str:
        return self.vjp_forms[slot]

    def entry_partials(self, slot, index, args, out, symbol, out_symbol, **params):
        return self.entry(slot, index, args, out, symbol, out_symbol, **params)


#                 name        form              forward     vjp for each input                                   matrix form
MATMUL = TensorOp("matmul", "{0} @ {1}", _matmul,
                  (lambda g, a, b, out: dot(g, b.T), lambda g, a, b, out: dot(a.T, g)),
                  ("{g} @ {1}.T", "{0}.T @ {g}"), _matmul_entries)
TRANSPOSE = TensorOp("transpose", "{0}.T", _transpose, (lambda g, x, out: g.T.copy(),), ("{g}.T",),
                     lambda slot, index, args, out, sym, out_sym: [(index[::-1], sp.Integer(1), sp.Integer(1))])
SUM = TensorOp("sum", "sum({0})", _sum, (lambda g, x, out: filled(x.shape, g),), ("{g} · ones({shape0})",),
               lambda slot, index, args, out, sym, out_sym: [((), sp.Integer(1), sp.Integer(1))])
MEAN = TensorOp("mean", "mean({0})", _mean, (lambda g, x, out: filled(x.shape, g / x.size),),
                ("{g} · ones({shape0}) / {size0}",),
                lambda slot, index, args, out, sym, out_sym: [((), sp.Rational(1, args[0].size),
                                                               sp.Rational(1, args[0].size))])
SOFTMAX = TensorOp("softmax", "softmax({0})", _softmax, (_softmax_vjp,),
                   ("{out} ⊙ ({g} - sum({out} ⊙ {g}))",), _softmax_entries)
CONV2D = TensorOp("conv2d", "conv2d({0}, {1}, stride={stride}, padding={padding})", _conv2d,
                  (_conv2d_vjp_x, _conv2d_vjp_k),
                  ("Σ over windows (i,j): {g}[i,j] · {1}, added back where window (i,j) of {0} "
                   "was (stride {stride}, padding {padding})",
                   "Σ over windows (i,j): {g}[i,j] · window (i,j) of {0} (stride {stride}, "
                   "padding {padding})"), _conv2d_entries,
                  {"stride": 1, "padding": 0})

