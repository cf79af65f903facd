"""Dictionary matches around each character, SoftLexicon-style, as a few dense numbers per token.

Segmentation commits to one reading of a sentence; a lexicon keeps them all. For each character we
look at every dictionary word (jieba's 349k-word dictionary) that covers it and note, for each
role the character can play in such a word (Begin, Middle, End) and each word length (2, 3, 4,
5+), how frequent the most frequent such word is. SoftLexicon (Ma et al., 2020) averages
embeddings of those words instead; we have no pretrained word vectors, and a learned table
would only know the words seen in training, while these numbers carry over to unseen words.

jieba's dictionary also tags each word with a part of speech, among them person names (nr),
place names (ns), organisation names (nt) and other proper nouns (nz): about 110k names in all.
So each role also gets one strength per such class, the most frequent covering word of that
class: a gazetteer that reaches names the training corpus never showed.
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
NAME_CLASSES = {"nr": 0, "nrt": 0, "nrfg": 0, "ns": 1, "nt": 2, "nz": 3}  # person, place, organisation, other
CELLS_PER_ROLE = LENGTH_BUCKETS + max(NAME_CLASSES.values()) + 1
WIDTH = ROLES * CELLS_PER_ROLE
MAX_WORD_LENGTH = 8  # longer dictionary entries are mostly idioms and names of laws


@lru_cache(maxsize=1)
def _scale() -> float:
    return math.log(segmenter().total)


@lru_cache(maxsize=1)
def _name_classes() -> dict[str, int]:
    """Dictionary word -> name class, for the words jieba's dictionary tags as names."""
    classes: dict[str, int] = {}
    with segmenter().get_dict_file() as lines:
        for raw in lines:
            parts = raw.decode("utf-8").split()
            if len(parts) == 3 and parts[2] in NAME_CLASSES:
                classes[parts[0]] = NAME_CLASSES[parts[2]]
    return classes


def _cells(length: int, name_class: int | None) -> tuple[int, ...]:
    """Offsets, within one role, of the length cell and, for names, the class cell."""
    length_cell = min(length, 5) - 2
    return (length_cell,) if name_class is None else (length_cell, LENGTH_BUCKETS + name_class)


def lexicon_features(tokens: Sequence[str]) -> torch.Tensor:
    """A (len(tokens), WIDTH) float tensor in [0, 1]; 0 where no dictionary word plays that part.

    Tokens are joined; a multi-character token takes the features of its first character.
    """
    text = "".join(tokens)
    frequencies = segmenter().FREQ  # every word and every prefix of one (prefixes count 0)
    classes = _name_classes()
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
            cells = _cells(end - start, classes.get(text[start:end]))
            for position, role in ((start, 0), (end - 1, 2), *((p, 1) for p in range(start + 1, end - 1))):
                for cell in cells:
                    index = position * WIDTH + role * CELLS_PER_ROLE + cell
                    if values[index] < strength:
                        values[index] = strength
    per_char = torch.tensor(values, dtype=torch.float32).view(len(text), WIDTH)
    if len(text) == len(tokens):
        return per_char
    starts = torch.tensor(list(accumulate((len(t) for t in tokens[:-1]), initial=0)))
    return per_char[starts]
