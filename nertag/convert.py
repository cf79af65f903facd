"""Documents with character spans to tokens with tags, and back: the two halves of ``nertag convert``.

Chinese text is cut one character a token and other text by nertag's word tokenizer, as ``nertag
tag`` cuts it (:mod:`nertag.tokenize`), so a converted corpus trains a model on the tokens it will
later be given. Whitespace is never a token: a space-separated column file cannot hold one. An
entity whose edge falls inside a token is reported, never moved. Going back, tokens are joined
without spaces in a character corpus and with one space in a word corpus, so a space between two
Latin words of a Chinese text, which no column file keeps, does not come back.
"""

from __future__ import annotations

import bisect
import json
from typing import Iterable, Sequence, TextIO

from .annotations import Annotated, Problems, show_span
from .conll import Sentence, is_character_corpus
from .records import Entity, entity_at
from .schemes import Scheme, Span, spans, to_tags
from .tokenize import Offsets, char_tokens, looks_chinese, word_tokens

UNITS = ("char", "word")
_SAMPLE_CHARS = 20000  # of text, enough to tell Chinese from other languages
_SAMPLE_SENTENCES = 2000


def kept_in_columns(text: str, tokens: Iterable[tuple[int, int]], unit: str) -> bool:
    """Whether a column file of ``text``'s ``tokens`` (offsets, in order) keeps every character of
    it: what lies outside the tokens must be what a reader puts back when it joins them (nothing
    in a character corpus, at most one space between words in a word corpus). Spaces a reader
    adds (``Berlin .``) lose nothing and pass."""
    between = {"", " "} if unit == "word" else {""}
    previous = 0
    for start, end in tokens:
        if text[previous:start] not in (between if previous else {""}):
            return False
        previous = end
    return previous == len(text)


def text_unit(documents: Sequence[Annotated]) -> str:
    """``char`` for Chinese text, else ``word``, decided once for a file so its corpus is cut one way."""
    sample: list[str] = []
    size = 0
    for document in documents:
        sample.append(document.text)
        size += len(document.text)
        if size >= _SAMPLE_CHARS:
            break
    return "char" if looks_chinese("\n".join(sample), sample=_SAMPLE_CHARS) else "word"


def token_unit(sentences: Sequence[Sentence]) -> str:
    """``char`` when nearly every token is one character (a Chinese corpus), else ``word``; the same
    rule training uses to pick a model's unit."""
    return "char" if is_character_corpus(sentences, _SAMPLE_SENTENCES) else "word"


def tokens_of(text: str, unit: str) -> Offsets:
    if unit not in UNITS:
        raise ValueError(f"token unit: expected char or word, got {unit!r}")
    return char_tokens(text) if unit == "char" else word_tokens(text)


def to_sentences(
    documents: Iterable[Annotated], unit: str, scheme: Scheme, source: str, problems: Problems | None = None
) -> list[Sentence]:
    """Each document with tokens as one sentence of tokens tagged in ``scheme``.

    Raises an :class:`~nertag.errors.InputError` naming every entity that does not fit the tokens,
    unless ``problems`` is given to collect them.
    """
    collecting = problems is not None
    problems = problems or Problems(source)
    sentences: list[Sentence] = []
    for document in documents:
        tokens = tokens_of(document.text, unit)
        token_spans = [_token_span(document, span, tokens, problems) for span in document.spans]
        found = [span for span in token_spans if span is not None]
        if len(found) == len(token_spans) and tokens:
            words = tuple(document.text[start:end] for start, end in tokens)
            sentences.append(Sentence(words, tuple(to_tags(found, len(tokens), scheme)), document.line))
    if not collecting:
        problems.raise_if_any()
    return sentences


def _token_span(document: Annotated, span: Span, tokens: Offsets, problems: Problems) -> Span | None:
    """The token span of a character span, or None with the problem noted."""
    shown = show_span(document.text, span)
    if any(c.isspace() for c in span.label):
        problems.add(document.line, f"entity {shown}: its label {span.label!r} holds whitespace, which a column file cannot hold")
        return None
    starts = [start for start, _ in tokens]
    first = bisect.bisect_right(starts, span.start) - 1  # the token at or before the entity's start
    last = bisect.bisect_left(starts, span.end) - 1  # the last token that starts inside the entity
    for edge, at, token in (("starts", span.start, first), ("ends", span.end, last)):
        inside = 0 <= token < len(tokens) and tokens[token][0] < at < tokens[token][1]
        if inside:
            a, b = tokens[token]
            problems.add(document.line, f"entity {shown} {edge} inside the token {document.text[a:b]!r} [{a}, {b}); fix the entity's edge (nertag does not move it)")
            return None
    if first < 0 or tokens[first][0] != span.start or last < first:
        problems.add(document.line, f"entity {shown} starts on a character that is no token (a control character?)")
        return None
    if tokens[last][1] != span.end:
        problems.add(document.line, f"entity {shown} ends on a character that is no token (a control character?)")
        return None
    return Span(first, last + 1, span.label)


def to_documents(sentences: Iterable[Sentence], unit: str) -> list[Annotated]:
    """Each sentence as a text (its tokens joined as ``unit`` says) with its entities, read
    leniently from tags of any scheme."""
    joiner = "" if unit == "char" else " "
    documents: list[Annotated] = []
    for sentence in sentences:
        offsets: list[tuple[int, int]] = []
        position = 0
        for token in sentence.tokens:
            offsets.append((position, position + len(token)))
            position += len(token) + len(joiner)
        text = joiner.join(sentence.tokens)
        found = []
        for span in spans(sentence.tags):
            entity = entity_at(text, offsets, span)
            found.append(Span(entity.start, entity.end, entity.label))
        documents.append(Annotated(text, tuple(found), sentence.line))
    return documents


def entities_of(document: Annotated) -> list[Entity]:
    return [Entity(s.start, s.end, s.label, document.text[s.start : s.end]) for s in document.spans]


def write_jsonl(documents: Iterable[Annotated], out: TextIO) -> None:
    """nertag's own record a line: ``{"text", "entities": [{"start", "end", "label", "text"}]}``."""
    for document in documents:
        record = {"text": document.text, "entities": [e.to_json() for e in entities_of(document)]}
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
