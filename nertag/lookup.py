"""Find many 64-bit keys at once in a fixed table, in numpy: the features' dictionary lookups.

A binary search (``np.searchsorted``) reads about 17 scattered places of a 200k-key table per
query, and these tables are looked up once for nearly every character tagged. Here the keys are
sorted by a mixing of their bits, and a directory indexed by the top bits of that mixing says where
each bucket of keys starts; with about one key per bucket, a query reads two or three places.
"""

from __future__ import annotations

import numpy as np

_MIX = np.uint64(0xD6E8FEB86659FD93)  # odd: multiplying by it permutes the 64-bit numbers


def _mixed(keys: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        return keys.astype(np.uint64, copy=False) * _MIX


class KeyTable:
    """Distinct 64-bit keys (hashes or codes) -> their row in the order they were given."""

    def __init__(self, keys: np.ndarray) -> None:
        mixed = _mixed(np.asarray(keys))
        order = np.argsort(mixed, kind="stable")
        self.mixed = mixed[order]
        if len(self.mixed) > 1 and bool((self.mixed[1:] == self.mixed[:-1]).any()):
            raise ValueError("KeyTable: keys must be distinct")
        self.rows = order.astype(np.int64)
        self.bits = max(1, int(len(keys)).bit_length())  # about one key per bucket
        self.shift = np.uint64(64 - self.bits)
        buckets = (self.mixed >> self.shift).astype(np.int64)
        self.starts = np.searchsorted(buckets, np.arange((1 << self.bits) + 1)).astype(np.int64)
        self.widest = int(np.diff(self.starts).max()) if len(keys) else 0

    def find(self, queries: np.ndarray) -> np.ndarray:
        """The row of each query among the keys, -1 where it is none of them."""
        found = np.full(len(queries), -1, dtype=np.int64)
        if not len(queries) or not self.widest:
            return found
        mixed = _mixed(np.asarray(queries))
        bucket = (mixed >> self.shift).astype(np.int64)
        first, stop = self.starts[bucket], self.starts[bucket + 1]
        todo = np.flatnonzero(stop > first)  # queries whose bucket holds keys
        for step in range(self.widest):
            place = first[todo] + step
            todo = todo[place < stop[todo]]
            if not len(todo):
                break
            place = first[todo] + step
            hit = self.mixed[place] == mixed[todo]
            found[todo[hit]] = self.rows[place[hit]]
            todo = todo[~hit]
        return found
