"""A trained model with its vocabularies: tokens in, BIO tags out; raw text in, entities out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Sequence

import torch

from .config import ModelConfig
from .features import FeatureEncoder
from .model import BiLstmCrf
from .schemes import Scheme, Span, spans, to_tags
from .tokenize import char_tokens, sentences, word_tokens

MAX_SENTENCE_TOKENS = {"char": 250, "word": 150}


@dataclass(frozen=True)
class Entity:
    """An entity found in a text: ``text[start:end] == self.text``."""

    start: int
    end: int
    label: str
    text: str

    def to_json(self) -> dict[str, object]:
        return {"start": self.start, "end": self.end, "label": self.label, "text": self.text}


class Tagger:
    """Holds a network, its feature encoder and its device; reuse one for many calls."""

    def __init__(self, config: ModelConfig, features: FeatureEncoder, net: BiLstmCrf, device: str = "cpu") -> None:
        self.config, self.features, self.net = config, features, net
        self.device = torch.device(device)
        self.net.to(self.device)
        self.tags = features.tags.items

    @property
    def labels(self) -> list[str]:
        return sorted({t[2:] for t in self.tags if t != "O"})

    def _batches(self, lengths: Sequence[int], max_tokens: int) -> Iterator[list[int]]:
        """Sentence indices grouped by similar length, each group at most ``max_tokens`` padded tokens."""
        order = sorted(range(len(lengths)), key=lambda i: lengths[i])
        group: list[int] = []
        for i in order:
            if group and (len(group) + 1) * lengths[i] > max_tokens:
                yield group
                group = []
            group.append(i)
        if group:
            yield group

    def predict(self, token_lists: Sequence[Sequence[str]], max_tokens: int = 8192) -> list[list[str]]:
        """BIO tags for each pre-tokenized sentence; empty sentences get empty tag lists."""
        results: list[list[str]] = [[] for _ in token_lists]
        todo = [i for i, tokens in enumerate(token_lists) if tokens]
        # Encode in slices so that a huge input never holds all its tensors at once.
        for first in range(0, len(todo), 4096):
            chunk = todo[first : first + 4096]
            corpus = self.features.encode([token_lists[i] for i in chunk])
            for group in self._batches([len(token_lists[i]) for i in chunk], max_tokens):
                paths = self._decode(corpus, group)
                for row, local in enumerate(group):
                    length = len(token_lists[chunk[local]])
                    ids = paths[row, :length].tolist()
                    results[chunk[local]] = self._to_bio([self.tags[j] for j in ids])
        return results

    @torch.inference_mode()
    def _decode(self, corpus, group: list[int]) -> torch.Tensor:
        self.net.eval()
        batch = corpus.batch(torch.tensor(group)).to(self.device)
        return self.net.decode(batch).cpu()

    def _to_bio(self, tags: list[str]) -> list[str]:
        if self.config.scheme == "BIO":
            return tags
        return to_tags(spans(tags), len(tags), Scheme.BIO)

    def tokenize(self, text: str) -> list[list[tuple[int, int]]]:
        """Offsets of the model's tokens in ``text``, grouped into sentences."""
        unit = self.config.token_unit
        tokens = char_tokens(text) if unit == "char" else word_tokens(text)
        return sentences(text, tokens, MAX_SENTENCE_TOKENS[unit], unit)

    def tag(self, text: str | Sequence[str]) -> list[Entity] | list[list[Entity]]:
        """Entities of one text, or of each text in a list."""
        if isinstance(text, str):
            return self.tag_many([text])[0]
        return self.tag_many(list(text))

    def tag_many(self, texts: Sequence[str]) -> list[list[Entity]]:
        if not all(isinstance(t, str) for t in texts):
            raise TypeError("tag() takes a string or a list of strings")
        owners: list[int] = []
        offsets: list[list[tuple[int, int]]] = []
        for number, text in enumerate(texts):
            for sentence in self.tokenize(text):
                owners.append(number)
                offsets.append(sentence)
        tags = self.predict([[texts[o][s:e] for s, e in sent] for o, sent in zip(owners, offsets)])
        found: list[list[Entity]] = [[] for _ in texts]
        for owner, sentence, sentence_tags in zip(owners, offsets, tags):
            for span in spans(sentence_tags):
                found[owner].append(self._entity(texts[owner], sentence, span))
        return found

    @staticmethod
    def _entity(text: str, tokens: list[tuple[int, int]], span: Span) -> Entity:
        start, end = tokens[span.start][0], tokens[span.end - 1][1]
        return Entity(start, end, span.label, text[start:end])
