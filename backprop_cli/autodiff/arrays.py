"""NumPy, imported the first time a tensor is made.

Tensors are NumPy object arrays of exact SymPy entries; a scalar exercise
never makes one, so it need not pay for importing NumPy.  NumPy's linear
algebra never runs on object arrays, so OpenBLAS is told to start one thread,
not a pool of them, unless the user set its thread count already.
"""

from __future__ import annotations

import os
import sys


def is_array(value) -> bool:
    """A NumPy array; False at no cost while NumPy has not been imported (nothing can be one)."""
    numpy = sys.modules.get("numpy")
    return numpy is not None and isinstance(value, numpy.ndarray)


def _numpy():
    for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
        os.environ.setdefault(variable, "1")
    import numpy

    return numpy


class _OnFirstUse:
    """Stands for the numpy module: the first attribute asked for imports it; each is then kept."""

    def __getattr__(self, name: str):
        value = getattr(_numpy(), name)
        setattr(self, name, value)
        return value


np = _OnFirstUse()
