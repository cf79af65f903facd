"""What tagging gives back, as plain records: no torch, so output, rendering and integrations can
use them without loading a network.

Offsets are half-open character offsets into the tagged text: ``text[start:end] == entity.text``.
"""

from __future__ import annotations

import operator
from array import array
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from typing import Iterable, Iterator, Sequence, overload

from .schemes import Span

Offsets = Sequence[tuple[int, int]]  # (start, end) of each token of a sentence, in the text


@dataclass(frozen=True)
class Entity:
    """An entity found in a text: ``text[start:end] == self.text``."""

    start: int
    end: int
    label: str
    text: str
    confidence: float | None = None  # CRF probability of exactly this span and label
    source: str | None = None  # None: the model; "dictionary" or "rules": matched, not tagged

    def to_json(self) -> dict[str, object]:
        record: dict[str, object] = {"start": self.start, "end": self.end, "label": self.label, "text": self.text}
        if self.confidence is not None:
            record["confidence"] = round(self.confidence, 4)
        if self.source is not None:
            record["source"] = self.source
        return record


@dataclass(frozen=True)
class Reading:
    """One labelling of a sentence, ``text[start:end]`` of the input, with its probability."""

    start: int
    end: int
    probability: float
    entities: list[Entity]

    def to_json(self) -> dict[str, object]:
        return {"start": self.start, "end": self.end, "probability": round(self.probability, 6),
                "entities": [e.to_json() for e in self.entities]}


def entity_at(text: str, tokens: Offsets, span: Span, confidence: float | None = None) -> Entity:
    """The entity covering tokens ``span.start .. span.end - 1`` of a sentence whose token offsets
    into ``text`` are ``tokens``."""
    start, end = tokens[span.start][0], tokens[span.end - 1][1]
    return Entity(start, end, span.label, text[start:end], confidence)


@dataclass(frozen=True)
class Dropped:
    """A dictionary or rule match left out of the output, and why (``--explain``)."""

    entity: Entity
    reason: str

    def to_json(self) -> dict[str, object]:
        return {**self.entity.to_json(), "reason": self.reason}


def offset_typecode(size: int) -> str:
    """The array typecode for offsets into a text of ``size`` characters: 32 bits where they fit."""
    return "i" if size < 2**31 else "q"


