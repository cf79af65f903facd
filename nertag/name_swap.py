"""Extra training sentences whose entity names are swapped for other names of the same type, drawn
from a list of names (``name<TAB>LABEL`` lines, the format of ``--dictionary``).

Why: in MSRA and CLUENER nearly every entity's own characters, bigrams and words are seen in
training, so a model learns names by heart and barely reads the context or the lexicon's classes.
Today's companies and brands (腾讯, 华为) then go unfound. A copy of a sentence with 腾讯 where 新华社
stood teaches the model both the new name and that the context, not the name, says ORG. The copies
are drawn once, with the run's seed, so a resumed run trains on the same sentences.
"""

from __future__ import annotations

import logging
import numbers
import os
import random
from dataclasses import replace
from typing import Mapping, Sequence

from .conll import Sentence
from .dictionary import read_entries
from .errors import InputError
from .schemes import Scheme, Span, spans, to_tags

log = logging.getLogger(__name__)

DEFAULT_SWAP_RATE = 0.3  # the share one fine-tuning of zh-general was tried with (BENCHMARKS.md)


def read_names(path: str | os.PathLike, char_unit: bool) -> dict[str, list[str]]:
    """The names of a ``name<TAB>LABEL`` file by label, each once, in file order, stripped of
    surrounding spaces. As with ``--dictionary``, a later entry for a name replaces an earlier one.
    A character-unit model reads no space inside a token, so there names holding one are left out."""
    labels: dict[str, str] = {}
    spaced = 0
    for name, label in read_entries(path):
        name = name.strip()
        if char_unit and any(c.isspace() for c in name):
            spaced += 1
            continue
        labels.pop(name, None)  # the later entry's place in the file
        labels[name] = label
    named: dict[str, list[str]] = {}
    for name, label in labels.items():
        named.setdefault(label, []).append(name)
    if not named:
        why = f" (its {spaced} names hold spaces, which a character-unit model cannot read)" if spaced else ""
        raise InputError(os.fspath(path), None, f"holds no name to swap in{why}")
    if spaced:
        log.info("%s: %d names holding spaces left out (a character-unit model reads none)", os.fspath(path), spaced)
    return named


def check_swap_rate(rate: object) -> float:
    """The share of sentences to copy, as a float; refused unless a number in (0, 1]."""
    if isinstance(rate, bool) or not isinstance(rate, numbers.Real) or not 0 < rate <= 1:
        raise ValueError(f"swap_rate: expected a number in (0, 1], got {rate!r}")
    return float(rate)


def swap_settings(names: str | os.PathLike | None, rate: object) -> tuple[str | None, float | None]:
    """The names list and share of a run, checked before anything is read: a share needs a list,
    and a list without a share gets :data:`DEFAULT_SWAP_RATE`."""
    if names is None:
        if rate is not None:
            raise ValueError(f"swap_rate {rate!r} needs swap_names, the list of names to swap in")
        return None, None
    return os.fspath(names), check_swap_rate(DEFAULT_SWAP_RATE if rate is None else rate)


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
