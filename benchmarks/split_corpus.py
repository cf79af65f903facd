"""Write a seeded train/dev split of a corpus, the same split `nertag train --dev-fraction` holds out.

    python benchmarks/split_corpus.py CORPUS --fraction 0.1 --seed 1 --out-train T --out-dev D

Sentences are written as `token tag` lines in the corpus's own scheme, so both files can be given
to `nertag train --dev` and `nertag score`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nertag.commands.train import hold_out  # noqa: E402
from nertag.conll import read_conll, write_conll  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus")
    parser.add_argument("--fraction", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out-train", required=True)
    parser.add_argument("--out-dev", required=True)
    args = parser.parse_args()
    rest, held = hold_out(read_conll(args.corpus), args.fraction, args.seed)
    for path, sentences in ((args.out_train, rest), (args.out_dev, held)):
        with open(path, "w", encoding="utf-8") as out:
            write_conll(sentences, out)
        print(f"{path}: {len(sentences)} sentences")


if __name__ == "__main__":
    main()
