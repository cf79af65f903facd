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
"""

from __future__ import annotations

import hashlib
import sys
from functools import lru_cache
from pathlib import Path

import numpy as np
from safetensors import SafetensorError, safe_open
from safetensors.numpy import save as save_bytes

from .safe_write import open_output

MIN_LENGTH = 2
MAX_LENGTH = 8  # longer dictionary entries are mostly idioms and names of laws
NAME_CLASSES = {"nr": 0, "nrt": 0, "nrfg": 0, "ns": 1, "nt": 2, "nz": 3}  # person, place, organisation, other
TABLE = Path(__file__).with_name("data") / "jieba_words.safetensors"
FORMAT = 1


class WordTable:
    """Word or prefix -> packed value (see the module docstring), and the dictionary's total count."""

    def __init__(self, values: dict[str, int], total: int) -> None:
        self.values = values
        self.total = total

    @staticmethod
    def count(value: int) -> int:
        return value >> 3

    @staticmethod
    def name_class(value: int) -> int:
        """0 person, 1 place, 2 organisation, 3 other proper noun; -1 not a name."""
        return (value & 7) - 1


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
    keys = np.frombuffer("\n".join(table.values).encode("utf-8"), dtype=np.uint8)
    values = np.fromiter(table.values.values(), dtype=np.uint32, count=len(table.values))
    metadata = {"format": str(FORMAT), "source": source, "total": str(table.total), "keys": str(len(table.values))}
    with open_output(str(path), sys.stdout, binary=True) as out:
        out.write(save_bytes({"keys": keys, "values": values}, metadata=metadata))


def read(path: Path) -> WordTable:
    try:
        with safe_open(str(path), framework="np") as stored:
            metadata = stored.metadata() or {}
            if metadata.get("format") != str(FORMAT):
                raise ValueError(f"{path}: word table format {metadata.get('format')!r}, expected {FORMAT}")
            keys = stored.get_tensor("keys").tobytes().decode("utf-8").split("\n")
            values = stored.get_tensor("values").tolist()
    except SafetensorError as error:
        raise ValueError(f"{path}: word table is damaged ({error})") from None
    if len(keys) != int(metadata["keys"]) or len(values) != len(keys):
        raise ValueError(f"{path}: word table is damaged ({len(keys)} keys, {len(values)} values, "
                         f"its metadata says {metadata['keys']} keys)")
    return WordTable(dict(zip(keys, values)), int(metadata["total"]))


@lru_cache(maxsize=1)
def shipped() -> WordTable:
    """The table made from jieba's dictionary, loaded once."""
    return read(TABLE)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python -m nertag.word_table JIEBA_DICT.TXT OUT")
    dictionary = Path(sys.argv[1])
    digest = hashlib.sha256(dictionary.read_bytes()).hexdigest()
    save(build(dictionary), sys.argv[2], source=f"{dictionary.name}, sha256 {digest}")
