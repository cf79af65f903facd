"""Dictionary matches around each character, SoftLexicon-style, as a few dense numbers per token.

Segmentation commits to one reading of a sentence; a lexicon keeps them all. For each character we
look at every dictionary word (jieba's 349k-word dictionary) that covers it and note, for each
role the character can play in such a word (Begin, Middle, End) and each word length (2, 3, 4,
5+), how frequent the most frequent such word is. SoftLexicon (Ma et al., 2020) averages
embeddings of those words instead; we have no pretrained word vectors, and a learned table
would only know the words seen in training, while these numbers carry over to unseen words.
"""

from __future__ import annotations

import math
from functools import lru_cache
from itertools import accumulate
from typing import Sequence

import torch

from .segment import segmenter

ROLES = 3  # begin, middle, end
LENGTH_BUCKETS = 4  # 2, 3, 4, 5 or more characters
WIDTH = ROLES * LENGTH_BUCKETS
MAX_WORD_LENGTH = 8  # longer dictionary entries are mostly idioms and names of laws


@lru_cache(maxsize=1)
def _scale() -> float:
    return math.log(segmenter().total)


def _cell(role: int, length: int) -> int:
    return role * LENGTH_BUCKETS + min(length, 5) - 2


def lexicon_features(tokens: Sequence[str]) -> torch.Tensor:
    """A (len(tokens), WIDTH) float tensor in [0, 1]; 0 where no dictionary word plays that part.

    Tokens are joined; a multi-character token takes the features of its first character.
    """
    text = "".join(tokens)
    frequencies = segmenter().FREQ  # every word and every prefix of one (prefixes count 0)
    scale = _scale()
    values = [0.0] * (len(text) * WIDTH)
    for start in range(len(text)):
        for end in range(start + 2, min(len(text), start + MAX_WORD_LENGTH) + 1):
            count = frequencies.get(text[start:end])
            if count is None:
                break  # not even a prefix of a word: no longer match can start here
            if not count:
                continue
            strength = math.log(count + 1) / scale
            length = end - start
            for position, role in ((start, 0), (end - 1, 2), *((p, 1) for p in range(start + 1, end - 1))):
                index = position * WIDTH + _cell(role, length)
                if values[index] < strength:
                    values[index] = strength
    per_char = torch.tensor(values, dtype=torch.float32).view(len(text), WIDTH)
    if len(text) == len(tokens):
        return per_char
    starts = torch.tensor(list(accumulate((len(t) for t in tokens[:-1]), initial=0)))
    return per_char[starts]
