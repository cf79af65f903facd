"""Scores with and without the gold entities whose names a list holds, for a model trained with
that list (`nertag train --swap-names LIST`): does it find only the names it was shown?

    python benchmarks/listed_entities.py GOLD --names LIST --model M [--model M2 ...] [--pred FILE ...] [--label-map NAME=PER,...]

For each model (or tagged file on GOLD's tokens, such as `benchmarks/lac_reference.py` writes): recall of listed and of unlisted gold entities (exact span and label), and micro
P/R/F1 of the rest, where the listed gold entities and every prediction overlapping one are left
out of both sides.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nertag import load  # noqa: E402
from nertag.conll import read_conll, relabel_corpus  # noqa: E402
from nertag.dictionary import read_entries  # noqa: E402
from nertag.schemes import Span, parse_label_map, spans  # noqa: E402


def overlaps(a: Span, b: Span) -> bool:
    return a.start < b.end and b.start < a.end


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("gold")
    parser.add_argument("--names", required=True, help="the name<TAB>LABEL list")
    parser.add_argument("--model", action="append", default=[])
    parser.add_argument("--pred", action="append", default=[], help="a column file tagging GOLD's tokens")
    parser.add_argument("--label-map", action="append", default=[])
    args = parser.parse_args()
    listed = {name.strip() for name, _ in read_entries(args.names)}
    gold = relabel_corpus(read_conll(args.gold), parse_label_map(args.label_map))
    if not args.model and not args.pred:
        parser.error("give --model or --pred")
    mapping = parse_label_map(args.label_map)
    runs = [(name, lambda name=name: load(name).predict([s.tokens for s in gold])) for name in args.model]
    runs += [(path, lambda path=path: [s.tags for s in relabel_corpus(read_conll(path), mapping)]) for path in args.pred]
    for name, tagging in runs:
        predicted = tagging()
        recall = {"listed": [0, 0], "unlisted": [0, 0]}
        hits = guesses = truths = 0
        for sentence, tags in zip(gold, predicted):
            guessed = set(spans(tags))
            gold_spans = spans(sentence.tags)
            on_list = [s for s in gold_spans if "".join(sentence.tokens[s.start : s.end]) in listed]
            for span in gold_spans:
                kind = "listed" if span in on_list else "unlisted"
                recall[kind][0] += span in guessed
                recall[kind][1] += 1
            rest_gold = {s for s in gold_spans if s not in on_list}
            rest_guessed = {s for s in guessed if not any(overlaps(s, g) for g in on_list)}
            hits += len(rest_gold & rest_guessed)
            guesses += len(rest_guessed)
            truths += len(rest_gold)
        p, r = 100 * hits / max(guesses, 1), 100 * hits / max(truths, 1)
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        print(name, "  ".join(f"{kind}: recall {100 * hit / max(total, 1):.1f} ({hit}/{total})" for kind, (hit, total) in recall.items()),
              f"  without the listed: P {p:.2f} R {r:.2f} F1 {f1:.2f} ({truths} gold)")


if __name__ == "__main__":
    main()
