"""The tagger's fast path from decoded tag ids to spans agrees with schemes.spans on every path."""

from __future__ import annotations

import torch

from nertag import load
from nertag.schemes import spans


def test_path_spans_equal_spans_of_the_full_tag_sequence() -> None:
    tagger = load("zh-resume")
    generator = torch.Generator().manual_seed(0)
    for _ in range(500):
        batch, steps = (int(x) for x in torch.randint(1, 12, (2,), generator=generator))
        paths = torch.randint(0, len(tagger.tags), (batch, steps), generator=generator)
        paths = paths * (torch.rand(batch, steps, generator=generator) < 0.6)  # plenty of O (0)
        expected = [spans([tagger.tags[j] for j in row]) for row in paths.tolist()]
        assert tagger._path_spans(paths) == expected
