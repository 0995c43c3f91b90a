"""A cache that empties itself rather than grow past a limit.

Every cache of the indexer and of an open index (folded characters, inner
words, analysed texts, passages, posting lists, summed prefixes) is one of
these: a warm server asks for new keys for as long as it runs, and starting
over costs one recomputation per key, where tracking the least recently used
key would cost work on every hit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class ForgetfulCache(dict, Generic[K, V]):
    """A dict that is emptied before an addition would take it past `limit`: one per entry, or what `weigh`
    says a value costs (the postings it holds). Read it as a dict; add through `keep`."""

    def __init__(self, limit: int, weigh: Callable[[V], int] | None = None):
        super().__init__()
        self.limit = limit
        self.held = 0  # the cost of what it holds
        self._weigh = weigh

    def keep(self, key: K, value: V) -> V:
        """Hold `value` under `key` (emptying the cache first when it would pass its limit); returns `value`."""
        cost = self._weigh(value) if self._weigh else 1
        if self.held + cost > self.limit:
            self.clear()
        self[key] = value
        self.held += cost
        return value

    def clear(self) -> None:
        super().clear()
        self.held = 0
