"""Entity F1 of `nertag tag` on raw text: a character corpus's sentences, one a line, tagged as a user
tags a file, scored against the corpus's gold entities.

    python benchmarks/raw_text_f1.py ../shared/corpora/msra/test.bioes [--model M] [--precision auto] \
        [--tag-options "--dictionary FILE --policy gaps"]

Unlike `nertag score --model`, which hands the model the gold tokens, this goes through the whole
path a user meets: the CLI, sentence splitting, tokenization and, with no --model, the default of
each line's language. Each entity's character offsets become BIO tags over the characters.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nertag.conll import read_conll, relabel_corpus  # noqa: E402
from nertag.schemes import Scheme, Span, parse_label_map, to_tags  # noqa: E402
from nertag.scoring import score  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("gold")
    parser.add_argument("--model", default=None)
    parser.add_argument("--precision", default="auto")
    parser.add_argument("--label-map", action="append", default=[])
    parser.add_argument("--tag-options", default="", help="more `nertag tag` options, split as a shell would")
    args = parser.parse_args()
    gold = relabel_corpus(read_conll(args.gold), parse_label_map(args.label_map))
    if any(len(t) != 1 for s in gold for t in s.tokens):
        raise SystemExit("expected a corpus of one character a token")
    lines = ["".join(s.tokens) for s in gold]
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder, "in.txt")
        source.write_text("\n".join(lines) + "\n", encoding="utf-8")
        command = [sys.executable, "-m", "nertag", "tag", str(source), "--precision", args.precision]
        if args.model:
            command += ["--model", args.model]
        command += shlex.split(args.tag_options)
        done = subprocess.run(command, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                              capture_output=True, text=True, check=True)
    records = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["text"] for r in records] == lines, "tagging changed the text"
    predicted = [
        to_tags([Span(e["start"], e["end"], e["label"]) for e in r["entities"]], len(r["text"]), Scheme.BIO)
        for r in records
    ]
    report = score([list(s.tags) for s in gold], predicted)
    models = sorted({r["model"] for r in records})
    print(f"{Path(args.gold).name}, raw text through nertag tag ({', '.join(models)}, --precision {args.precision}): "
          f"P {100 * report.micro.precision:.2f} R {100 * report.micro.recall:.2f} F1 {100 * report.micro.f1:.2f}")
    for label, scores in sorted(report.per_type.items()):
        print(f"  {label:<6} F1 {100 * scores.f1:.2f} ({scores.support})")


if __name__ == "__main__":
    main()
