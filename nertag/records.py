"""What tagging gives back, as plain records: no torch, so output, rendering and integrations can
use them without loading a network.

Offsets are half-open character offsets into the tagged text: ``text[start:end] == entity.text``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

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


@dataclass(frozen=True)
class TaggedText:
    """A tagged text with the model's tokens, so token-level output needs no second tokenization."""

    text: str
    entities: list[Entity]
    sentences: list[list[tuple[int, int]]]  # token offsets into ``text``, sentence by sentence
    dropped: list[Dropped] = field(default_factory=list)  # matches not merged (see nertag.merge)

    def token_tags(self, entities: Sequence[Entity] | None = None) -> list[list[tuple[str, str]]]:
        """(token, BIO tag) of each token, sentence by sentence, from ``entities`` (default: all)."""
        opening: dict[int, str] = {}
        inside: dict[int, str] = {}
        for entity in self.entities if entities is None else entities:
            opening[entity.start] = entity.label
            inside.update((position, entity.label) for position in range(entity.start + 1, entity.end))
        tagged = []
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
            tagged.append(row)
        return tagged
