"""``nertag tag``: tag a stream of documents chunk by chunk and write each chunk's records at once."""

from __future__ import annotations

import time
from contextlib import closing
from itertools import chain, islice
from typing import Generator, Iterable, Iterator, Protocol, Sequence, TextIO

from ..conll import Sentence, parse_conll
from ..errors import InputError
from ..formats import ColumnLoss, RecordWriter
from ..merge import ExtraEntities
from ..parallel import ModelSpec, tag_in_workers
from ..routing import ModelChoice
from ..tagger import Tagger
from ..text_input import Opener, read_line_chunks


class Progress(Protocol):
    """What tagging reports as it goes (a tqdm bar on a terminal): documents done, speed in postfix."""

    def update(self, n: int) -> object: ...

    def set_postfix_str(self, text: str) -> object: ...


def read_lines(data: str) -> list[str]:
    """Split text into lines on LF only, dropping each line's CR and the final newline's empty tail."""
    lines = data.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def tag_lines(
    models: Tagger | ModelChoice, lines: Sequence[str], out: TextIO, output_format: str,
    min_confidence: float = 0.0, nbest: int = 0,
) -> None:
    """Tag lines held in memory, one document a line; see :func:`tag_stream`."""
    choice = models if isinstance(models, ModelChoice) else ModelChoice.of(models)
    tag_stream([lines], choice, out, output_format, min_confidence, nbest)


def tag_stream(
    chunks: Iterable[Sequence[str]],
    models: ModelChoice,
    out: TextIO,
    output_format: str,
    min_confidence: float = 0.0,
    nbest: int = 0,
    progress: Progress | None = None,
    workers: tuple[int, ModelSpec] | None = None,
    extra: ExtraEntities | None = None,
    explain: bool = False,
) -> ColumnLoss:
    """Tag chunks of lines (one document a line) as they come, writing each chunk's records in input
    order and flushing them as soon as they are tagged, so a pipe's reader sees them at once. In
    one process that is before the next chunk is read; with ``workers`` a few chunks are read
    ahead to keep the processes busy, so a chunk's records come a few chunks after its lines.

    Entities less probable than ``min_confidence`` are dropped. With ``nbest`` (jsonl only) each
    record lists, per sentence, the most probable labellings instead. ``workers`` (a count and
    the spec of ``models``) tags chunks in that many processes, output order kept; an input of one
    chunk, and a chunk that is one huge line, is tagged here instead, on all threads. ``extra``
    merges dictionary and rule matches into each document's entities; ``explain`` writes the
    matches left out, with the reason, in each jsonl record. Returns the documents that CoNLL
    output could not write whole (see :class:`~nertag.formats.ColumnLoss`).
    """
    if nbest and output_format != "jsonl":
        raise ValueError("--nbest writes jsonl; add --format jsonl")
    if nbest and extra is not None:
        raise ValueError("--nbest lists the model's own labellings; --dictionary and --rules do not apply to it")
    writer = RecordWriter(out, output_format, explain, models.token_unit)
    started, characters, opened = time.perf_counter(), 0, False
    if nbest:
        tagged_chunks: Generator[tuple[Sequence[str], list], None, None] = ((lines, []) for lines in chunks)
    else:
        chunks, several = _several(chunks) if workers is not None and workers[0] > 1 else (chunks, False)
        if several:
            assert workers is not None
            tagged_chunks = tag_in_workers(chunks, workers[1], workers[0], here=models.tag)
        else:
            tagged_chunks = ((lines, models.tag(lines)) for lines in chunks)
    # Closed on any way out (an error, Ctrl-C, SIGTERM), so that worker processes end now, not
    # at exit, where waiting for them hung once the exception kept this generator alive.
    with closing(tagged_chunks):
        for lines, tagged_lines in tagged_chunks:
            if not opened:
                writer.start([*models.labels(), *(extra.labels() if extra else [])], lines)
                opened = True
            if nbest:
                for line, name in zip(lines, models.name_of_each(lines)):
                    writer.write_readings(name, line, models.tagger(name).readings(line, nbest))
            else:
                for name, tagged in tagged_lines:
                    if extra is not None:
                        tagged = extra.apply(tagged)
                    kept = [e for e in tagged.entities if e.confidence is None or e.confidence >= min_confidence]
                    writer.write(name, tagged, kept)
            out.flush()
            if progress is not None:
                characters += sum(map(len, lines))
                progress.update(len(lines))
                progress.set_postfix_str(f"{characters / max(time.perf_counter() - started, 1e-9):,.0f} chars/s")
    if not opened:  # no input at all: still a whole page
        writer.start(models.labels(), [])
    writer.finish()
    return writer.loss


