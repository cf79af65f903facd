"""Raw text to tokens with character offsets, and long documents to bounded sentences.

Tokens are ``(start, end)`` offsets into the original string, so output always indexes the input
exactly, whatever the tokenizer did.
"""

from __future__ import annotations

import re

Offsets = list[tuple[int, int]]

# Words with inner hyphens/apostrophes/periods ("U.S.", "O'Neil", "co-operate"), numbers with
# separators, or any other single non-space character.
_WORD = re.compile(r"(?:[^\W_]\.){2,}|\d+(?:[.,:/-]\d+)+|\w+(?:['’-]\w+)*|[^\w\s]|_", re.UNICODE)
_CHAR = re.compile(r"[^\s\x00-\x1f\x7f-\x9f]")  # \s is str.isspace; the ranges are category Cc
_SENTENCE_END = frozenset("。！？；!?;…")
_CJK_RANGES = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x2FA1F))


def is_cjk(char: str) -> bool:
    code = ord(char)
    return any(low <= code <= high for low, high in _CJK_RANGES)


def looks_chinese(text: str, sample: int = 2000) -> bool:
    """True when CJK ideographs make up a good share of the letters in (the start of) ``text``."""
    letters = [c for c in text[:sample] if c.isalpha()]
    return bool(letters) and sum(map(is_cjk, letters)) >= 0.3 * len(letters)


def char_tokens(text: str) -> Offsets:
    """One token per character that is neither space nor a control character (category Cc).

    Chinese models read text this way. A regular expression finds them several times faster than
    a Python loop; ``_CHAR`` and the loop are checked to agree in the tests.
    """
    return [m.span() for m in _CHAR.finditer(text)]


def word_tokens(text: str) -> Offsets:
    """Words and punctuation, CoNLL style."""
    return [m.span() for m in _WORD.finditer(text)]


def sentences(text: str, tokens: Offsets, max_tokens: int, unit: str) -> list[Offsets]:
    """Group tokens into sentences: after sentence-final punctuation, and at most ``max_tokens`` long."""
    enders = _SENTENCE_END | ({"."} if unit == "word" else set())
    groups: list[Offsets] = []
    current: Offsets = []
    for start, end in tokens:
        current.append((start, end))
        if text[start:end] in enders or len(current) >= max_tokens:
            groups.append(current)
            current = []
    if current:
        groups.append(current)
    return groups
