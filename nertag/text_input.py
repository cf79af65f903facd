"""Lines of text from files and pipes in bounded chunks, so tagging streams like a Unix filter.

A chunk ends when it is full (lines or characters) or when no more input is waiting: a slow
producer (``tail -f log | nertag tag``) gets each line answered as it arrives, while a file is read
in full chunks. Memory stays bounded whatever the input's size, except that one line is one
document and is held whole.
"""

from __future__ import annotations

import codecs
import contextlib
import functools
import io
import os
import select
import sys
from typing import BinaryIO, Callable, ContextManager, Iterator, Sequence

from .conll import ENCODING_HINT, utf8_advice
from .errors import InputError

CHUNK_LINES = 2000
CHUNK_CHARS = 1 << 18
READ_BYTES = 1 << 16


def check_encoding(encoding: str) -> str:
    """The codec's canonical name, or a ValueError naming an unknown encoding or a codec that does
    not turn bytes into text (base64, zlib, rot13, hex: Python knows them, but they are not text)."""
    try:
        name = codecs.lookup(encoding).name
        b"a".decode(encoding)  # LookupError for a bytes-to-bytes or text-to-text codec
    except UnicodeDecodeError:  # a text encoding that cannot read one byte alone (utf-16)
        pass
    except LookupError:
        raise ValueError(f"unknown text encoding {encoding!r}; give a name Python knows, such as utf-8, gb18030, big5") from None
    return name


def _decoder_name(encoding: str) -> str:
    """UTF-8 input may start with a byte-order mark, which is not text."""
    name = check_encoding(encoding)
    return "utf-8-sig" if name == "utf-8" else name


def display_name(encoding: str) -> str:
    name = check_encoding(encoding)
    return "UTF-8" if name == "utf-8" else name


Opener = Callable[[], ContextManager[BinaryIO]]


def open_inputs(paths: Sequence[str]) -> list[tuple[str, Opener]]:
    """(source name, opener of a binary stream) per input, standard input for ``-`` or none given.

    Every file is checked before the first is read, so a typo is reported before any work; each is
    opened unbuffered only when its turn comes.
    """
    inputs: list[tuple[str, Opener]] = []
    for path in paths or ("-",):
        if path == "-":
            inputs.append(("<stdin>", lambda: contextlib.nullcontext(sys.stdin.buffer)))
            continue
        if os.path.isdir(path):
            raise InputError(path, None, "is a directory, expected a file")
        if not os.path.exists(path):
            raise InputError(path, None, "no such file")
        if not os.access(path, os.R_OK):
            raise InputError(path, None, "permission denied")
        inputs.append((path, functools.partial(open, path, "rb", buffering=0)))
    return inputs


class LinesRead:
    """How many lines of each input have been read, in input order: where the Nth line of all
    the inputs read in turn came from."""

    def __init__(self) -> None:
        self.sources: list[str] = []
        self.lines: list[int] = []  # of each source, so far

    def opened(self, source: str) -> None:
        self.sources.append(source)
        self.lines.append(0)

    def read(self, lines: int) -> None:
        self.lines[-1] += lines

    def place(self, number: int) -> tuple[str, int]:
        """The input and its line (from 1) of line ``number`` (from 0) of all the inputs."""
        for source, count in zip(self.sources, self.lines):
            if number < count:
                return source, number + 1
            number -= count
        raise IndexError("that line was not read")


def chunks_of_all(
    sources: Sequence[tuple[str, Opener]], encoding: str = "utf-8", lines_read: LinesRead | None = None
) -> Iterator[list[str]]:
    """The line chunks of every input in turn, each opened only while it is read; counted in
    ``lines_read`` when given."""
    for source, opener in sources:
        if lines_read is not None:
            lines_read.opened(source)
        with opener() as stream:
            for lines in read_line_chunks(stream, source, encoding):
                if lines_read is not None:
                    lines_read.read(len(lines))
                yield lines


class _ByteSource:
    """Reads what is available from a binary stream and says whether more is waiting."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        try:
            self.fd: int | None = stream.fileno()
        except (AttributeError, OSError, io.UnsupportedOperation):
            self.fd = None

    def read(self) -> bytes:
        if self.fd is not None:
            return os.read(self.fd, READ_BYTES)
        read1 = getattr(self.stream, "read1", None)
        return read1(READ_BYTES) if read1 else self.stream.read(READ_BYTES)

    def waiting(self) -> bool:
        """True when a read would not block (data or end of input); files are always ready."""
        if self.fd is None:
            return True
        try:
            ready, _, _ = select.select([self.fd], [], [], 0)
        except (OSError, ValueError):
            return True
        return bool(ready)


def read_line_chunks(
    stream: BinaryIO, source: str, encoding: str = "utf-8", max_lines: int = CHUNK_LINES, max_chars: int = CHUNK_CHARS
) -> Iterator[list[str]]:
    """Lists of lines (LF-separated, a CR before the LF dropped, no final empty line) as they come.

    ``stream`` is read unbuffered from its file descriptor when it has one, so that what was read
    is answered before the next read blocks. Bytes that are not ``encoding`` raise
    :class:`~nertag.conll.InputError` naming ``source`` and the line.
    """
    decoder = codecs.getincrementaldecoder(_decoder_name(encoding))(errors="strict")
    reader = _ByteSource(stream)
    partial: list[str] = []  # pieces of the line not yet ended
    lines: list[str] = []
    chars = 0
    lines_done = 0
    head = b""  # the input's first bytes, which may name its encoding
    while True:
        data = reader.read()
        head += data[: 4 - len(head)]  # a pipe may give the first bytes a few at a time
        try:
            text = decoder.decode(data, final=not data)
        except UnicodeDecodeError as error:
            # The error's position counts in the bytes the codec saw: the tail of the last read it
            # kept (part of a character, never a newline) and this read, after any byte-order mark.
            seen = error.object if isinstance(error.object, (bytes, bytearray)) else data
            line = lines_done + len(lines) + seen.count(b"\n", 0, max(error.start, 0)) + 1
            hint = f"; {utf8_advice(head, ENCODING_HINT)}" if _decoder_name(encoding) == "utf-8-sig" else ""  # the default: maybe another
            raise InputError(source, line, f"not {display_name(encoding)} text (byte {_bad_byte(error)}){hint}") from None
        except UnicodeError as error:  # a codec's complaint with no position, e.g. UTF-16 without its BOM
            raise InputError(source, lines_done + len(lines) + 1, f"not {display_name(encoding)} text ({error})") from None
        pieces = text.split("\n")
        for piece in pieces[:-1]:
            partial.append(piece)
            line = "".join(partial)
            partial = []
            lines.append(line[:-1] if line.endswith("\r") else line)
            chars += len(line)
            if len(lines) >= max_lines or chars >= max_chars:
                lines_done += len(lines)
                yield lines
                lines, chars = [], 0
        if pieces[-1]:
            partial.append(pieces[-1])
        if not data:
            if partial:
                line = "".join(partial)
                lines.append(line[:-1] if line.endswith("\r") else line)
            if lines:
                yield lines
            return
        if lines and not reader.waiting():
            lines_done += len(lines)
            yield lines
            lines, chars = [], 0


def _bad_byte(error: UnicodeDecodeError) -> str:
    bad = error.object[error.start : error.start + 1] if isinstance(error.object, (bytes, bytearray)) else b""
    return f"{bad[0]:#04x}" if bad else "sequence"
