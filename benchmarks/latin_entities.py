"""Recall of gold entities that hold Latin letters or digits (Google, iPhone6, CS:GO) against all.

    python benchmarks/latin_entities.py GOLD --model M [--model M2 ...] [--label-map NAME=PER,...]

Chinese models trained one character a token see a Latin name letter by letter; this says how many
such entities a model finds exactly (same span and label), next to its recall on the rest.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nertag import load  # noqa: E402
from nertag.conll import read_conll, relabel_corpus  # noqa: E402
from nertag.schemes import parse_label_map, spans  # noqa: E402

LATIN = re.compile(r"[A-Za-z0-9\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("gold")
    parser.add_argument("--model", action="append", required=True)
    parser.add_argument("--label-map", action="append", default=[])
    args = parser.parse_args()
    gold = relabel_corpus(read_conll(args.gold), parse_label_map(args.label_map))
    for name in args.model:
        predicted = load(name).predict([s.tokens for s in gold])
        found = {"latin": [0, 0], "other": [0, 0]}
        for sentence, tags in zip(gold, predicted):
            guessed = set(spans(tags))
            for span in spans(sentence.tags):
                kind = "latin" if LATIN.search("".join(sentence.tokens[span.start : span.end])) else "other"
                found[kind][0] += span in guessed
                found[kind][1] += 1
        print(name, "  ".join(f"{kind}: recall {100 * hit / max(total, 1):.1f} ({hit}/{total})" for kind, (hit, total) in found.items()))


if __name__ == "__main__":
    main()
