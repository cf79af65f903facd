"""Reliability of entity confidences: precision of predicted entities per confidence bin.

    python benchmarks/calibration.py --model zh-resume --gold ../shared/corpora/resume/dev.char.bmes
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nertag import load  # noqa: E402
from nertag.conll import read_conll  # noqa: E402
from nertag.schemes import spans  # noqa: E402

BINS = [0.0, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0000001]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True)
    parser.add_argument("--gold", required=True)
    args = parser.parse_args()
    tagger = load(args.model)
    gold = read_conll(args.gold)
    predicted = tagger.predict_spans([s.tokens for s in gold])
    rows = []  # (confidence, correct)
    for sentence, found in zip(gold, predicted):
        truth = set(spans(sentence.tags))
        rows.extend((confidence, span in truth) for span, confidence in found)
    print(f"{args.model} on {args.gold}: {len(rows)} predicted entities")
    print("| confidence | entities | precision | mean confidence |")
    print("|---|---|---|---|")
    for low, high in zip(BINS, BINS[1:]):
        chosen = [(c, ok) for c, ok in rows if low <= c < high]
        if chosen:
            precision = sum(ok for _, ok in chosen) / len(chosen)
            mean = sum(c for c, _ in chosen) / len(chosen)
            print(f"| [{low:.2f}, {min(high, 1.0):.2f}) | {len(chosen)} | {precision:.4f} | {mean:.4f} |")
    confident = [ok for c, ok in rows if c >= 0.9]
    print(f"precision at confidence >= 0.9: {sum(confident) / len(confident):.4f} over {len(confident)} entities "
          f"({len(confident) / len(rows):.1%} of all)")


if __name__ == "__main__":
    main()
