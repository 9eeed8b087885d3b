"""Exact values as text, and the two ways an answer can equal an expected value.

Values are SymPy numbers: rationals where the exercise is rational, exact
expressions such as ``exp(-1)/(exp(-1) + 1)**2`` otherwise.  They are printed
in the expression language itself, so every printed value can be typed back
as an answer and parses to the same number.
"""

from __future__ import annotations

import functools

import mpmath
import sympy as sp
from sympy.printing.str import StrPrinter

from backprop_cli.autodiff.arrays import is_array

SHORT = 60  # an exact form longer than this is shown in decimal
DIGITS = 15  # significant digits of the decimal form
_CHECK_DIGITS = 60  # working precision for deciding exact equality of irrational values
_DEEP_DIGITS = 1000  # the second look, for short forms that agree to 40 digits
_MEMO_LIMIT = 1 << 18  # entries a memo holds before it starts afresh (a long-lived grading worker)


class _Printer(StrPrinter):
    """SymPy's str printer, speaking the exercise language (exp(1), not E)."""

    def _print_Exp1(self, expr):
        return "exp(1)"

    def _print_Abs(self, expr):
        return f"abs({self._print(expr.args[0])})"

    def _print_Max(self, expr):
        return "max(" + ", ".join(self._print(a) for a in expr.args) + ")"

    def _print_Min(self, expr):
        return "min(" + ", ".join(self._print(a) for a in expr.args) + ")"

    def _print_Heaviside(self, expr):
        # Local derivatives of relu, max and min; only the trace shows these.
        z = self._print(expr.args[0])
        if len(expr.args) > 1 and expr.args[1] == 0:
            return f"[{z} > 0]"
        return f"step({z})"


_PRINTER = _Printer({"order": "none"})


def exact_text(value: sp.Expr) -> str:
    """The value in the exercise language.

    SymPy's printer multiplies coefficients back in as it prints (``-2*x``
    from a coefficient and a term); with evaluation on, each product asks
    SymPy's assumptions about the term, which evaluates a nested exact form
    numerically as a tree.  Printing with evaluation off gives the same text
    without those questions.
    """
    if value.is_Rational and max(abs(value.p), value.q).bit_length() > 12000:
        return decimal_text(value)  # past what int -> str allows (and what anyone reads)
    if value.is_Atom:  # a number or a name: no product to build, nothing to ask (and turning
        return _PRINTER.doprint(value)  # evaluation off and on again empties SymPy's cache)
    try:
        with sp.evaluate(False):
            return _PRINTER.doprint(value)
    except TypeError:  # a comparison the printer makes that stays unevaluated (-oo < 0)
        return _PRINTER.doprint(value)


def is_short(value: sp.Expr, limit: int = SHORT) -> bool:
    """Whether the exact form is small enough to print: at most ``limit`` nodes as a tree.

    Deep sigmoid networks give exact forms pages long; printing one only to
    measure it would cost more than the whole backward pass.  Sizes are counted
    once per subexpression (a network's values share them) and only up to a
    cap, so asking costs a few steps however large the value.
    """
    if limit >= _SIZE_CAP:
        count = 0
        for _ in sp.preorder_traversal(value):
            count += 1
            if count > limit:
                return False
        return True
    return _tree_size(value) <= limit


_SIZE_CAP = 512  # tree sizes are counted up to this; a larger limit walks the tree instead
_SIZES: dict[int, tuple[object, int]] = {}  # id(value) -> (value, its size as a tree, capped)
_SIZES_KEPT = 1 << 17  # entries before the memo starts afresh


def _tree_size(value) -> int:
    """1 + the sizes of the arguments, capped at _SIZE_CAP + 1: a walk of the DAG, with a memo.

    The memo is by identity (the value is kept, so its id stays its own): comparing two equal
    exact values walks both trees, which is what this is here to avoid."""
    def known(e) -> int | None:
        found = _SIZES.get(id(e))
        return found[1] if found is not None and found[0] is e else None

    stack = [(value, False)]
    while stack:
        e, ready = stack.pop()
        if known(e) is not None:
            continue
        args = getattr(e, "args", ())
        if ready or not args:
            total = 1
            for a in args:
                total = min(_SIZE_CAP + 1, total + known(a))
            _SIZES[id(e)] = (e, total)
        else:
            stack.append((e, True))
            stack.extend((a, False) for a in args if known(a) is None)
    size = known(value)
    if len(_SIZES) > _SIZES_KEPT:
        _SIZES.clear()
    return size


_NAMED = {sp.exp: 3, sp.log: 3, sp.sin: 3, sp.cos: 3, sp.tan: 3, sp.tanh: 4, sp.Abs: 3, sp.Max: 3, sp.Min: 3}


