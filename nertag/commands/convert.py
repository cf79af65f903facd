"""``nertag convert``: annotation-tool exports and column files turned into one another.

The input is read and checked whole before anything is written, so a file with a problem leaves
no half-converted output behind, even on standard output.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from ..annotations import TEXT_FORMATS, Annotated, Problems, read_annotations
from ..conll import ENCODING_HINT, Sentence, decode_utf8, parse_conll, read_text, write_conll
from ..convert import kept_in_columns, text_unit, to_documents, to_sentences, token_unit, tokens_of, write_jsonl
from ..safe_write import check_output_file, open_output
from ..schemes import Scheme, spans
from ..schemes import convert as convert_tags

FROM_FORMATS = (*TEXT_FORMATS, "conll")
TO_FORMATS = ("conll", "jsonl")


@dataclass(frozen=True)
class Conversion:
    """What was written: documents (sentences, from a column file), entities, and the token unit
    the text was cut into or the tokens were joined as (None: tokens passed through as they were)."""

    documents: int
    entities: int
    unit: str | None
    # Documents holding characters a column file loses (line breaks, tabs, runs of spaces, control
    # characters; between characters, any space): converted back, their text lacks them.
    altered: int = 0
    first_altered: int | None = None  # the input line of the first such document
    source: str = ""  # the input's name, for messages


def convert_file(
    in_path: str,
    out_path: str,
    from_format: str,
    to_format: str,
    scheme: Scheme = Scheme.BIO,
    unit: str | None = None,
    tag_column: int = -1,
    encoding: str = "utf-8",
) -> Conversion:
    """Convert ``in_path`` (``-``: standard input) from ``from_format`` to ``to_format`` into
    ``out_path`` (``-``: standard output), which is written through :mod:`nertag.safe_write`.

    Column output is tagged in ``scheme``; ``unit`` (``char`` or ``word``) overrides how text is cut
    into tokens or tokens are joined into text, which is otherwise read from the input. The input
    is read in ``encoding``; the output is always UTF-8.
    """
    if from_format not in FROM_FORMATS or to_format not in TO_FORMATS:
        raise ValueError(f"convert from one of {', '.join(FROM_FORMATS)} to one of {', '.join(TO_FORMATS)}, not {from_format} to {to_format}")
    check_output_file(out_path, [in_path])
    source = "<stdin>" if in_path == "-" else in_path
    if in_path == "-":
        text = decode_utf8(sys.stdin.buffer.read(), source, encoding, ENCODING_HINT)
    else:
        text = read_text(in_path, encoding, ENCODING_HINT)
    sentences: list[Sentence] = []
    documents: list[Annotated] = []
    if from_format == "conll":
        read = parse_conll(text, source, tag_column)
        if to_format == "conll":
            sentences = [s.with_tags(convert_tags(s.tags, scheme)) for s in read]
            unit = None
        else:
            unit = unit or token_unit(read)
            documents = to_documents(read, unit)
    else:
        problems = Problems(source)  # reading and tokenizing report their problems together
        documents = read_annotations(text, source, from_format, problems)
        if to_format == "conll":
            unit = unit or text_unit(documents)
            sentences = to_sentences(documents, unit, scheme, source, problems)
        else:
            unit = None
        problems.raise_if_any()
    with open_output(out_path, sys.stdout) as out:
        if to_format == "conll":
            write_conll(sentences, out)
        else:
            write_jsonl(documents, out)
    if to_format == "conll":
        altered = [] if unit is None else [d.line for d in documents if not kept_in_columns(d.text, tokens_of(d.text, unit), unit)]
        return Conversion(
            len(sentences), sum(len(spans(s.tags)) for s in sentences), unit, len(altered), altered[0] if altered else None,
            source,
        )
    return Conversion(len(documents), sum(len(d.spans) for d in documents), unit)
