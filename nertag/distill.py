"""Distillation: a teacher model's per-token tag posteriors as soft targets for a student.

A narrow network trained on gold tags alone learns less than a wide one; trained also to match the
wide one's posterior at every token (its CRF marginals, which say how sure it is and what it would
say instead), it can get closer to the wide one at the narrow one's speed (Wang et al., 2020,
"Structure-level knowledge distillation for multilingual sequence labeling"). It needs text the
teacher has not memorised: on the teacher's own training corpus its posteriors are nearly the gold
tags, and a student of zh-general trained there did worse than without it (BENCHMARKS.md).

The teacher reads the training sentences once, before the first epoch, with its own vocabularies;
its posteriors are stored per token beside the student's features, so any student architecture
works, as long as both decode the same tags.
"""

from __future__ import annotations

from typing import Sequence

import torch

from .features import EncodedCorpus
from .tagger import Tagger

TEACHER_FEATURE = "teacher"  # name of the soft targets in EncodedCorpus.per_token and in Batch


def teacher_posteriors(
    teacher: Tagger, token_lists: Sequence[Sequence[str]], tags: Sequence[str], max_tokens: int = 8192
) -> torch.Tensor:
    """(total tokens, len(tags)) float32: the teacher's posterior of each of ``tags`` at each token of
    the sentences, in order. Raises ValueError when the teacher decodes other tags."""
    if teacher.net is None:
        raise ValueError("the teacher must be a torch model, not an exported one")
    if sorted(teacher.tags) != sorted(tags):
        raise ValueError(
            f"the teacher decodes tags {', '.join(teacher.tags)} but the student {', '.join(tags)}: "
            "give the student the teacher's labels and scheme (--label-map, --scheme)"
        )
    column = torch.tensor([teacher.tags.index(tag) for tag in tags])
    lengths = torch.tensor([len(tokens) for tokens in token_lists], dtype=torch.long)
    posteriors = torch.zeros(int(lengths.sum()), len(tags))
    offsets = torch.cumsum(lengths, 0) - lengths
    taught = [i for i, tokens in enumerate(token_lists) if tokens]  # empty sentences have nothing to teach
    corpus: EncodedCorpus = teacher.features.encode([token_lists[i] for i in taught])
    net = teacher.net
    was_training = net.training
    net.eval()
    try:
        with torch.inference_mode():
            for group in teacher._batches(corpus.lengths.tolist(), max_tokens):
                indices = torch.tensor(group)
                batch = corpus.batch(indices).to(teacher.device)
                marginals = teacher.crf.marginals(teacher._emissions(batch), batch.mask).cpu()
                mask = batch.mask.cpu()
                rows = offsets[torch.tensor(taught)[indices], None] + torch.arange(mask.size(1))[None, :]
                posteriors[rows[mask]] = marginals[mask][:, column]
    finally:
        net.train(was_training)
    return posteriors