class Sentences(Sequence[list[tuple[int, int]]]):
    """The token offsets of a text's sentences, kept in three flat arrays of integers.

    A sentence reads as the list of ``(start, end)`` pairs it always was; stored that way, one
    token cost about 120 bytes, and a 2-million-character line of Chinese took 700 MB before a
    character was tagged. Here a token costs 8 bytes as a tagger makes them (16 in a text of 2**31
    characters or more, and from :meth:`of`, which does not know the text's length).
    """

    __slots__ = ("starts", "ends", "firsts")

    def __init__(self, starts: array, ends: array, firsts: array) -> None:
        """``starts``/``ends``: every token's offsets, in text order; ``firsts``: the index of each
        sentence's first token, then the number of tokens."""
        self.starts, self.ends, self.firsts = starts, ends, firsts

    @classmethod
    def of(cls, groups: Iterable[Sequence[tuple[int, int]]]) -> "Sentences":
        """Sentences from token offsets grouped by sentence; empty groups are left out. The
        token lookups (:meth:`starts_token` and the rest) need the tokens in text order."""
        starts, ends, firsts = array("q"), array("q"), array("q", [0])
        for group in groups:
            if group:
                for start, end in group:
                    starts.append(start)
                    ends.append(end)
                firsts.append(len(starts))
        return cls(starts, ends, firsts)

    @classmethod
    def one_char_tokens(cls, bounds: Sequence[int]) -> "Sentences":
        """Sentences of text that is one token a character, from the offsets where they begin
        (and the text's length last)."""
        size = bounds[-1] if bounds else 0
        code = offset_typecode(size + 1)
        return cls(array(code, range(size)), array(code, range(1, size + 1)), array(code, bounds if size else [0]))

    def __len__(self) -> int:
        return len(self.firsts) - 1

    @overload
    def __getitem__(self, index: int) -> list[tuple[int, int]]: ...

    @overload
    def __getitem__(self, index: slice) -> list[list[tuple[int, int]]]: ...

    def __getitem__(self, index: int | slice) -> list[tuple[int, int]] | list[list[tuple[int, int]]]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        first, last = self._range(index)
        return list(zip(self.starts[first:last], self.ends[first:last]))

    def __iter__(self) -> Iterator[list[tuple[int, int]]]:
        return (self[i] for i in range(len(self)))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sentences):
            return (self.starts, self.ends, self.firsts) == (other.starts, other.ends, other.firsts)
        if isinstance(other, Sequence) and not isinstance(other, (str, bytes)):
            return len(self) == len(other) and all(mine == list(theirs) for mine, theirs in zip(self, other))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable arrays, compared by value

    def __repr__(self) -> str:
        return f"Sentences({list(self)!r})"

    def __reduce__(self) -> tuple[type, tuple[array, array, array]]:
        return Sentences, (self.starts, self.ends, self.firsts)

    def _range(self, index: int) -> tuple[int, int]:
        index, count = operator.index(index), len(self)
        if not -count <= index < count:
            raise IndexError("sentence index out of range")
        index %= count
        return self.firsts[index], self.firsts[index + 1]

    def size(self, index: int) -> int:
        """Tokens in sentence ``index``."""
        first, last = self._range(index)
        return last - first

    def tokens(self, text: str, index: int) -> list[str]:
        """The strings of sentence ``index``'s tokens in ``text``."""
        first, last = self._range(index)
        starts, ends = self.starts, self.ends
        if ends[last - 1] - starts[first] == last - first:  # a token a character, none skipped
            return list(text[starts[first] : ends[last - 1]])
        return [text[start:end] for start, end in zip(starts[first:last], ends[first:last])]

    def starts_token(self, position: int) -> bool:
        """True when a token begins at ``position``."""
        found = bisect_left(self.starts, position)
        return found < len(self.starts) and self.starts[found] == position

    def ends_token(self, position: int) -> bool:
        """True when a token ends at ``position``."""
        found = bisect_left(self.ends, position)
        return found < len(self.ends) and self.ends[found] == position

    def token_around(self, position: int) -> tuple[int, int] | None:
        """The token that ``position`` falls strictly inside, if any."""
        found = bisect_right(self.starts, position) - 1
        if found >= 0 and self.starts[found] < position < self.ends[found]:
            return self.starts[found], self.ends[found]
        return None


@dataclass(frozen=True)
class TaggedText:
    """A tagged text with the model's tokens, so token-level output needs no second tokenization."""

    text: str
    entities: list[Entity]
    sentences: Sequence[Sequence[tuple[int, int]]]  # token offsets into ``text``, sentence by sentence (Sentences from a tagger)
    dropped: list[Dropped] = field(default_factory=list)  # matches not merged (see nertag.merge)

    def token_tags(self, entities: Sequence[Entity] | None = None) -> list[list[tuple[str, str]]]:
        """(token, BIO tag) of each token, sentence by sentence, from ``entities`` (default: all)."""
        return list(self.token_tags_by_sentence(entities))

    def token_tags_by_sentence(self, entities: Sequence[Entity] | None = None) -> Iterator[list[tuple[str, str]]]:
        """:meth:`token_tags` a sentence at a time, so that a huge text's are never all held."""
        opening: dict[int, str] = {}
        inside: dict[int, str] = {}
        for entity in self.entities if entities is None else entities:
            opening[entity.start] = entity.label
            inside.update((position, entity.label) for position in range(entity.start + 1, entity.end))
        for sentence in self.sentences:
            row = []
            for start, end in sentence:
                if start in opening:
                    tag = f"B-{opening[start]}"
                elif start in inside:
                    tag = f"I-{inside[start]}"
                else:
                    tag = "O"
                row.append((self.text[start:end], tag))
            yield row
