"""Entity dropout: in training, a share of the gold entities lose their own identity features.

A model trained on a news corpus knows nearly every training entity by its own characters,
bigrams and segmenter words, so it learns little about finding a name it has never seen. Word
dropout hides single tokens now and then; this hides whole entities: every token of a drawn gold
entity reads <unk> for its token, bigram and segmenter-word ids, while its shape, the lexicon's
name classes, its place in the segmenter's word, its corpus style, a word model's character
encoder and the whole context stay (so do the neighbours' bigrams, which hold the entity's first
and last character: they are the context's features too). The network must then tell the entity
and its type from those, as it must for a name that is new.
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

import torch

from .batch import Batch
from .model import UNK_ID


class EntityDropout:
    """Hides a ``rate`` share of a training batch's gold entities (see the module docstring)."""

    def __init__(self, tags: Sequence[str], rate: float) -> None:
        if not 0.0 <= rate < 1.0:
            raise ValueError(f"entity_dropout: expected a share in [0, 1), got {rate!r}")
        self.rate = rate
        # Decoding schemes are BIO and BIOES: B- and S- open an entity, I- and E- continue it.
        self._inside = torch.tensor([tag != "O" for tag in tags])
        self._opens = torch.tensor([tag[:2] in ("B-", "S-") for tag in tags])

    def __call__(self, batch: Batch) -> Batch:
        """``batch`` with the drawn entities' id features set to <unk>; the same batch at rate 0."""
        if not self.rate or batch.tags is None:
            return batch
        tags = batch.tags
        if self._inside.device != tags.device:  # moved once, not in every batch
            self._inside, self._opens = self._inside.to(tags.device), self._opens.to(tags.device)
        inside = self._inside[tags] & batch.mask
        before = torch.nn.functional.pad(inside[:, :-1], (1, 0), value=False)
        # An entity opens at B-/S-, or at any entity tag after a token outside one (a stray I-).
        opens = inside & (self._opens[tags] | ~before)
        # Each entity token reads the draw made at the place its entity opened.
        places = torch.arange(tags.size(1), device=tags.device).expand_as(tags)
        opened_at = torch.where(opens, places, torch.zeros_like(places)).cummax(dim=1).values
        drawn = torch.rand(tags.shape, device=tags.device) < self.rate
        hidden = inside & drawn.gather(1, opened_at)
        changed: dict[str, torch.Tensor] = {"words": batch.words.masked_fill(hidden, UNK_ID)}
        if batch.bigrams is not None:
            changed["bigrams"] = batch.bigrams.masked_fill(hidden.unsqueeze(-1), UNK_ID)
        if batch.segments is not None:
            words = batch.segments[..., 0].masked_fill(hidden, UNK_ID)
            changed["segments"] = torch.stack([words, batch.segments[..., 1]], dim=-1)
        return dataclasses.replace(batch, **changed)
