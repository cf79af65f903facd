"""Tagged records to output text: JSON lines, CoNLL columns or an HTML page, written piece by piece.

Works from plain records (:mod:`nertag.records`) and knows nothing of models, so a stream can be
written as it is tagged. Column output reads the model's own tokens from the record: the text is
never tokenized a second time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from itertools import chain
from typing import Callable, Iterable, Sequence, TextIO

from .conll import Sentence, write_conll
from .convert import kept_in_columns
from .records import Entity, Reading, TaggedText

FORMATS = ("jsonl", "conll", "html")


@dataclass
class ColumnLoss:
    """Documents whose CoNLL columns lost characters: spaces, tabs, control characters or markup
    outside the model's tokens, which no column file keeps. How many, and the first one's number
    among the documents written (from 0)."""

    documents: int = 0
    first: int | None = None


class RecordWriter:
    """Writes one output format: :meth:`write` a document at a time between :meth:`start` and :meth:`finish`."""

    def __init__(
        self, out: TextIO, output_format: str, explain: bool = False, unit_of: Callable[[str], str] | None = None
    ) -> None:
        """``explain``: jsonl records also list the dictionary and rule matches left out, and why.
        ``unit_of``: the token unit of each model by name; with it, CoNLL output counts the
        documents it cannot write whole in :attr:`loss`."""
        if output_format not in FORMATS:
            raise ValueError(f"output format: expected one of {', '.join(FORMATS)}, got {output_format!r}")
        if explain and output_format != "jsonl":
            raise ValueError("--explain writes its reasons into jsonl records; add --format jsonl")
        self.out, self.format, self.explain = out, output_format, explain
        self._colours: dict[str, str] | None = None
        self.unit_of = unit_of
        self.loss = ColumnLoss()
        self._documents = 0

    def start(self, labels: Iterable[str], first_texts: Sequence[str]) -> None:
        """Open the output (an HTML page's head and legend, from every label the models can give)."""
        if self.format == "html":
            from .html import label_colours, looks_chinese_page, page_start

            labels = sorted(labels)
            self._colours = label_colours(labels)
            self.out.write(page_start(labels, looks_chinese_page(first_texts)))

    def write(self, model: str, tagged: TaggedText, entities: Sequence[Entity]) -> None:
        """One document with the ``entities`` kept of it, and the model that tagged it."""
        if self.format == "jsonl":
            record: dict[str, object] = {"text": tagged.text, "entities": [e.to_json() for e in entities], "model": model}
            if self.explain:
                record["dropped"] = [d.to_json() for d in tagged.dropped]
            self.out.write(json.dumps(record, ensure_ascii=False) + "\n")
        elif self.format == "html":
            from .html import render_document

            assert self._colours is not None, "start() opens the page"
            self.out.write(render_document(tagged.text, entities, self._colours))
        else:  # one block of columns per document, its sentences run together
            for sentence in tagged.token_tags_by_sentence(entities):  # a huge text's columns are never all held
                self.out.write("".join(f"{token} {tag}\n" for token, tag in sentence))
            self.out.write("\n")
            tokens = chain.from_iterable(tagged.sentences)
            if self.unit_of is not None and not kept_in_columns(tagged.text, tokens, self.unit_of(model)):
                self.loss.documents += 1
                self.loss.first = self._documents if self.loss.first is None else self.loss.first
            self._documents += 1

    def write_readings(self, model: str, text: str, readings: Sequence[Sequence[Reading]]) -> None:
        """The n best labellings of each sentence of ``text`` (JSON lines only)."""
        sentences = [[r.to_json() for r in options] for options in readings]
        self.out.write(json.dumps({"text": text, "sentences": sentences, "model": model}, ensure_ascii=False) + "\n")

    def write_tokens(self, model: str, sentence: Sentence, tags: Sequence[str]) -> None:
        """A pre-tokenized sentence with its predicted tags."""
        if self.format == "jsonl":
            record = {"tokens": list(sentence.tokens), "tags": list(tags), "model": model}
            self.out.write(json.dumps(record, ensure_ascii=False) + "\n")
        else:
            write_conll([sentence.with_tags(tags)], self.out)

    def finish(self) -> None:
        if self.format == "html":
            from .html import page_end

            self.out.write(page_end())
        self.out.flush()
