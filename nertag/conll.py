"""Read and write CoNLL column files as plain records; no torch here.

Tokens are in the first column and tags in the last (or ``tag_column``).  A line holding a tab has
tab-separated columns, any other line columns separated by runs of spaces; only ASCII whitespace
separates or pads columns, so a token may be a character such as U+3000 (ideographic space).  Lines
of nothing but ASCII whitespace end sentences; ``-DOCSTART-`` lines are skipped.  Files may be UTF-8
with or without a BOM and have LF or CRLF endings.  Anything else is refused with the file and line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterable, Sequence, TextIO

from .errors import InputError, TagError
from .schemes import Scheme, detect_scheme, relabel, split_tag


@dataclass(frozen=True)
class Sentence:
    """One sentence: its tokens, their tags (empty when untagged) and its first line number.

    ``source`` is which of several training corpora it came from (1, 2, ...; 0: not said), for a
    model that learns each corpus's conventions as a style (:mod:`nertag.model`). It is not part of
    the sentence's value: the same sentence from two files compares equal.
    """

    tokens: tuple[str, ...]
    tags: tuple[str, ...] = ()
    line: int = 0
    source: int = field(default=0, compare=False)

    def with_tags(self, tags: Sequence[str]) -> "Sentence":
        return replace(self, tags=tuple(tags))


CONVERT_HINT = "convert it to UTF-8 first, e.g. iconv -f GB18030 -t UTF-8"
ENCODING_HINT = "if it is in another encoding, say which: --encoding gb18030 (or big5, ...)"


def utf8_advice(head: bytes, hint: str) -> str:
    """What to say about bytes that are not UTF-8: ``hint``, unless the input opens with the
    byte-order mark of UTF-16 or UTF-32 (as Windows tools write), which names its encoding."""
    for mark, name in ((b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):
        if head.startswith(mark):
            if hint == CONVERT_HINT:  # a file read without an --encoding option
                return f"it opens with a {name.upper()} byte-order mark: convert it to UTF-8 first, e.g. iconv -f {name.upper()} -t UTF-8"
            return f"it opens with a {name.upper()} byte-order mark: say --encoding {name}"
    return hint


def decode_utf8(data: bytes, source: str, encoding: str = "utf-8", hint: str = CONVERT_HINT) -> str:
    """Decode UTF-8 (BOM allowed), or ``encoding``, naming the line and byte offset of the first
    bad byte; ``hint`` says what to do about UTF-8 that is not."""
    from .text_input import check_encoding, display_name

    name = check_encoding(encoding)
    try:
        return data.decode("utf-8-sig" if name == "utf-8" else name)
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        advice = f"; {utf8_advice(data, hint)}" if name == "utf-8" else ""
        raise InputError(
            source, line, f"not {display_name(name)} text (byte {data[error.start]:#04x} at offset {error.start}){advice}"
        ) from None
    except UnicodeError as error:  # a codec's complaint with no position, e.g. UTF-16 without its BOM
        raise InputError(source, None, f"not {display_name(name)} text ({error})") from None


def read_text(path: str | Path, encoding: str = "utf-8", hint: str = CONVERT_HINT) -> str:
    """Read a whole text file (UTF-8 unless ``encoding`` says otherwise), refusing missing files
    and undecodable bytes clearly."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(str(path), None, "no such file") from None
    except IsADirectoryError:
        raise InputError(str(path), None, "is a directory, expected a file") from None
    except OSError as error:
        raise InputError(str(path), None, error.strerror or str(error)) from None
    return decode_utf8(data, str(path), encoding, hint)


# Only ASCII whitespace separates, pads or blanks: Chinese corpora hold U+3000 and other Unicode
# spaces as tokens, and str.split() would drop them and shift the tag into the token's place.
_ASCII_BLANK = " \t\r\f\v"
_ASCII_PADDING = " \r\f\v"
_SPACE_RUN = re.compile(f"[{_ASCII_PADDING}]+")


def file_lines(text: str, lone_cr: bool | None = None) -> list[str]:
    """The lines of a column, dictionary or pattern file, without line ends. Lines end in LF, and
    CRs before it go with it (CRLF, and CR CR LF from a CRLF file saved again in text mode); in a
    file of one LF line at most, an old Mac file, they end in CR. ``lone_cr`` says which where
    ``text`` is only a piece of a file. Read as padding, a lone CR had made a CR-only file one
    line: its first token and last tag, the rest silently dropped. Not splitlines(): it also
    breaks on characters such as U+2028 that can be tokens, which would shift line numbers and
    split sentences."""
    if "\r" not in text:
        return text.split("\n")
    if lone_cr if lone_cr is not None else "\n" not in text[:-1]:
        return text.split("\r")
    return [line.rstrip("\r") for line in text.split("\n")]


