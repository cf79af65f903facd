"""``nertag score``: entity-level scores of a prediction file, or of a model's tagging, against gold."""

from __future__ import annotations

import dataclasses
import sys
from typing import Protocol, Sequence, TextIO

from ..breakdown import breakdown as error_breakdown
from ..conll import Sentence, read_conll, relabel_corpus
from ..errors import InputError
from ..safe_write import open_output
from ..schemes import Scheme, convert, labels_of, relabel, spans
from ..scoring import Report, score, strict_scheme
from ..tagger import Tagger

SCORE_CHUNK = 1000  # sentences tagged between progress updates


class Progress(Protocol):
    def update(self, n: int) -> object: ...


def score_files(
    gold_path: str,
    pred_path: str | None,
    tagger: Tagger | None,
    mode: str,
    tag_column: int = -1,
    errors_path: str | None = None,
    progress: Progress | None = None,
    label_map: dict[str, str] | None = None,
    breakdown: bool = False,
    encoding: str = "utf-8",
) -> Report:
    """Score a prediction file, or the model's own tagging of the gold tokens, against gold.

    With ``errors_path``, sentences whose entities differ are written there, gold and predicted side
    by side. In strict mode a model's predictions (well-formed spans) are written in gold's scheme,
    which loses nothing; a prediction file is compared as it is. ``label_map`` maps the labels of
    both files first (``O`` drops a label), e.g. to score a ten-type corpus on a three-type model.
    With ``breakdown`` the report also sorts the errors by kind (:mod:`nertag.breakdown`). Both
    files are read in ``encoding``.
    """
    gold = relabel_corpus(read_conll(gold_path, tag_column, encoding=encoding), label_map or {})
    gold_tags = [list(s.tags) for s in gold]
    if tagger is not None:
        predicted = predict_gold_tokens(tagger, gold, gold_path, progress, label_map or {})
        scored = [convert(tags, strict_scheme(gold_tags, gold_tags)) for tags in predicted] if mode == "strict" else predicted
    else:
        assert pred_path is not None
        predicted_sentences = relabel_corpus(read_conll(pred_path, tag_column, encoding=encoding), label_map or {})
        aligned(gold, predicted_sentences, gold_path, pred_path)
        predicted = scored = [list(s.tags) for s in predicted_sentences]
    if errors_path is not None:
        with open_output(errors_path, sys.stdout) as out:
            write_errors(gold, predicted, gold_path, out)
    report = score(gold_tags, scored, mode)
    if breakdown:
        report = dataclasses.replace(report, breakdown=error_breakdown(gold_tags, scored, mode))
    return report


def predict_gold_tokens(
    tagger: Tagger, gold: Sequence[Sentence], gold_path: str, progress: Progress | None, label_map: dict[str, str] | None = None
) -> list[list[str]]:
    """The model's BIO tags for the gold file's tokens, its labels mapped by ``label_map`` as the
    gold's are (a label mapped to O is dropped from both sides); gold labels the model cannot give
    are refused."""
    label_map = label_map or {}
    model_labels = {label_map.get(label, label) for label in tagger.labels} - {"O"}
    unknown = set(labels_of(t for s in gold for t in s.tags)) - model_labels
    if unknown:
        raise InputError(gold_path, None, f"labels the model does not know: {', '.join(sorted(unknown))}")
    predicted: list[list[str]] = []
    for first in range(0, len(gold), SCORE_CHUNK):
        chunk = gold[first : first + SCORE_CHUNK]
        found = tagger.predict([s.tokens for s in chunk])
        predicted.extend([relabel(tags, label_map, Scheme.BIO) for tags in found] if label_map else found)
        if progress is not None:
            progress.update(len(chunk))
    return predicted


def aligned(gold: Sequence[Sentence], predicted: Sequence[Sentence], gold_path: str, pred_path: str) -> None:
    """Refuse files that do not hold the same sentences and tokens, naming where they part."""
    for number, (g, p) in enumerate(zip(gold, predicted), start=1):
        if len(g.tokens) != len(p.tokens):
            raise InputError(
                pred_path, p.line,
                f"sentence {number} has {len(p.tokens)} tokens but {gold_path}:{g.line} has {len(g.tokens)}",
            )
        for offset, (a, b) in enumerate(zip(g.tokens, p.tokens)):
            if a != b:
                raise InputError(pred_path, p.line + offset, f"token {b!r} differs from {gold_path}:{g.line + offset} {a!r}")
    if len(gold) != len(predicted):
        raise InputError(pred_path, None, f"{len(predicted)} sentences, but {gold_path} has {len(gold)}")


def write_errors(gold: Sequence[Sentence], predicted: Sequence[Sequence[str]], gold_path: str, out: TextIO) -> int:
    """Write each sentence whose entity spans differ as ``token gold predicted`` lines; returns their count."""
    count = 0
    for sentence, tags in zip(gold, predicted):
        gold_bio = convert(sentence.tags, Scheme.BIO)
        if set(spans(gold_bio)) == set(spans(tags)):
            continue
        count += 1
        out.write(f"# {gold_path}:{sentence.line}\n")
        width = max(len(t) for t in sentence.tokens)
        for token, expected, got in zip(sentence.tokens, gold_bio, tags):
            flag = "" if expected == got else "  <--"
            out.write(f"{token:<{width}} {expected:<12} {got}{flag}\n")
        out.write("\n")
    return count
