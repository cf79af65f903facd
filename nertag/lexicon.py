"""Dictionary matches around each character, SoftLexicon-style, as a few dense numbers per token.

Segmentation commits to one reading of a sentence; a lexicon keeps them all. For each character we
look at every dictionary word (jieba's 349k-word dictionary, shipped as :mod:`nertag.word_table`)
that covers it and note, for each role the character can play in such a word (Begin, Middle, End)
and each word length (2, 3, 4, 5+), how frequent the most frequent such word is. SoftLexicon (Ma et al., 2020) averages
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
from itertools import chain
from typing import Sequence

import numpy as np
import torch

from .word_table import NAME_CLASSES, code_points, shipped

ROLES = 3  # begin, middle, end
LENGTH_BUCKETS = 4  # 2, 3, 4, 5 or more characters
CELLS_PER_ROLE = LENGTH_BUCKETS + max(NAME_CLASSES.values()) + 1
WIDTH = ROLES * CELLS_PER_ROLE


@lru_cache(maxsize=1)
def _scale() -> float:
    return math.log(shipped().total)


def lexicon_features(sentences: Sequence[Sequence[str]], classes: str = "jieba") -> torch.Tensor:
    """A (total tokens, WIDTH) float tensor in [0, 1] for the sentences' tokens in order; 0 where no
    dictionary word plays that part. Words never cross sentences. ``classes`` names the source of
    the words' name classes (:data:`~nertag.word_table.CLASS_SOURCES`).

    Tokens are joined; a multi-character token takes the features of its first character, and a
    token without characters gets zeros.
    """
    texts = ["".join(tokens) for tokens in sentences]
    codes = code_points("".join(texts))
    sentence_ends = np.cumsum([len(text) for text in texts], dtype=np.int64)
    ends = np.repeat(sentence_ends, [len(text) for text in texts])  # the end of each character's sentence
    starts, lengths, values = shipped(classes).index.find(codes, ends)
    per_char = _scatter_strongest(len(codes), starts, lengths, values)
    token_lengths = np.fromiter(map(len, chain.from_iterable(sentences)), dtype=np.int64)
    if len(token_lengths) == len(codes) and bool((token_lengths == 1).all()):
        return per_char
    first_chars = np.cumsum(token_lengths) - token_lengths
    first_chars[token_lengths == 0] = len(codes)  # the zero row added below
    padded = torch.cat([per_char, per_char.new_zeros(1, WIDTH)])
    return padded[torch.from_numpy(first_chars)]


def _scatter_strongest(num_chars: int, starts: np.ndarray, lengths: np.ndarray, packed: np.ndarray) -> torch.Tensor:
    """Each cell the strongest word that reaches it, with one vectorized max over every character
    of every word (the per-character Python loop this replaces was most of the time). ``packed``
    holds each word's count and name class (:class:`~nertag.word_table.WordTable`)."""
    values = torch.zeros(num_chars * WIDTH)
    if not len(starts):
        return values.view(num_chars, WIDTH)
    length = torch.from_numpy(lengths.astype(np.int64))
    counts = torch.from_numpy((packed >> 3).astype(np.float64))
    strength = (torch.log(counts + 1) / _scale()).float()
    name_class = torch.from_numpy((packed & 7).astype(np.int64) - 1)
    word_of_char = torch.repeat_interleave(torch.arange(len(starts)), length)
    first_char = torch.cumsum(length, 0) - length
    inside = torch.arange(len(word_of_char)) - first_char[word_of_char]  # place within the word
    word_length = length[word_of_char]
    role = torch.where(inside == 0, 0, torch.where(inside == word_length - 1, 2, 1))
    base = (torch.from_numpy(starts.astype(np.int64))[word_of_char] + inside) * WIDTH + role * CELLS_PER_ROLE
    length_cells = base + word_length.clamp(max=5) - 2
    char_class = name_class[word_of_char]
    char_strength = strength[word_of_char]
    is_name = char_class >= 0
    class_cells = base[is_name] + LENGTH_BUCKETS + char_class[is_name]
    index = torch.cat([length_cells, class_cells])
    source = torch.cat([char_strength, char_strength[is_name]])
    values.scatter_reduce_(0, index, source, reduce="amax")
    return values.view(num_chars, WIDTH)