def _several(chunks: Iterable[Sequence[str]]) -> tuple[Iterator[Sequence[str]], bool]:
    """The chunks again, and whether there are two or more: an input that is one chunk (a single
    huge line, say) gains nothing from worker processes, whose one thread each would leave the
    other cores idle while it is tagged."""
    stream = iter(chunks)
    ahead = list(islice(stream, 2))
    return chain(ahead, stream), len(ahead) > 1


def tag_conll(models: Tagger | ModelChoice, sentences: Sequence[Sentence], out: TextIO, output_format: str) -> None:
    """Tag pre-tokenized sentences; without a named model each goes to the default of its language."""
    choice = models if isinstance(models, ModelChoice) else ModelChoice.of(models)
    writer = RecordWriter(out, output_format)
    predicted: list[list[str]] = [[] for _ in sentences]
    names = [""] * len(sentences)
    for name, indices in choice.group(["".join(sentence.tokens) for sentence in sentences]).items():
        for index, tags in zip(indices, choice.tagger(name).predict([sentences[i].tokens for i in indices])):
            predicted[index], names[index] = tags, name
    for sentence, tags, name in zip(sentences, predicted, names):
        writer.write_tokens(name, sentence, tags)
    out.flush()


def tag_column_inputs(
    sources: Sequence[tuple[str, Opener]], encoding: str, models: ModelChoice, out: TextIO, output_format: str
) -> None:
    """Tag pre-tokenized column inputs sentence chunk by sentence chunk, each input in turn."""
    for source, opener in sources:
        with opener() as stream:
            for sentences in conll_sentence_chunks(read_line_chunks(stream, source, encoding), source):
                tag_conll(models, sentences, out, output_format)


def conll_sentence_chunks(line_chunks: Iterable[Sequence[str]], source: str) -> Iterator[list[Sentence]]:
    """Untagged column input as chunks of whole sentences, cut at blank lines as the lines arrive;
    errors name the line in the whole input."""
    pending: list[str] = []
    first_line = 1  # input line number of pending[0]
    found = 0
    for lines in line_chunks:
        pending.extend(lines)
        last_blank = max((i for i, line in enumerate(pending) if _is_blank(line)), default=-1)
        if last_blank < 0:
            continue
        complete, pending = pending[: last_blank + 1], pending[last_blank + 1 :]
        sentences = _parse_block(complete, source, first_line, whole_input=False)
        first_line += len(complete)
        if sentences:
            found += len(sentences)
            yield sentences
    sentences = _parse_block(pending, source, first_line, whole_input=first_line == 1)
    if sentences:
        found += len(sentences)
        yield sentences
    if not found:
        raise InputError(source, None, "no sentences: the input is empty or holds only blank lines")


def _is_blank(line: str) -> bool:
    return not line.strip(" \t\r\f\v")


def _parse_block(lines: Sequence[str], source: str, first_line: int, whole_input: bool) -> list[Sentence]:
    """The sentences of some of the input's lines; only the whole input can be an old Mac file,
    its lines ending in a lone CR (see :func:`~nertag.conll.file_lines`)."""
    if all(_is_blank(line) for line in lines):
        return []
    try:
        sentences = parse_conll("\n".join(lines), source, require_tags=False, lone_cr=whole_input and len(lines) <= 1)
    except InputError as error:
        line = None if error.line is None else error.line + first_line - 1
        raise InputError(source, line, error.message) from None
    return [Sentence(s.tokens, s.tags, s.line + first_line - 1) for s in sentences]
