"""Fine-tuning a shipped model against training from scratch on a few hundred sentences of a new domain.

    python benchmarks/finetune_slice.py [--sentences 300] [--init zh-general] [--epochs 15 --patience 4]

Takes the first N sentences of a training corpus (default: Resume, biographies, which none of the
general-domain models saw), writes that slice to a work folder outside the repository, and trains
through the CLI with the same settings:

- ``scratch``: the defaults `nertag train` picks for the corpus;
- ``scratch-same-architecture``: from random weights, with the initial model's architecture, so
  that the starting weights are the only difference from the next run;
- ``init``: ``--init MODEL``, starting from the shipped model.

Each model is picked on the dev file (early stopping) and scored once on the test file; the script
prints every command it ran and a table of dev and test entity F1. Resume's NAME is mapped to PER
(``--label-map``), the name the shipped models use, in every run and in scoring alike.
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

from nertag.conll import read_conll, write_conll  # noqa: E402
from nertag.finetune import read_initial_config  # noqa: E402

RESUME = ROOT.parent / "shared" / "corpora" / "resume"
VARIANTS = ("scratch", "scratch-same-architecture", "init")


def architecture_options(model: str) -> list[str]:
    """`nertag train` options that rebuild ``model``'s architecture from random weights."""
    config = read_initial_config(model)
    return [
        "--unit", config.token_unit, "--scheme", config.scheme, "--cell", config.cell,
        "--hidden-size", str(config.hidden_size), "--layers", str(config.layers), "--word-dim", str(config.word_dim),
        "--char-dim", str(config.char_dim), "--bigram-dim", str(config.bigram_dim), "--segment-dim", str(config.segment_dim),
        "--shape-dim", str(config.shape_dim), "--lexicon" if config.lexicon else "--no-lexicon",
        "--latin-runs" if config.latin_runs else "--no-latin-runs",
    ]


def run(command: list[str]) -> str:
    """Run a nertag command from the checkout, echoing it; returns its standard output."""
    print("$ nertag " + shlex.join(command), flush=True)
    done = subprocess.run(
        [sys.executable, "-m", "nertag", *command], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE, text=True, check=True,
    )
    return done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train", default=str(RESUME / "train.char.bmes"))
    parser.add_argument("--dev", default=str(RESUME / "dev.char.bmes"))
    parser.add_argument("--test", default=str(RESUME / "test.char.bmes"))
    parser.add_argument("--sentences", type=int, default=300, help="The first N training sentences.")
    parser.add_argument("--init", default="zh-general", help="Built-in model or folder to fine-tune.")
    parser.add_argument("--label-map", default="NAME=PER")
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--patience", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--variants", default=",".join(VARIANTS), help=f"Comma-separated, of {', '.join(VARIANTS)}.")
    parser.add_argument("--work", default=None, help="Folder for the slice and the models (default: a new temporary one).")
    args = parser.parse_args()
    variants = args.variants.split(",")
    if not set(variants) <= set(VARIANTS):
        parser.error(f"--variants: expected some of {', '.join(VARIANTS)}")

    work = Path(args.work or tempfile.mkdtemp(prefix="nertag-finetune-"))
    work.mkdir(parents=True, exist_ok=True)
    sliced = work / f"train_first{args.sentences}.bmes"
    with open(sliced, "w", encoding="utf-8") as out:
        write_conll(read_conll(args.train)[: args.sentences], out)
    print(f"{sliced}: first {args.sentences} sentences of {args.train}", flush=True)

    common = [
        "--train", str(sliced), "--dev", args.dev, "--label-map", args.label_map, "--epochs", str(args.epochs),
        "--patience", str(args.patience), "--threads", str(args.threads), "--seed", str(args.seed), "--device", "cpu",
    ]
    extra = {
        "scratch": [],
        "scratch-same-architecture": architecture_options(args.init),
        "init": ["--init", args.init],
    }
    rows = []
    for variant in variants:
        out_dir = work / variant
        run(["train", *common, *extra[variant], "--out", str(out_dir)])
        facts = json.loads((out_dir / "config.json").read_text(encoding="utf-8"))["training"]
        scores = json.loads(run([
            "score", args.test, "--model", str(out_dir), "--label-map", args.label_map, "--json",
            "--threads", str(args.threads), "--precision", "float32",
        ]))
        rows.append((variant, facts["dev_f1"], scores["micro"]["f1"], facts["best_epoch"], facts["epochs_run"]))

    print(f"\n{args.sentences} sentences of {Path(args.train).name}; dev {Path(args.dev).name}, test {Path(args.test).name}")
    print(f"{'run':<28}{'dev F1':>8}{'test F1':>9}{'best epoch':>12}{'epochs':>8}")
    for variant, dev_f1, test_f1, best, ran in rows:
        print(f"{variant:<28}{100 * dev_f1:8.2f}{100 * test_f1:9.2f}{best:12d}{ran:8d}")


if __name__ == "__main__":
    main()
