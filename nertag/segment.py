"""Word segmentation for character-unit text, through jieba, as per-token (word, place) features.

jieba's algorithm and dictionary run in rjieba, the Rust port: its dictionary is compiled in
(0.07 s to import against Python jieba's 0.4 s dictionary load) and it cuts about 10x faster.
It cuts MSRA's 2.3M characters exactly as Python jieba 0.42.1 does; it keeps dates and ranges
like 2003-04 whole where Python jieba splits them at the hyphen.
"""

from __future__ import annotations

import re
from typing import Sequence

import rjieba

# Places of a token in its word; 0 is padding.
BEGIN, MIDDLE, END, SINGLE = 1, 2, 3, 4


_SURROGATE = re.compile("[\ud800-\udfff]")


def cut(text: str) -> list[str]:
    """jieba's words of ``text`` (with its HMM for unknown words); they join back to ``text``.

    A lone surrogate (from ``surrogateescape`` decoding, or ``\\udc80`` in JSON) cannot cross into
    Rust; it is cut as U+FFFD would be, and the words are taken back from ``text`` itself.
    """
    try:
        return rjieba.cut(text, True)
    except UnicodeEncodeError:
        words, start = [], 0
        for word in rjieba.cut(_SURROGATE.sub("\ufffd", text), True):
            words.append(text[start : start + len(word)])
            start += len(word)
        return words


def segment(tokens: Sequence[str]) -> list[tuple[str, int]]:
    """For each token, the segmenter's word that holds its first character and its place in that word.

    Tokens are joined into one string for the segmenter, so a multi-character token may straddle
    words; it then belongs to the word of its first character.
    """
    text = "".join(tokens)
    if len(text) == len(tokens):  # one character a token, the usual case: no mapping needed
        result: list[tuple[str, int]] = []
        for word in cut(text):
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
    for word in cut(text):
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