def prints_longer(value: sp.Expr, limit: int) -> bool:
    """Whether :func:`exact_text` of the value is certainly longer than ``limit`` characters,
    decided without printing: a lower bound on the length, counted over the tree until it
    passes ``limit`` (or the tree passes 4 * limit nodes, which never print that short)."""
    chars = nodes = 0
    stack = [value]
    while stack:
        e = stack.pop()
        nodes += 1
        if e.is_Integer:
            chars += len(str(abs(e.p))) if abs(e.p) != 1 else 0  # 1 and -1 may print as nothing
        elif e.is_Rational:
            chars += len(str(e.q)) + (len(str(abs(e.p))) if abs(e.p) != 1 else 0)
        elif e.is_Symbol:
            chars += len(e.name)
        elif e.is_Add:
            chars += 3 * (len(e.args) - 1)  # ' + ' or ' - ' between terms
        elif e.is_Mul:
            chars += max(0, len(e.args) - 2)  # '*' or '/' between factors, a coefficient aside
        elif e.is_Function:
            chars += 2 + _NAMED.get(e.func, 0)  # the parentheses, and the name when known
        if chars > limit or nodes > 4 * limit:
            return True
        stack.extend(e.args)
    return False


def decimal_text(value: sp.Expr, digits: int = DIGITS) -> str:
    """The value to ``digits`` significant digits, e.g. '0.196611933241482'."""
    return mpmath.nstr(approx(value, digits + 10), digits, min_fixed=-5, max_fixed=16)


def shown(value):
    """The form used for ``expected`` and ``solve``: exact when short, else decimal.

    A tensor gives nested lists of such strings, one list per row.
    """
    if is_array(value):
        return [[shown(e) for e in row] for row in value]
    if is_short(value):
        text = exact_text(value)
        if len(text) <= SHORT:
            return text
    return decimal_text(value)


def identity_cache(fn):
    """Memoize a function of one SymPy value by the value's identity, not its equality.

    The exact values of a network share subexpressions, so a walk that
    remembers each one it has seen is a walk of the DAG.  The memo is keyed
    by identity: two equal values built separately (a solve, then a grading
    of the same exercise) would be compared by SymPy's ``==``, which walks
    both as trees, exponentially in their depth.
    """
    memo: dict[int, tuple] = {}

    @functools.wraps(fn)
    def cached(value):
        hit = memo.get(id(value))
        if hit is not None and hit[0] is value:
            return hit[1]
        out = fn(value)
        if len(memo) >= _MEMO_LIMIT:
            memo.clear()
        memo[id(value)] = (value, out)  # the value is kept, so its id is not reused
        return out
    return cached


@identity_cache
def is_numeric(value: sp.Basic) -> bool:
    """No symbols inside: a number, however long its exact form.

    SymPy's ``is_number`` walks the expression as a tree on every call; the
    exact values of a network share subexpressions, so that walk grows
    exponentially with depth.  The cache makes this a walk of the DAG.
    """
    if value.is_Symbol:
        return False
    return value.is_Atom or all(is_numeric(a) for a in value.args)


@identity_cache
def nesting(value: sp.Basic) -> int:
    """How deeply function applications (exp, log, tanh, max, ...) nest inside: 0 for a flat
    combination of rationals, roots and constants, 1 for exp(2)/(1 + exp(-1)), 2 for
    exp(-1/(1 + exp(-1))).  A walk of the DAG, as :func:`is_numeric`."""
    if value.is_Atom:
        return 0
    inner = max((nesting(a) for a in value.args), default=0)
    return inner + 1 if value.is_Function else inner


def sign_of(value: sp.Expr) -> int:
    """-1, 0 or 1 for a real number, deciding at 30 digits (and at 100 when that is too close).

    SymPy's own comparisons evaluate long exact forms as trees, which takes
    seconds once a network's values have been through a training step.
    """
    if value.is_Rational:
        return (value.p > 0) - (value.p < 0)
    for digits, threshold in ((30, 20), (100, 90)):
        x = approx(value, digits)
        if abs(x) > mpmath.mpf(10) ** -threshold:
            return 1 if x > 0 else -1
    return 0


_MPMATH = {sp.exp: mpmath.exp, sp.log: mpmath.log, sp.sin: mpmath.sin, sp.cos: mpmath.cos,
           sp.tan: mpmath.tan, sp.tanh: mpmath.tanh, sp.Abs: abs, sp.sign: mpmath.sign}


_MEMOS: dict[int, dict] = {}  # one memo per precision, shared by every call in a run


