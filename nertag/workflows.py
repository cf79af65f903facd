"""The jobs behind the CLI as plain typed functions: train from files, tag text, score files.

They raise :class:`~nertag.conll.InputError` or :class:`~nertag.serialize.ModelError` for bad input
and never print; the CLI turns those into one-line messages.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from dataclasses import asdict
from typing import Callable, Iterable, Iterator, Protocol, Sequence, TextIO

from .checkpoint import checkpoint_path
from .config import ModelConfig, TrainConfig
from .conll import InputError, Sentence, corpus_scheme, parse_conll, read_conll
from .routing import ModelChoice
from .safe_write import check_folder_target, open_output, remove_own_folder
from .schemes import Scheme, convert, spans
from .scoring import Report, score
from .serialize import WEIGHTS_DTYPES, save
from .tagger import Entity, Tagger
from .train import EpochLog, train

SCORE_CHUNK = 1000  # sentences tagged between progress updates


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

    ``out_dir`` and the checkpoint folder are checked before anything is read or trained: each must
    be absent, empty, or an earlier nertag model (checkpoint), so no file of the user's is lost.
    """
    if weights_dtype not in WEIGHTS_DTYPES:
        raise ValueError(f"weights_dtype: expected one of {', '.join(WEIGHTS_DTYPES)}, got {weights_dtype!r}")
    if dev_path is None and not 0.0 < dev_fraction < 1.0:
        raise ValueError(f"give --dev, or a --dev-fraction between 0 and 1 (got {dev_fraction})")
    model_folder = check_folder_target(out_dir, kind="model")
    checkpoint = checkpoint_path(model_folder)
    if not resume:
        check_folder_target(checkpoint, kind="checkpoint")
    train_sentences = read_conll(train_path, tag_column)
    if dev_path is not None:
        dev_sentences = read_conll(dev_path, tag_column)
        _check_labels(train_sentences, dev_sentences, dev_path)
        dev_name = os.path.basename(dev_path)
    else:
        train_sentences, dev_sentences = hold_out(train_sentences, dev_fraction, settings.seed)
        dev_name = f"{dev_fraction:g} of {os.path.basename(train_path)} held out with seed {settings.seed}"
    config = configure(train_sentences)
    job = {
        "train": train_path, "dev": dev_path, "out": out_dir, "tag_column": tag_column, "dev_fraction": dev_fraction,
        "weights_dtype": weights_dtype, "pretrained": pretrained or {},
    }
    tagger, history = train(
        train_sentences, dev_sentences, config, settings, on_epoch, progress, pretrained,
        checkpoint=checkpoint, resume=resume, should_stop=should_stop, job=job,
    )
    if not history:
        raise ValueError(f"{checkpoint}: this run has no finished epoch to save")
    best = max(history, key=lambda e: e.f1)
    save(
        tagger,
        model_folder,
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
    remove_own_folder(checkpoint, kind="checkpoint")
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


class Progress(Protocol):
    """What tagging reports as it goes (a tqdm bar on a terminal): records done, characters in postfix."""

    def update(self, n: int) -> object: ...

    def set_postfix_str(self, text: str) -> object: ...


def tag_lines(
    tagger: Tagger | ModelChoice,
    lines: Sequence[str],
    out: TextIO,
    output_format: str,
    min_confidence: float = 0.0,
    nbest: int = 0,
) -> None:
    """Tag each line as one document and write one record per line, dropping less confident entities.

    With ``nbest`` (jsonl only) each record lists, per sentence, the most probable labellings.
    """
    choice = tagger if isinstance(tagger, ModelChoice) else ModelChoice.of(tagger)
    tag_stream([lines], choice, out, output_format, min_confidence, nbest)


def tag_stream(
    chunks: Iterable[Sequence[str]],
    models: ModelChoice,
    out: TextIO,
    output_format: str,
    min_confidence: float = 0.0,
    nbest: int = 0,
    progress: Progress | None = None,
) -> None:
    """Tag chunks of lines (one document a line) as they come, writing each chunk's records in input
    order and flushing them before the next chunk is read, so a pipe's reader sees them at once.

    jsonl records name the model that tagged them. ``html`` writes one page whose legend lists every
    label the models can give.
    """
    if nbest and output_format != "jsonl":
        raise ValueError("--nbest writes jsonl; add --format jsonl")
    colours: dict[str, str] | None = None
    started = time.perf_counter()
    characters = 0
    for lines in chunks:
        if output_format == "html" and colours is None:
            from .html import label_colours, looks_chinese_page, page_start

            labels = models.labels()
            colours = label_colours(labels)
            out.write(page_start(labels, looks_chinese_page(lines)))
        if nbest:
            _write_readings(lines, models, out, nbest)
        else:
            for line, (name, found) in zip(lines, models.tag(lines)):
                entities = [e for e in found if e.confidence is None or e.confidence >= min_confidence]
                _write_record(line, name, entities, models, out, output_format, colours)
        out.flush()
        if progress is not None:
            characters += sum(map(len, lines))
            progress.update(len(lines))
            progress.set_postfix_str(f"{characters / max(time.perf_counter() - started, 1e-9):,.0f} chars/s")
    if output_format == "html":
        from .html import page_end, page_start

        if colours is None:  # no input at all: still a whole page
            out.write(page_start(models.labels(), False))
        out.write(page_end())
        out.flush()


def _write_readings(lines: Sequence[str], models: ModelChoice, out: TextIO, nbest: int) -> None:
    for line, name in zip(lines, models.name_of_each(lines)):
        sentences = [[r.to_json() for r in readings] for readings in models.tagger(name).readings(line, nbest)]
        out.write(json.dumps({"text": line, "sentences": sentences, "model": name}, ensure_ascii=False) + "\n")


def _write_record(
    line: str, name: str, entities: Sequence[Entity], models: ModelChoice, out: TextIO, output_format: str,
    colours: dict[str, str] | None,
) -> None:
    if output_format == "jsonl":
        record = {"text": line, "entities": [e.to_json() for e in entities], "model": name}
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
    elif output_format == "html":
        from .html import render_document

        assert colours is not None
        out.write(render_document(line, entities, colours))
    else:
        _write_token_tags(models.tagger(name), line, entities, out)


def _write_token_tags(tagger: Tagger, line: str, entities: Sequence[Entity], out: TextIO) -> None:
    tags: dict[int, str] = {}
    for entity in entities:
        tags[entity.start] = f"B-{entity.label}"
        for position in range(entity.start + 1, entity.end):
            tags[position] = f"I-{entity.label}"
    for sentence in tagger.tokenize(line):
        for start, end in sentence:
            out.write(f"{line[start:end]} {tags.get(start, 'O')}\n")
    out.write("\n")


def conll_sentence_chunks(line_chunks: Iterable[Sequence[str]], source: str) -> Iterator[list[Sentence]]:
    """Untagged column input as chunks of whole sentences, cut at blank lines as the lines arrive;
    errors name the line in the whole input."""
    pending: list[str] = []
    first_line = 1  # input line number of pending[0]
    found = 0
    for lines in line_chunks:
        pending.extend(lines)
        last_blank = max((i for i, line in enumerate(pending) if not line.strip(" \t\r\f\v")), default=-1)
        if last_blank < 0:
            continue
        complete, pending = pending[: last_blank + 1], pending[last_blank + 1 :]
        sentences = _parse_block(complete, source, first_line)
        first_line += len(complete)
        if sentences:
            found += len(sentences)
            yield sentences
    sentences = _parse_block(pending, source, first_line)
    if sentences:
        found += len(sentences)
        yield sentences
    if not found:
        raise InputError(source, None, "no sentences: the input is empty or holds only blank lines")


def _parse_block(lines: Sequence[str], source: str, first_line: int) -> list[Sentence]:
    if all(not line.strip(" \t\r\f\v") for line in lines):
        return []
    try:
        sentences = parse_conll("\n".join(lines), source, require_tags=False)
    except InputError as error:
        line = None if error.line is None else error.line + first_line - 1
        raise InputError(source, line, error.message) from None
    return [Sentence(s.tokens, s.tags, s.line + first_line - 1) for s in sentences]


def tag_conll(models: Tagger | ModelChoice, sentences: Sequence[Sentence], out: TextIO, output_format: str) -> None:
    """Tag pre-tokenized sentences; without a named model each goes to the default of its language."""
    choice = models if isinstance(models, ModelChoice) else ModelChoice.of(models)
    predicted: list[list[str]] = [[] for _ in sentences]
    names = [""] * len(sentences)
    for name, indices in choice.group(["".join(sentences[i].tokens) for i in range(len(sentences))]).items():
        for index, tags in zip(indices, choice.tagger(name).predict([sentences[i].tokens for i in indices])):
            predicted[index], names[index] = tags, name
    for sentence, tags, name in zip(sentences, predicted, names):
        if output_format == "jsonl":
            record = {"tokens": list(sentence.tokens), "tags": tags, "model": name}
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
        else:
            for token, tag in zip(sentence.tokens, tags):
                out.write(f"{token} {tag}\n")
            out.write("\n")
    out.flush()


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
    progress: Progress | None = None,
) -> Report:
    """Score a prediction file, or the model's own tagging of the gold tokens, against gold.

    With ``errors_path``, sentences whose entities differ are written there, gold and predicted side by side.
    In strict mode a model's predictions (well-formed spans) are written in gold's scheme, which
    loses nothing; a prediction file is compared as it is.
    """
    gold = read_conll(gold_path, tag_column)
    if tagger is not None:
        unknown = {t[2:] for s in gold for t in s.tags if t != "O"} - set(tagger.labels)
        if unknown:
            raise InputError(gold_path, None, f"labels the model does not know: {', '.join(sorted(unknown))}")
        predicted_tags = []
        for first in range(0, len(gold), SCORE_CHUNK):
            chunk = gold[first : first + SCORE_CHUNK]
            predicted_tags.extend(tagger.predict([s.tokens for s in chunk]))
            if progress is not None:
                progress.update(len(chunk))
        if mode == "strict":
            scheme = corpus_scheme(gold)
            predicted_tags = [convert(tags, scheme) for tags in predicted_tags]
    else:
        assert pred_path is not None
        predicted = read_conll(pred_path, tag_column)
        aligned(gold, predicted, gold_path, pred_path)
        predicted_tags = [list(s.tags) for s in predicted]
    if errors_path is not None:
        with open_output(errors_path, sys.stdout) as out:
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
