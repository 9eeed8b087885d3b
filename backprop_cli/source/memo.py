"""Bounded memo tables: what was derived from some content, kept for the next time it is seen.

A class is thousands of copies of the same few exercises, with the same
answers written again and again; each is read, solved and explained once per
process.  Tables are keyed by content (text, never a path), hold at most
``size`` entries, and forget the least recently used one first, so a long
run's memory stays bounded.
"""

from __future__ import annotations

import weakref
from collections import OrderedDict
from typing import Callable, Generic, Hashable, TypeVar

V = TypeVar("V")

_TABLES: "weakref.WeakSet[Memo]" = weakref.WeakSet()  # every table alive, for clear_all


class Memo(Generic[V]):
    """A least-recently-used table of at most ``size`` entries."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.entries: OrderedDict[Hashable, V] = OrderedDict()
        _TABLES.add(self)

    def get(self, key: Hashable) -> V | None:
        value = self.entries.get(key)
        if value is not None:
            self.entries.move_to_end(key)
        return value

    def put(self, key: Hashable, value: V) -> V:
        self.entries[key] = value
        self.entries.move_to_end(key)
        while len(self.entries) > self.size:
            self.entries.popitem(last=False)
        return value

    def get_or_make(self, key: Hashable, make: Callable[[], V]) -> V:
        """The value kept for ``key``, or ``make()``'s (kept); an exception from ``make`` is not kept."""
        value = self.get(key)
        return value if value is not None else self.put(key, make())

    def clear(self) -> None:
        self.entries.clear()


def clear_all() -> None:
    """Forget everything every table holds (benchmarks and tests start cold with it)."""
    for table in list(_TABLES):
        table.clear()
