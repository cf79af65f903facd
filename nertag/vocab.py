"""String-to-index tables for tokens, characters, bigrams and tags; JSON-ready."""

from __future__ import annotations

from collections import Counter
from typing import Iterable, Sequence

PAD = "<pad>"
UNK = "<unk>"


class Vocab:
    """An ordered list of strings; index 0 is padding and 1 is unknown unless ``specials`` is empty."""

    def __init__(self, items: Sequence[str], specials: bool = True) -> None:
        self.items: list[str] = list(items)
        self.specials = specials
        if specials and self.items[:2] != [PAD, UNK]:
            self.items = [PAD, UNK] + [i for i in self.items if i not in (PAD, UNK)]
        self.index = {item: i for i, item in enumerate(self.items)}
        if len(self.index) != len(self.items):
            raise ValueError("vocabulary items must be distinct")

    @classmethod
    def build(cls, counts: Counter[str], min_count: int = 1) -> "Vocab":
        """Keep items seen at least ``min_count`` times, most frequent first (ties by string)."""
        kept = sorted((item for item, n in counts.items() if n >= min_count), key=lambda i: (-counts[i], i))
        return cls(kept)

    def __len__(self) -> int:
        return len(self.items)

    def __contains__(self, item: str) -> bool:
        return item in self.index

    def id(self, item: str) -> int:
        """The index of ``item``; unknown items map to UNK (a KeyError in a vocabulary without specials)."""
        if self.specials:
            return self.index.get(item, 1)
        return self.index[item]

    def ids(self, items: Iterable[str]) -> list[int]:
        get, unk = self.index.get, 1
        if self.specials:
            return [get(i, unk) for i in items]
        return [self.index[i] for i in items]

    def to_json(self) -> list[str]:
        return self.items

    @classmethod
    def from_json(cls, items: list[str], specials: bool = True) -> "Vocab":
        return cls(items, specials)
