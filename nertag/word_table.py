"""jieba's dictionary as a compact table shipped with nertag, loaded in a few hundredths of a second.

The lexicon features need, for every dictionary word of 2 to 8 characters, its count and whether
jieba tags it as a name, plus every prefix of such a word (so that a scan can stop as soon as no
longer word can start). jieba builds that prefix dictionary from its 349k-line dict.txt in about
0.4 s at every start; nertag ships it prebuilt instead (``nertag/data/jieba_words.safetensors``,
made from jieba 0.42.1's MIT-licensed dict.txt by ``python -m nertag.word_table DICT.TXT OUT``).

The file is safetensors, like model weights: ``keys``, the keys in UTF-8 joined by newlines as
bytes, and ``values``, one uint32 per key: ``count * 8 + name class + 1`` for words (name class -1
when not a name), 0 for bare prefixes; its JSON metadata holds the format, the source, the total
count and the number of keys. No pickle, no code: text and numbers.

jieba's name classes are often wrong for today's names (华为 is a person there, 微软 an adjective,
百度 a common noun). A second source of classes ships beside the table,
``nertag/data/lac_word_classes.safetensors``: for every key the class Baidu LAC 2.1.2
(Apache-2.0) gives the word when it tags the word alone, one byte a key (``name class + 1``, 0 for
none). It is made by ``benchmarks/lac_word_classes.py`` (run in LAC's own environment), then
``python -m nertag.word_table --classes CLASSED_DICT.TXT OUT``. A model chooses its source with
``lexicon_classes``; counts and words are jieba's either way.
"""

from __future__ import annotations

import hashlib
import sys
from functools import cached_property, lru_cache
from pathlib import Path

import numpy as np
from safetensors import SafetensorError, safe_open
from safetensors.numpy import save as save_bytes

from .config import LEXICON_CLASS_SOURCES
from .lookup import KeyTable
from .safe_write import open_output

MIN_LENGTH = 2
MAX_LENGTH = 8  # longer dictionary entries are mostly idioms and names of laws
NAME_CLASSES = {"nr": 0, "nrt": 0, "nrfg": 0, "ns": 1, "nt": 2, "nz": 3}  # person, place, organisation, other
TABLE = Path(__file__).with_name("data") / "jieba_words.safetensors"
FORMAT = 1
CLASS_SOURCES = LEXICON_CLASS_SOURCES  # where a word's name class comes from (ModelConfig.lexicon_classes)
LAC_CLASSES = TABLE.with_name("lac_word_classes.safetensors")


class WordTable:
    """Word or prefix -> packed value (see the module docstring), and the dictionary's total count.

    The table is kept as it is stored: ``keys``, the keys joined by newlines, and ``packed``, one
    uint32 per key. ``values``, the dict, takes 0.1 s to build from them and tagging never needs it;
    ``index`` finds words in numpy.
    """

    def __init__(self, values: dict[str, int], total: int) -> None:
        self.__init_stored("\n".join(values), np.fromiter(values.values(), dtype=np.uint32, count=len(values)), total)

    def __init_stored(self, keys: str, packed: np.ndarray, total: int) -> None:
        self.keys, self.packed, self.total = keys, packed, total

    @classmethod
    def stored(cls, keys: str, packed: np.ndarray, total: int) -> "WordTable":
        """A table as the file holds it: ``keys`` joined by newlines, ``packed`` one value per key."""
        table = cls.__new__(cls)
        table.__init_stored(keys, packed, total)
        return table

    @cached_property
    def values(self) -> dict[str, int]:
        return dict(zip(self.keys.split("\n"), self.packed.tolist())) if len(self.packed) else {}

    @cached_property
    def index(self) -> "WordIndex":
        return WordIndex(self.keys, self.packed)

    @staticmethod
    def count(value: int) -> int:
        return value >> 3

    @staticmethod
    def name_class(value: int) -> int:
        """0 person, 1 place, 2 organisation, 3 other proper noun; -1 not a name."""
        return (value & 7) - 1


HASH_BASE = np.uint64(0x9E3779B97F4A7C15)  # odd, so hashing is a bijection on each added character


