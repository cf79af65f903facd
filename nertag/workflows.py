"""The jobs behind the CLI as plain typed functions: train from files, tag text, score files.

They raise :class:`~nertag.conll.InputError` or :class:`~nertag.serialize.ModelError` for bad input
and never print; the CLI turns those into one-line messages.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import sys
import tempfile
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Callable, Iterator, Sequence, TextIO

from .checkpoint import checkpoint_path
from .config import ModelConfig, TrainConfig
from .conll import InputError, Sentence, corpus_scheme, read_conll
from .schemes import Scheme, convert, spans
from .scoring import Report, score
from .serialize import save
from .tagger import Tagger
from .train import EpochLog, train


def train_from_files(
    train_path: str,
    dev_path: str | None,
    out_dir: str,
    configure: Callable[[Sequence[Sentence]], ModelConfig],
    settings: TrainConfig,
    tag_column: int = -1,
    on_epoch: Callable[[EpochLog], None] | None = None,
    progress: bool = False,
    dev_fraction: float = 0.0,
    weights_dtype: str = "float32",
    pretrained: dict[str, str] | None = None,
    resume: bool = False,
    should_stop: Callable[[], bool] = lambda: False,
) -> tuple[Tagger, list[EpochLog]]:
    """Read both corpora, train, and save the best epoch's model to ``out_dir``.

    The run keeps a checkpoint in ``<out_dir>.checkpoint`` after every epoch, removed once the model
    is saved; ``resume`` continues from it.

    ``configure`` picks the model settings from the training sentences (defaults depend on them).
    Without ``dev_path``, a ``dev_fraction`` of the training sentences, drawn with the training
    seed, is held out as dev.
    """
    train_sentences = read_conll(train_path, tag_column)
    if dev_path is not None:
        dev_sentences = read_conll(dev_path, tag_column)
        _check_labels(train_sentences, dev_sentences, dev_path)
        dev_name = os.path.basename(dev_path)
    else:
        train_sentences, dev_sentences = hold_out(train_sentences, dev_fraction, settings.seed)
        dev_name = f"{dev_fraction:g} of {os.path.basename(train_path)} held out with seed {settings.seed}"
    config = configure(train_sentences)
    checkpoint = checkpoint_path(out_dir)
    job = {
        "train": train_path, "dev": dev_path, "out": out_dir, "tag_column": tag_column, "dev_fraction": dev_fraction,
        "weights_dtype": weights_dtype, "pretrained": pretrained or {},
    }
    tagger, history = train(
        train_sentences, dev_sentences, config, settings, on_epoch, progress, pretrained,
        checkpoint=checkpoint, resume=resume, should_stop=should_stop, job=job,
    )
    best = max(history, key=lambda e: e.f1)
    save(
        tagger,
        out_dir,
        extra={
            "training": {
                "train": os.path.basename(train_path),
                "dev": dev_name,
                "corpus_scheme": corpus_scheme(train_sentences).value,
                "best_epoch": best.epoch,
                "epochs_run": len(history),
                "dev_f1": round(best.f1, 6),
                "settings": asdict(settings),
                "history": [
                    {"epoch": e.epoch, "loss": round(e.loss, 6), "dev_f1": round(e.f1, 6), "seconds": round(e.seconds, 2)}
                    for e in history
                ],
                "pretrained": {k: os.path.basename(v) for k, v in (pretrained or {}).items()},
            }
        },
        weights_dtype=weights_dtype,
    )
    shutil.rmtree(checkpoint, ignore_errors=True)
    return tagger, history


def hold_out(sentences: Sequence[Sentence], fraction: float, seed: int) -> tuple[list[Sentence], list[Sentence]]:
    """Split off a seeded random ``fraction`` of the sentences: (rest, held out)."""
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"give --dev, or a --dev-fraction between 0 and 1 (got {fraction})")
    order = list(range(len(sentences)))
    random.Random(seed).shuffle(order)
    cut = max(1, round(fraction * len(sentences)))
    held = set(order[:cut])
    return [s for i, s in enumerate(sentences) if i not in held], [sentences[i] for i in sorted(held)]


def _check_labels(train_sentences: Sequence[Sentence], other: Sequence[Sentence], source: str) -> None:
    known = {t[2:] for s in train_sentences for t in s.tags if t != "O"}
    for sentence in other:
        for offset, tag in enumerate(sentence.tags):
            if tag != "O" and tag[2:] not in known:
                raise InputError(source, sentence.line + offset, f"label {tag[2:]!r} does not occur in the training file")


def read_lines(data: str) -> list[str]:
    """Split text into lines on LF only, dropping each line's CR and the final newline's empty tail."""
    lines = data.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def tag_lines(
    tagger: Tagger,
    lines: Sequence[str],
    out: TextIO,
    output_format: str,
    min_confidence: float = 0.0,
    nbest: int = 0,
) -> None:
    """Tag each line as one document and write one record per line, dropping less confident entities.

    With ``nbest`` (jsonl only) each record lists, per sentence, the most probable labellings.
    """
    if nbest:
        if output_format != "jsonl":
            raise ValueError("--nbest writes jsonl; add --format jsonl")
        for line in lines:
            sentences = [[r.to_json() for r in readings] for readings in tagger.readings(line, nbest)]
            out.write(json.dumps({"text": line, "sentences": sentences}, ensure_ascii=False) + "\n")
        return
    page: list[tuple[str, list]] = []
    for start in range(0, len(lines), 2000):  # bounded memory for long inputs
        chunk = lines[start : start + 2000]
        for line, found in zip(chunk, tagger.tag_many(chunk)):
            entities = [e for e in found if e.confidence is None or e.confidence >= min_confidence]
            if output_format == "html":
                page.append((line, entities))
                continue
            if output_format == "jsonl":
                record = {"text": line, "entities": [e.to_json() for e in entities]}
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
            else:
                _write_token_tags(tagger, line, entities, out)
    if output_format == "html":
        from .html import render

        out.write(render(page, tagger.labels))


def _write_token_tags(tagger: Tagger, line: str, entities: Sequence, out: TextIO) -> None:
    tags: dict[int, str] = {}
    for entity in entities:
        tags[entity.start] = f"B-{entity.label}"
        for position in range(entity.start + 1, entity.end):
            tags[position] = f"I-{entity.label}"
    for sentence in tagger.tokenize(line):
        for start, end in sentence:
            out.write(f"{line[start:end]} {tags.get(start, 'O')}\n")
    out.write("\n")


def tag_conll(tagger: Tagger, sentences: Sequence[Sentence], out: TextIO, output_format: str) -> None:
    """Tag pre-tokenized sentences."""
    predicted = tagger.predict([s.tokens for s in sentences])
    for sentence, tags in zip(sentences, predicted):
        if output_format == "jsonl":
            out.write(json.dumps({"tokens": list(sentence.tokens), "tags": tags}, ensure_ascii=False) + "\n")
        else:
            for token, tag in zip(sentence.tokens, tags):
                out.write(f"{token} {tag}\n")
            out.write("\n")


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


def score_files(
    gold_path: str,
    pred_path: str | None,
    tagger: Tagger | None,
    mode: str,
    tag_column: int = -1,
    errors_path: str | None = None,
) -> Report:
    """Score a prediction file, or the model's own tagging of the gold tokens, against gold.

    With ``errors_path``, sentences whose entities differ are written there, gold and predicted side by side.
    """
    gold = read_conll(gold_path, tag_column)
    if tagger is not None:
        unknown = {t[2:] for s in gold for t in s.tags if t != "O"} - set(tagger.labels)
        if unknown:
            raise InputError(gold_path, None, f"labels the model does not know: {', '.join(sorted(unknown))}")
        predicted_tags = tagger.predict([s.tokens for s in gold])
    else:
        assert pred_path is not None
        predicted = read_conll(pred_path, tag_column)
        aligned(gold, predicted, gold_path, pred_path)
        predicted_tags = [list(s.tags) for s in predicted]
    if errors_path is not None:
        with atomic_output(errors_path, sys.stdout) as out:
            write_errors(gold, predicted_tags, gold_path, out)
    return score([list(s.tags) for s in gold], predicted_tags, mode)


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


@contextmanager
def atomic_output(path: str | None, stdout: TextIO) -> Iterator[TextIO]:
    """Write to ``path`` through a temporary file renamed on success, so no partial file is left."""
    if path is None or path == "-":
        yield stdout
        return
    target = Path(path)
    handle = tempfile.NamedTemporaryFile(
        "w", encoding="utf-8", newline="\n", dir=target.parent or ".", prefix=f".{target.name}.", delete=False
    )
    try:
        with handle:
            yield handle
        os.replace(handle.name, target)
    except BaseException:
        os.unlink(handle.name)
        raise
