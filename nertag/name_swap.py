"""Extra training sentences whose entity names are swapped for other names of the same type, drawn
from a list of names (``name<TAB>LABEL`` lines, the format of ``--dictionary``).

Why: in MSRA and CLUENER nearly every entity's own characters, bigrams and words are seen in
training, so a model learns names by heart and barely reads the context or the lexicon's classes.
Today's companies and brands (腾讯, 华为) then go unfound. A copy of a sentence with 腾讯 where 新华社
stood teaches the model both the new name and that the context, not the name, says ORG. The copies
are drawn once, with the run's seed, so a resumed run trains on the same sentences.
"""

from __future__ import annotations

import os
import random
from dataclasses import replace
from typing import Mapping, Sequence

from .conll import Sentence
from .dictionary import read_entries
from .errors import InputError
from .schemes import Scheme, Span, spans, to_tags


def read_names(path: str | os.PathLike, char_unit: bool) -> dict[str, list[str]]:
    """The names of a ``name<TAB>LABEL`` file by label, each once, in file order. A character-unit
    model reads no space inside a token, so there names holding whitespace are left out."""
    by_label: dict[str, dict[str, None]] = {}
    for name, label in read_entries(path):
        if char_unit and any(c.isspace() for c in name):
            continue
        by_label.setdefault(label, {})[name.strip()] = None
    named = {label: list(names) for label, names in by_label.items() if names}
    if not named:
        raise InputError(os.fspath(path), None, "holds no name a model of this kind can read")
    return named


def swapped_copies(
    sentences: Sequence[Sentence], names: Mapping[str, Sequence[str]], rate: float, seed: int, char_unit: bool
) -> list[Sentence]:
    """For a share ``rate`` of the sentences holding an entity of a label in ``names``, a copy with
    every such entity replaced by a name of its label drawn at random (other entities stay). The
    copy keeps its sentence's line and corpus (style); its tags are BIOES."""
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"swap rate: expected a number in [0, 1], got {rate!r}")
    pick = random.Random(seed)
    copies = []
    for sentence in sentences:
        entities = spans(sentence.tags)
        if not any(span.label in names for span in entities) or pick.random() >= rate:
            continue
        tokens: list[str] = []
        new_spans: list[Span] = []
        done = 0
        for span in entities:
            tokens.extend(sentence.tokens[done : span.start])
            start = len(tokens)
            if span.label in names:
                name = pick.choice(names[span.label])
                tokens.extend(list(name) if char_unit else name.split())
            else:
                tokens.extend(sentence.tokens[span.start : span.end])
            new_spans.append(Span(start, len(tokens), span.label))
            done = span.end
        tokens.extend(sentence.tokens[done:])
        copies.append(replace(sentence, tokens=tuple(tokens), tags=tuple(to_tags(new_spans, len(tokens), Scheme.BIOES))))
    return copies
