"""Word segmentation for character-unit text, through jieba, as per-token (word, place) features."""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Sequence

import jieba

# Places of a token in its word; 0 is padding.
BEGIN, MIDDLE, END, SINGLE = 1, 2, 3, 4


@lru_cache(maxsize=1)
def segmenter() -> jieba.Tokenizer:
    """jieba's tokenizer with its dictionary loaded (once; it takes about 0.7 s)."""
    jieba.setLogLevel(logging.WARNING)  # its dictionary loader otherwise logs to stderr
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    return tokenizer


def segment(tokens: Sequence[str]) -> list[tuple[str, int]]:
    """For each token, the segmenter's word that holds its first character and its place in that word.

    Tokens are joined into one string for the segmenter, so a multi-character token may straddle
    words; it then belongs to the word of its first character.
    """
    text = "".join(tokens)
    if len(text) == len(tokens):  # one character a token, the usual case: no mapping needed
        result: list[tuple[str, int]] = []
        for word in segmenter().cut(text, HMM=True):
            if len(word) == 1:
                result.append((word, SINGLE))
            else:
                result.append((word, BEGIN))
                result.extend([(word, MIDDLE)] * (len(word) - 2))
                result.append((word, END))
        return result
    owner: list[int] = []  # token index of every character of the joined text
    starts: list[int] = []  # character offset of every token
    for index, token in enumerate(tokens):
        starts.append(len(owner))
        owner.extend([index] * len(token))
    word_of: list[tuple[str, int, int]] = []  # (word, first token, last token) for every character
    position = 0
    for word in segmenter().cut(text, HMM=True):
        span = (word, owner[position], owner[position + len(word) - 1])
        word_of.extend([span] * len(word))
        position += len(word)
    result = []
    for index, start in enumerate(starts):
        word, first, last = word_of[start]
        if first == last:
            place = SINGLE
        elif index == first:
            place = BEGIN
        elif index == last:
            place = END
        else:
            place = MIDDLE
        result.append((word, place))
    return result
