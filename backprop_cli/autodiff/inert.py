"""Turning SymPy's automatic evaluation off and on, as ``sympy.evaluate`` does, for less.

Every change of SymPy's ``evaluate`` flag empties SymPy's caches, since a
result cached with evaluation on would be wrong with it off, and the reverse.
SymPy's ``clear_cache`` finds each cached function's ``cache_clear`` again on
every call, by ``hasattr`` along the chain of wrapped functions: about 250
look-ups for 125 caches, the larger part of the cost of a switch, and a small
network's passes switch some fifty times.  Here the ``cache_clear`` methods are
found once (again whenever SymPy has registered more caches), then called
directly: the same caches are emptied at the same moments, so every result is
the one ``sympy.evaluate`` would give.
"""

from __future__ import annotations

from contextlib import contextmanager

from sympy.core.cache import CACHE
from sympy.core.parameters import global_parameters

_clears: list = []  # the cache_clear of every cache in SymPy's registry, in its order
_registered = 0  # how many registry entries _clears was built from
# The flag lives in the parameters object's __dict__ (SymPy 1.x); elsewhere, SymPy's own way.
_DIRECT = "evaluate" in getattr(global_parameters, "__dict__", {})


def _clear_caches() -> None:
    global _registered
    if _registered != len(CACHE):  # SymPy registers caches as its modules are imported
        _clears.clear()
        for item in CACHE:  # as sympy.core.cache.clear_cache walks them
            fn = item
            while hasattr(fn, "__wrapped__"):
                if hasattr(fn, "cache_clear"):
                    _clears.append(fn.cache_clear)
                    break
                fn = fn.__wrapped__
        _registered = len(CACHE)
    for clear in _clears:
        clear()


def set_evaluate(on: bool) -> None:
    """``global_parameters.evaluate = on``: SymPy's caches are emptied when the flag changes."""
    if not _DIRECT:
        global_parameters.evaluate = on
    elif global_parameters.evaluate != on:
        _clear_caches()
        global_parameters.__dict__["evaluate"] = on


@contextmanager
def evaluation(on: bool):
    """``with sympy.evaluate(on)``, switched by :func:`set_evaluate`."""
    old = global_parameters.evaluate
    try:
        set_evaluate(on)
        yield
    finally:
        set_evaluate(old)

