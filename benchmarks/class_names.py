"""Write the names the lexicon's word table classes as PER, LOC or ORG, as a ``name<TAB>LABEL`` list
for `nertag train --swap-names` (or `nertag tag --dictionary`).

    python benchmarks/class_names.py --classes lac --labels LOC,ORG --out names.tsv

The words are jieba's dictionary words of 2 to 8 characters; their classes come from jieba's parts
of speech or, with ``--classes lac``, from Baidu LAC tagging each word alone
(`benchmarks/lac_word_classes.py`). Nothing is downloaded: both tables ship with nertag.
"""

from __future__ import annotations

import argparse
import sys

from nertag.safe_write import open_output
from nertag.word_table import CLASS_SOURCES, WordTable, shipped

LABEL_OF_CLASS = {0: "PER", 1: "LOC", 2: "ORG"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--classes", choices=CLASS_SOURCES, default="lac")
    parser.add_argument("--labels", default="PER,LOC,ORG", help="which of PER, LOC and ORG to write")
    parser.add_argument("--out", default=None, help="default: standard output")
    args = parser.parse_args()
    wanted = set(args.labels.split(","))
    unknown = wanted - set(LABEL_OF_CLASS.values())
    if unknown:
        parser.error(f"--labels: expected PER, LOC or ORG, got {', '.join(sorted(unknown))}")
    table = shipped(args.classes)
    written = dict.fromkeys(sorted(wanted), 0)
    with open_output(args.out, sys.stdout) as out:  # through links and into pipes, as nertag writes
        for word, value in zip(table.keys.split("\n"), table.packed.tolist()):
            label = LABEL_OF_CLASS.get(WordTable.name_class(value))
            if label in wanted and WordTable.count(value) > 0:
                out.write(f"{word}\t{label}\n")
                written[label] += 1
    print(", ".join(f"{label} {count}" for label, count in written.items()), file=sys.stderr)


if __name__ == "__main__":
    main()