def approx(value: sp.Expr, digits: int, at: dict | None = None) -> mpmath.mpf:
    """A real number to about ``digits`` digits, evaluating shared subexpressions once.

    The exact values of a network share subexpressions (each activation
    appears in every later layer).  SymPy's evalf walks them as a tree, again
    and again; this walks the DAG with a memo, at a working precision with
    margin to spare for cancellation.  The memo is kept for the run, one per
    precision, so printing every entry of a network's gradients walks the
    shared values once, not once per entry.  ``at`` gives symbols their values
    (an expression over symbols, evaluated at a point); such a call has a memo
    of its own, since its values hold only at that point.
    """
    if at:
        memo: dict = {}
    else:
        memo = _MEMOS.setdefault(digits, {})
        if len(memo) > _MEMO_LIMIT:
            memo.clear()
    with mpmath.workdps(digits + 30):
        for symbol, number in (at or {}).items():
            memo[symbol] = _approx(number, {})  # by equality: a symbol is one atom, cheap to compare
        return +_approx(value, memo)


def _approx(e: sp.Expr, memo: dict):
    hit = memo.get(id(e))  # by identity, as identity_cache and for the same reason
    if hit is not None and hit[0] is e:
        return hit[1]
    if e.is_Symbol and e in memo:
        return memo[e]
    if e.is_Rational:
        out = mpmath.mpf(e.p) / e.q
    elif e.is_Float:  # floats: replayed mistakes, and finite differences
        out = mpmath.mpf(e._mpf_)
    elif e.is_Add:
        out = mpmath.fsum(_approx(a, memo) for a in e.args)
    elif e.is_Mul:
        out = mpmath.fprod(_approx(a, memo) for a in e.args)
    elif e.is_Pow:
        base, exponent = e.args
        out = _approx(base, memo) ** (exponent.p / mpmath.mpf(exponent.q) if exponent.is_Rational
                                      else _approx(exponent, memo))
    elif e.func in _MPMATH:
        out = _MPMATH[e.func](_approx(e.args[0], memo))
    elif isinstance(e, sp.Heaviside):  # a relu's or max's derivative; the second argument is H(0)
        x, at_zero = _approx(e.args[0], memo), e.args[1] if len(e.args) > 1 else sp.S.Half
        out = mpmath.mpf(1 if x > 0 else 0) if x != 0 else _approx(at_zero, memo)
    elif isinstance(e, (sp.Max, sp.Min)):
        out = (max if isinstance(e, sp.Max) else min)(_approx(a, memo) for a in e.args)
    elif e is sp.pi:
        out = +mpmath.pi
    elif e is sp.E:
        out = +mpmath.e
    else:  # anything rarer: SymPy's own evaluation
        x = sp.N(e, mpmath.mp.dps)
        if not x.is_Float:
            raise ValueError(f"not a real number: {e}")
        out = mpmath.mpf(x._mpf_)
    memo[id(e)] = (e, out)
    return out


def is_integer(value: sp.Expr) -> bool:
    return bool(getattr(value, "is_Integer", False))


def equal(a: sp.Expr, b: sp.Expr) -> bool:
    """Exact equality of two real numbers.

    Rationals compare exactly.  Two irrational forms of one number (the same
    sigmoid derivative written two ways) are equal when they agree to 60
    digits; deciding zero exactly is undecidable in general and SymPy's full
    ``simplify`` is unbounded, so this is the honest, bounded test.
    """
    if a == b:
        return True
    if a.is_Rational and b.is_Rational:
        return False
    with mpmath.workdps(_CHECK_DIGITS):
        try:
            x, y = approx(a, _CHECK_DIGITS), approx(b, _CHECK_DIGITS)
        except (ValueError, TypeError, ZeroDivisionError):
            return False  # one side is not a real number: not equal to a real one
        if abs(x - y) > mpmath.mpf(10) ** -40 * max(1, abs(x), abs(y)):
            return False
    if is_short(a) and is_short(b):  # 6 + exp(-1000) is not 6: short forms get 1000 digits
        with mpmath.workdps(_DEEP_DIGITS):
            x, y = approx(a, _DEEP_DIGITS), approx(b, _DEEP_DIGITS)
            return bool(abs(x - y) <= mpmath.mpf(10) ** -(_DEEP_DIGITS - 20) * max(1, abs(x), abs(y)))
    return True


def within_tolerance(answer: sp.Expr, expected: sp.Expr, rel: sp.Expr, abs_: sp.Expr) -> bool:
    """``|answer - expected| <= abs + rel * |expected|``, at 30 digits."""
    with mpmath.workdps(30):
        a, e = approx(answer, 30), approx(expected, 30)
        return bool(abs(a - e) <= approx(abs_, 30) + approx(rel, 30) * abs(e))
