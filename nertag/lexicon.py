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
from itertools import accumulate
from typing import Sequence

import torch

from .word_table import MAX_LENGTH as MAX_WORD_LENGTH
from .word_table import NAME_CLASSES, shipped

ROLES = 3  # begin, middle, end
LENGTH_BUCKETS = 4  # 2, 3, 4, 5 or more characters
CELLS_PER_ROLE = LENGTH_BUCKETS + max(NAME_CLASSES.values()) + 1
WIDTH = ROLES * CELLS_PER_ROLE


@lru_cache(maxsize=1)
def _scale() -> float:
    return math.log(shipped().total)


def lexicon_features(sentences: Sequence[Sequence[str]]) -> torch.Tensor:
    """A (total tokens, WIDTH) float tensor in [0, 1] for the sentences' tokens in order; 0 where no
    dictionary word plays that part. Words never cross sentences.

    Tokens are joined; a multi-character token takes the features of its first character.
    """
    table = shipped().values  # every word and every prefix of one (prefixes are 0)
    starts: list[int] = []  # of each dictionary word found, in the concatenated text
    lengths: list[int] = []
    counts: list[int] = []
    name_classes: list[int] = []  # -1 for words that are not names
    token_starts: list[int] = []  # character offset of each token in the concatenated text
    offset = 0
    for tokens in sentences:
        text = "".join(tokens)
        for start in range(len(text)):
            for end in range(start + 2, min(len(text), start + MAX_WORD_LENGTH) + 1):
                value = table.get(text[start:end])
                if value is None:
                    break  # not even a prefix of a word: no longer match can start here
                if value >= 8:  # a word with a count of at least 1
                    starts.append(offset + start)
                    lengths.append(end - start)
                    counts.append(value >> 3)  # WordTable.count and .name_class, inline in this hot loop
                    name_classes.append((value & 7) - 1)
        token_starts.extend(accumulate((len(t) for t in tokens[:-1]), initial=offset) if tokens else ())
        offset += len(text)
    per_char = _scatter_strongest(offset, starts, lengths, counts, name_classes)
    if len(token_starts) == offset:
        return per_char
    return per_char[torch.tensor(token_starts, dtype=torch.long)]


def _scatter_strongest(
    num_chars: int, starts: list[int], lengths: list[int], counts: list[int], name_classes: list[int]
) -> torch.Tensor:
    """Each cell the strongest word that reaches it, with one vectorized max over every character
    of every word (the per-character Python loop this replaces was most of the time)."""
    values = torch.zeros(num_chars * WIDTH)
    if not starts:
        return values.view(num_chars, WIDTH)
    length = torch.tensor(lengths)
    strength = (torch.log(torch.tensor(counts, dtype=torch.float64) + 1) / _scale()).float()
    name_class = torch.tensor(name_classes)
    word_of_char = torch.repeat_interleave(torch.arange(len(starts)), length)
    first_char = torch.cumsum(length, 0) - length
    inside = torch.arange(len(word_of_char)) - first_char[word_of_char]  # place within the word
    word_length = length[word_of_char]
    role = torch.where(inside == 0, 0, torch.where(inside == word_length - 1, 2, 1))
    base = (torch.tensor(starts)[word_of_char] + inside) * WIDTH + role * CELLS_PER_ROLE
    length_cells = base + word_length.clamp(max=5) - 2
    char_class = name_class[word_of_char]
    char_strength = strength[word_of_char]
    is_name = char_class >= 0
    class_cells = base[is_name] + LENGTH_BUCKETS + char_class[is_name]
    index = torch.cat([length_cells, class_cells])
    source = torch.cat([char_strength, char_strength[is_name]])
    values.scatter_reduce_(0, index, source, reduce="amax")
    return values.view(num_chars, WIDTH)