def hash_rows(chars: np.ndarray) -> np.ndarray:
    """(n,) uint64 polynomial hash of each row of an (n, length) array of code points."""
    hashes = np.zeros(len(chars), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for column in range(chars.shape[1]):
            hashes = hashes * HASH_BASE + chars[:, column]
    return hashes


def code_points(text: str) -> np.ndarray:
    """The characters of ``text`` as uint32 code points, one per character (lone surrogates too)."""
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


class WordIndex:
    """Every dictionary word in a text, found with a few numpy passes instead of a Python loop.

    Keys of each length are kept in a :class:`~nertag.lookup.KeyTable` of 64-bit hashes of their
    characters, with the characters themselves: a window of text is looked up by its hash and
    confirmed by comparing characters, so a hash collision can cost a comparison but never a wrong match.
    Windows grow one character at a time and only from those that are still a key (a word or a
    word's prefix), as a scan of a prefix dictionary would.
    """

    def __init__(self, keys: str, packed: np.ndarray) -> None:
        codes = code_points(keys)
        breaks = np.flatnonzero(codes == ord("\n"))
        starts = np.concatenate(([0], breaks + 1)) if len(packed) else np.zeros(0, dtype=np.int64)
        lengths = np.concatenate((breaks, [len(codes)]))[: len(starts)] - starts
        if len(starts) != len(packed):
            raise ValueError(f"word table: {len(starts)} keys but {len(packed)} values")
        self.by_length: dict[int, tuple[KeyTable, np.ndarray, np.ndarray]] = {}
        for length in range(MIN_LENGTH, MAX_LENGTH + 1):
            chosen = np.flatnonzero(lengths == length)
            chars = codes[starts[chosen, None] + np.arange(length)]
            try:
                table = KeyTable(hash_rows(chars))
            except ValueError:
                raise ValueError(f"word table: two keys of {length} characters share a hash") from None
            self.by_length[length] = (table, chars, packed[chosen])

    def find(self, codes: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(start, length, packed value) of every word (count >= 1) in ``codes``, a text's code
        points, where ``ends[i]`` is the end of position i's sentence: no word crosses it."""
        found: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        starts = np.flatnonzero(np.arange(len(codes)) + MIN_LENGTH <= ends)
        hashes = hash_rows(codes[starts, None]) if len(starts) else np.zeros(0, dtype=np.uint64)
        for length in range(MIN_LENGTH, MAX_LENGTH + 1):
            fits = starts + length <= ends[starts]
            starts, hashes = starts[fits], hashes[fits]
            with np.errstate(over="ignore"):
                hashes = hashes * HASH_BASE + codes[starts + length - 1]
            table, key_chars, key_values = self.by_length[length]
            if not len(starts) or not len(key_chars):
                break
            rows = table.find(hashes)
            hit = rows >= 0
            hit[hit] = (key_chars[rows[hit]] == codes[starts[hit, None] + np.arange(length)]).all(axis=1)
            starts, hashes, rows = starts[hit], hashes[hit], rows[hit]
            values = key_values[rows]
            words = values >= 8
            found.append((starts[words], np.full(int(words.sum()), length), values[words]))
        if not found:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.uint32)
        return tuple(np.concatenate(column) for column in zip(*found))  # type: ignore[return-value]


def build(dictionary: Path) -> WordTable:
    """Read a jieba-format dictionary (``word count [part of speech]`` per line) into a table.

    As in jieba, a word listed twice keeps its last count; a name class, once given, stays.
    """
    counts: dict[str, int] = {}
    classes: dict[str, int] = {}
    total = 0
    with open(dictionary, encoding="utf-8") as lines:
        for number, raw in enumerate(lines, 1):
            parts = raw.split()
            if len(parts) not in (2, 3) or not parts[1].isdigit():
                raise ValueError(f"{dictionary}:{number}: expected 'word count [tag]', got {raw.strip()!r}")
            word, count = parts[0], int(parts[1])
            total += count
            counts[word] = count
            if len(parts) == 3 and parts[2] in NAME_CLASSES:
                classes[word] = NAME_CLASSES[parts[2]]
    values: dict[str, int] = {}
    for word, count in counts.items():
        for length in range(MIN_LENGTH, min(len(word), MAX_LENGTH) + 1):
            values.setdefault(word[:length], 0)
        if MIN_LENGTH <= len(word) <= MAX_LENGTH:
            values[word] = count * 8 + classes.get(word, -1) + 1
    return WordTable(values, total)


def save(table: WordTable, path: str | Path, source: str) -> None:
    """Write the table to ``path`` (``-``: standard output) as nertag writes every file: through
    symlinks and into pipes, replacing a file only once it is whole, with the user's umask."""
    keys = np.frombuffer(table.keys.encode("utf-8"), dtype=np.uint8)
    values = np.ascontiguousarray(table.packed, dtype=np.uint32)
    metadata = {"format": str(FORMAT), "source": source, "total": str(table.total), "keys": str(len(values))}
    with open_output(str(path), sys.stdout, binary=True) as out:
        out.write(save_bytes({"keys": keys, "values": values}, metadata=metadata))


def read(path: Path) -> WordTable:
    try:
        with safe_open(str(path), framework="np") as stored:
            metadata = stored.metadata() or {}
            if metadata.get("format") != str(FORMAT):
                raise ValueError(f"{path}: word table format {metadata.get('format')!r}, expected {FORMAT}")
            keys = stored.get_tensor("keys").tobytes().decode("utf-8")
            values = stored.get_tensor("values")
    except (SafetensorError, UnicodeDecodeError) as error:
        raise ValueError(f"{path}: word table is damaged ({error})") from None
    count = keys.count("\n") + 1 if keys else 0
    if count != int(metadata["keys"]) or len(values) != count:
        raise ValueError(f"{path}: word table is damaged ({count} keys, {len(values)} values, "
                         f"its metadata says {metadata['keys']} keys)")
    return WordTable.stored(keys, values, int(metadata["total"]))


def keys_digest(table: WordTable) -> str:
    """sha256 of the table's keys, which a class file must have been made for."""
    return hashlib.sha256(table.keys.encode("utf-8")).hexdigest()


def class_bytes(classed: WordTable, base: WordTable) -> np.ndarray:
    """One uint8 per key of ``base``: ``classed``'s name class + 1 for words, 0 otherwise.

    ``classed`` must hold the same keys, words and counts as ``base`` (the same dictionary with
    other parts of speech), so that its classes line up key for key."""
    if classed.keys != base.keys or not np.array_equal(classed.packed >> 3, base.packed >> 3):
        raise ValueError("the classed dictionary must hold the same words and counts as the table's")
    return (classed.packed & 7).astype(np.uint8)


def save_classes(classes: np.ndarray, base: WordTable, path: str | Path, source: str) -> None:
    """Write a class file for ``base`` (see the module docstring), written as :func:`save` writes."""
    metadata = {"format": str(FORMAT), "source": source, "keys_sha256": keys_digest(base)}
    with open_output(str(path), sys.stdout, binary=True) as out:
        out.write(save_bytes({"classes": np.ascontiguousarray(classes, dtype=np.uint8)}, metadata=metadata))


def with_classes(base: WordTable, path: Path) -> WordTable:
    """``base`` with each word's name class read from the class file at ``path``."""
    if not path.is_file():
        raise ValueError(f"{path}: the word classes file is missing; reinstall nertag")
    try:
        with safe_open(str(path), framework="np") as stored:
            metadata = stored.metadata() or {}
            classes = stored.get_tensor("classes")
    except SafetensorError as error:
        raise ValueError(f"{path}: word classes are damaged ({error})") from None
    if metadata.get("format") != str(FORMAT):
        raise ValueError(f"{path}: word classes format {metadata.get('format')!r}, expected {FORMAT}")
    if metadata.get("keys_sha256") != keys_digest(base):
        raise ValueError(f"{path}: word classes were made for another word table")
    highest = max(NAME_CLASSES.values()) + 1
    if classes.dtype != np.uint8 or classes.shape != base.packed.shape or int(classes.max(initial=0)) > highest:
        raise ValueError(f"{path}: word classes are damaged (expected one byte, 0 to {highest}, per key)")
    words = base.packed >= 8  # bare prefixes stay 0
    packed = np.where(words, (base.packed & ~np.uint32(7)) | classes.astype(np.uint32), base.packed)
    return WordTable.stored(base.keys, packed.astype(np.uint32), base.total)


def shipped(classes: str = "jieba") -> WordTable:
    """The table made from jieba's dictionary, with the name classes of ``classes``, loaded once."""
    if classes not in CLASS_SOURCES:
        raise ValueError(f"word classes must be one of {', '.join(CLASS_SOURCES)}, got {classes!r}")
    return _load_shipped(classes)  # one cache entry per source, however the caller names it


@lru_cache(maxsize=len(CLASS_SOURCES))
def _load_shipped(classes: str) -> WordTable:
    if classes == "lac":
        return with_classes(shipped("jieba"), LAC_CLASSES)
    return read(TABLE)


def _main(arguments: list[str]) -> None:
    if len(arguments) == 2:
        dictionary, out = Path(arguments[0]), arguments[1]
        save(build(dictionary), out, source=f"{dictionary.name}, sha256 {_file_digest(dictionary)}")
    elif len(arguments) == 3 and arguments[0] == "--classes":
        dictionary, out = Path(arguments[1]), arguments[2]
        base = shipped()
        save_classes(class_bytes(build(dictionary), base), base, out, source=f"{dictionary.name}, sha256 {_file_digest(dictionary)}")
    else:
        sys.exit("usage: python -m nertag.word_table JIEBA_DICT.TXT OUT\n"
                 "       python -m nertag.word_table --classes CLASSED_DICT.TXT OUT")


def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


if __name__ == "__main__":
    _main(sys.argv[1:])
