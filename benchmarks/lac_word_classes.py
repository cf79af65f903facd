"""Write jieba's dictionary again with each word's part of speech replaced by Baidu LAC's class.

    LAC_PYTHON benchmarks/lac_word_classes.py JIEBA_DICT.TXT --out CLASSED_DICT.TXT
    python -m nertag.word_table --classes CLASSED_DICT.TXT nertag/data/lac_word_classes.safetensors

Runs in LAC's own environment (see `benchmarks/lac_reference.py`). Each word of 2 to 8 characters
(the lengths the lexicon looks up) is given to LAC alone. When LAC reads it as one word tagged PER,
LOC, ORG or nz (another proper noun), the word gets jieba's matching part of speech (nr, ns, nt,
nz); otherwise it gets none. Counts and word order are jieba's, so the classes line up with
nertag's word table key for key. LAC 2.1.2 is Apache-2.0; the classes it gives are data derived
from it, and `nertag/data/README.md` says so.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lac_reference import load_lac

JIEBA_CLASS = {"PER": "nr", "LOC": "ns", "ORG": "nt", "nz": "nz"}
MIN_LENGTH, MAX_LENGTH = 2, 8  # as nertag.word_table


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dictionary", type=Path, help="jieba's dict.txt (word count [part of speech] per line)")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    lac = load_lac()
    found: dict[str, int] = {}
    number = 0
    with args.dictionary.open(encoding="utf-8") as lines, args.out.open("w", encoding="utf-8") as out:
        for number, line in enumerate(lines, 1):
            parts = line.split()
            if len(parts) not in (2, 3):
                sys.exit(f"{args.dictionary}:{number}: expected 'word count [tag]'")
            word, count = parts[0], parts[1]
            name_class = None
            if MIN_LENGTH <= len(word) <= MAX_LENGTH:
                words, labels = lac.run(word)
                if len(words) == 1 and labels[0] in JIEBA_CLASS:
                    name_class = JIEBA_CLASS[labels[0]]
                    found[name_class] = found.get(name_class, 0) + 1
            out.write(f"{word} {count} {name_class}\n" if name_class else f"{word} {count}\n")
    print(f"{args.out}: {number} words; classes {found}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
