"""Entity F1 of a style model on dev files, for each of several tag styles, in one load.

    python benchmarks/style_scan.py MODEL --gold /tmp/runs/msra_dev.bmes --gold /tmp/runs/cl_dev.bio \\
        --label-map NAME=PER,ADDRESS=LOC,... --style msra_train.bmes --style msra_train.bmes=0.8,cl_train.bio=0.2 --style ""

The same figures as `nertag score GOLD --model MODEL --style S --label-map M --precision float32`
(same tagging and scorer), without loading the model once per style and file.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nertag import load  # noqa: E402
from nertag.conll import read_conll, relabel_corpus  # noqa: E402
from nertag.schemes import Scheme, convert, parse_label_map  # noqa: E402
from nertag.scoring import score  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model")
    parser.add_argument("--gold", action="append", required=True, help="a dev file (repeatable)")
    parser.add_argument("--style", action="append", required=True, help='a tag style (repeatable; "" is the mixture)')
    parser.add_argument("--label-map", action="append", default=[], help="applied to the gold files, as nertag score does")
    args = parser.parse_args()
    mapping = parse_label_map(args.label_map)
    golds = {path: relabel_corpus(read_conll(path), mapping) for path in args.gold}
    tagger = load(args.model)
    for style in args.style:
        tagger.style = style
        figures = []
        for path, sentences in golds.items():
            predicted = tagger.predict([s.tokens for s in sentences])
            report = score([convert(s.tags, Scheme.BIO) for s in sentences], predicted)
            figures.append(f"{Path(path).name} F1 {100 * report.micro.f1:6.2f}")
        print(f"{style or '(mixture)':<50} " + "   ".join(figures), flush=True)


if __name__ == "__main__":
    main()
