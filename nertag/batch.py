"""A padded batch of encoded sentences: the tensors a network reads, and nothing that makes them.

Torch only, so the network (:mod:`nertag.model`) can name its input without importing the feature
code (and through it the segmenter).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import torch

SHAPE_CLASSES = 10  # token shape ids (nertag.features.token_shape) are 1-9; 0 is padding
_HOST_FIELDS = frozenset({"lengths", "char_lengths"})  # Batch fields that stay on the CPU


@dataclass
class Batch:
    """Model input for ``B`` sentences padded to ``T`` tokens; ``U`` distinct token forms."""

    words: torch.Tensor  # (B, T) word ids, 0 = padding
    mask: torch.Tensor  # (B, T) bool, True on real tokens
    lengths: torch.Tensor  # (B,)
    chars: torch.Tensor | None = None  # (U, C) character ids of each distinct form
    char_lengths: torch.Tensor | None = None  # (U,)
    form_index: torch.Tensor | None = None  # (B, T) row of each token in ``chars``
    bigrams: torch.Tensor | None = None  # (B, T, 2) ids of the left and right character bigram
    segments: torch.Tensor | None = None  # (B, T, 2) id of the segmenter's word and place in it (1-4)
    lexicon: torch.Tensor | None = None  # (B, T, lexicon.WIDTH) dictionary-match strengths
    shapes: torch.Tensor | None = None  # (B, T, 1) shape class of each token (features.token_shape)
    tags: torch.Tensor | None = None  # (B, T) gold tag ids, 0 on padding
    teacher: torch.Tensor | None = None  # (B, T, tags) a teacher's posteriors, when distilling (nertag.distill)
    styles: torch.Tensor | None = None  # (B, T, 1) training corpus of each token's sentence (1..K), style models

    def to(self, device: torch.device | str) -> "Batch":
        """A copy on ``device``; the lengths stay on the CPU, where packing and slicing read them."""
        moved = {
            f.name: value if value is None or f.name in _HOST_FIELDS else value.to(device, non_blocking=True)
            for f in fields(self)
            for value in [getattr(self, f.name)]
        }
        return Batch(**moved)