def split_columns(line: str) -> list[str]:
    """The columns of a line that is not blank: on tabs if it holds one, else on runs of spaces.

    With tabs, the first column is the token: ASCII padding around it is dropped, but a token of
    nothing but whitespace is kept whole (it is a whitespace token, not padding), and an empty one
    stays empty for the caller to refuse.  The other columns split on tabs and spaces alike.
    """
    if "\t" in line:
        token, _, rest = line.rstrip(_ASCII_BLANK).partition("\t")
        # Only the token may be whitespace; the other columns (tags, POS...) split on any ASCII blank,
        # so a file that pads with tabs and spaces alike still reads.
        others = [column for column in _SPACE_RUN.split(rest.replace("\t", " ").strip(_ASCII_PADDING)) if column]
        return [token.strip(_ASCII_PADDING) or token, *others]
    return _SPACE_RUN.split(line.strip(_ASCII_PADDING))


def parse_conll(
    text: str, source: str = "<input>", tag_column: int = -1, require_tags: bool = True, lone_cr: bool | None = None
) -> list[Sentence]:
    """Parse column-format text into sentences.

    ``tag_column`` counts from 0 (negative counts from the end).  With ``require_tags=False`` a
    one-column file is read as untagged tokens. ``lone_cr``: see :func:`file_lines`.
    """
    sentences: list[Sentence] = []
    tokens: list[str] = []
    tags: list[str] = []
    first_line = 0

    def flush() -> None:
        nonlocal tokens, tags
        if tokens:
            sentences.append(Sentence(tuple(tokens), tuple(tags), first_line))
        tokens, tags = [], []

    for number, line in enumerate(file_lines(text, lone_cr), start=1):
        if not line.strip(_ASCII_BLANK):
            flush()
            continue
        columns = split_columns(line)
        if columns[0] == "-DOCSTART-":
            flush()
            continue
        if not columns[0]:
            raise InputError(source, number, "no token: the line starts with a tab, so its first column is empty")
        if require_tags:
            if len(columns) < 2:
                raise InputError(source, number, f"expected a token and a tag, got {len(columns)} column")
            try:
                tag = columns[tag_column]
            except IndexError:
                raise InputError(
                    source, number, f"no tag column {tag_column}: the line has {len(columns)} columns"
                ) from None
            try:
                split_tag(tag)
            except TagError as error:
                raise InputError(source, number, str(error)) from None
            tags.append(tag)
        if not tokens:
            first_line = number
        tokens.append(columns[0])
    flush()
    if not sentences:
        raise InputError(source, None, "no sentences: the file is empty or holds only blank lines")
    return sentences


def read_conll(path: str | Path, tag_column: int = -1, require_tags: bool = True, encoding: str = "utf-8") -> list[Sentence]:
    """Read a column file from disk (UTF-8 unless ``encoding`` says otherwise); see :func:`parse_conll`."""
    return parse_conll(read_text(path, encoding, ENCODING_HINT), str(path), tag_column, require_tags)


def is_character_corpus(sentences: Sequence[Sentence], sample: int = 2000) -> bool:
    """True when nearly every token (95%, of the first ``sample`` sentences) is one character, as
    in Chinese NER corpora: such corpora are read one character a token (training, converting)."""
    tokens = [t for s in sentences[:sample] for t in s.tokens]
    return bool(tokens) and sum(len(t) == 1 for t in tokens) >= 0.95 * len(tokens)


def corpus_scheme(sentences: Sequence[Sentence]) -> Scheme:
    return detect_scheme(s.tags for s in sentences)


def relabel_corpus(sentences: Sequence[Sentence], mapping: dict[str, str]) -> list[Sentence]:
    """The corpus with its entity labels mapped (see :func:`nertag.schemes.relabel`), in its own scheme."""
    if not mapping:
        return list(sentences)
    scheme = corpus_scheme(sentences)
    return [s.with_tags(relabel(s.tags, mapping, scheme)) for s in sentences]


def write_conll(sentences: Iterable[Sentence], out: TextIO) -> None:
    """Write ``token tag`` lines with a blank line after each sentence."""
    for sentence in sentences:
        for token, tag in zip(sentence.tokens, sentence.tags, strict=True):
            out.write(f"{token} {tag}\n")
        out.write("\n")

