"""Pretrained vectors from word2vec/GloVe text files, copied into a model's embedding tables.

The user brings the file; nothing is downloaded.  Only rows for items in the model's vocabulary
are read, so a multi-GB file costs one pass and little memory.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Callable

import torch
from torch import nn

from .errors import InputError
from .vocab import Vocab

if TYPE_CHECKING:
    from .features import FeatureEncoder


def read_vectors(
    path: str | Path, wanted: set[str], normalize: Callable[[str], str] = lambda s: s
) -> tuple[int, dict[str, list[float]]]:
    """Vectors of the ``wanted`` items (the file's words after ``normalize``) and the file's dimension.

    A word2vec ``count dim`` header is skipped; when two file words normalize alike the first wins.
    """
    source = str(path)
    vectors: dict[str, list[float]] = {}
    dim = 0
    try:
        handle = open(path, encoding="utf-8", errors="strict")
    except OSError as error:
        raise InputError(source, None, error.strerror or str(error)) from None
    with handle:
        try:
            for number, line in enumerate(handle, start=1):
                parts = line.rstrip("\r\n").split(" ")
                if number == 1 and len(parts) == 2 and all(p.isdigit() for p in parts):
                    continue
                if len(parts) < 2 or parts == [""]:
                    continue
                width = len(parts) - 1 - (parts[-1] == "")
                if dim == 0:
                    dim = width
                elif width != dim:
                    raise InputError(source, number, f"expected {dim} numbers after the word, got {width}")
                item = normalize(parts[0])
                if item in wanted and item not in vectors:
                    try:
                        vectors[item] = [float(x) for x in parts[1 : 1 + dim]]
                    except ValueError:
                        raise InputError(source, number, "a vector value is not a number") from None
        except UnicodeDecodeError:
            raise InputError(source, None, "not UTF-8 text") from None
    if dim == 0:
        raise InputError(source, None, "no vectors found: expected lines of a word and its numbers")
    return dim, vectors


def initialize(
    table: nn.Embedding, vocab: Vocab, path: str | Path, normalize: Callable[[str], str] = lambda s: s
) -> int:
    """Copy vectors from ``path`` into the rows of ``table`` whose vocabulary item has one.

    ``normalize`` maps the file's words to the vocabulary's form.  Returns how many rows were set.
    """
    wanted = {item: index for index, item in enumerate(vocab.items) if index >= 2}
    dim, vectors = read_vectors(path, set(wanted), normalize)
    if dim != table.embedding_dim:
        raise InputError(str(path), None, f"vectors have {dim} dimensions but the table has {table.embedding_dim}; set the matching --*-dim option")
    with torch.no_grad():
        for item, index in wanted.items():
            if item in vectors:
                table.weight[index] = torch.tensor(vectors[item])
    return sum(item in vectors for item in wanted)


def pretrained_targets(net: nn.Module, features: "FeatureEncoder") -> dict[str, tuple[nn.Embedding, Vocab, Callable[[str], str]]]:
    """The tables that ``--embeddings``, ``--char-embeddings`` and ``--bigram-embeddings`` fill.

    For character-unit models the characters are the tokens, and "words" are the segmenter's words.
    """
    from .features import feature_form

    def word(text: str) -> str:
        return features.word_key(feature_form(text))

    def bigram(text: str) -> str:
        return "\t".join(word(c) for c in text) if len(text) == 2 else ""

    targets: dict[str, tuple[nn.Embedding, Vocab, Callable[[str], str]]] = {}
    if features.config.token_unit == "char":
        targets["chars"] = (net.word_embedding, features.words, word)
        if net.segment_embedding is not None and features.segments is not None:
            targets["words"] = (net.segment_embedding, features.segments, word)
    else:
        targets["words"] = (net.word_embedding, features.words, word)
        if net.char_encoder is not None and features.chars is not None:
            targets["chars"] = (net.char_encoder.embedding, features.chars, feature_form)
    if net.bigram_embedding is not None and features.bigrams is not None:
        targets["bigrams"] = (net.bigram_embedding, features.bigrams, bigram)
    return targets
