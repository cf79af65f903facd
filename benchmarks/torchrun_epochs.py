"""Seconds per training epoch on MSRA: one process against `torchrun --nproc-per-node N`.

    python benchmarks/torchrun_epochs.py                     # whole MSRA training set, 1 epoch
    python benchmarks/torchrun_epochs.py --limit 5000        # its first 5,000 sentences
    python benchmarks/torchrun_epochs.py --limit 50 --dev-limit 20 -- --hidden-size 16   # a smoke test

Both runs are `nertag train --epochs 1 --threads T` in fresh processes on the same slice; the
torchrun run starts N such processes (gloo, one CPU thread each by default). The figure per run is
the epoch's own seconds as the model records them (training and dev scoring, without start-up,
corpus reading and encoding), and the wall time of the whole command beside it. Dev is the first
--dev-limit sentences of MSRA test, kept small so the epoch is mostly training.

The batch size is per process, so by default the N processes step with N times the sentences
and take 1 / N of the steps: the per-step work of each process is that of the single one, and
the ratio shows how the steps spread over processes. --same-global-batch gives each process
batch_size / N instead (the optimisation of the single run, smaller steps each).

What to expect on a 2-core machine (see nertag/distributed.py): forward and backward split over
the processes, and dev tagging too; start-up (reading, vocabularies, encoding the whole corpus in
every process), the gradient all-reduce of every weight each step (embedding tables included)
and the optimizer and weight-average updates do not shrink. With one thread each, two processes
use the two cores a single one-thread process leaves half idle; against one process with two
threads the gain is smaller. Anything else running on the machine takes the cores both need.
Run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from msra_text import MSRA_TEST, MSRA_TRAIN  # noqa: E402


def first_sentences(source: Path, limit: int | None, target: Path) -> int:
    """Copy the first ``limit`` sentences (all when None) of a column file; returns how many."""
    count, in_sentence = 0, False
    with open(source, encoding="utf-8") as lines, open(target, "w", encoding="utf-8") as out:
        for line in lines:
            if line.strip():
                if not in_sentence:
                    if limit is not None and count == limit:
                        break
                    count, in_sentence = count + 1, True
                out.write(line)
            elif in_sentence:
                out.write("\n")
                in_sentence = False
        if in_sentence:
            out.write("\n")
    return count


def run_epoch(launcher: list[str], options: list[str], out: Path) -> tuple[float, float, float]:
    """(epoch seconds, wall seconds, dev F1) of one `nertag train --epochs 1` run."""
    started = time.perf_counter()
    done = subprocess.run([*launcher, "-m", "nertag", "train", *options, "--out", str(out)], cwd=ROOT, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{' '.join(launcher)} failed:\n{done.stderr}")
    training = json.loads((out / "config.json").read_text(encoding="utf-8"))["training"]
    return training["history"][0]["seconds"], wall, training["dev_f1"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=None, help="first N MSRA training sentences (default: all)")
    parser.add_argument("--dev-limit", type=int, default=500, help="first N MSRA test sentences as dev")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1, help="torch threads of each process")
    parser.add_argument("--batch-size", type=int, default=16, help="per process")
    parser.add_argument("--same-global-batch", action="store_true", help="torchrun processes take batch-size / N each")
    parser.add_argument("nertag_options", nargs="*", help="after --: more `nertag train` options, e.g. -- --hidden-size 64")
    args = parser.parse_args()
    if args.processes < 2 or (args.same_global_batch and args.batch_size % args.processes):
        parser.error("--processes must be 2 or more, and divide --batch-size with --same-global-batch")

    with tempfile.TemporaryDirectory() as folder:
        train_file, dev_file = Path(folder, "train.bioes"), Path(folder, "dev.bioes")
        sentences = first_sentences(MSRA_TRAIN, args.limit, train_file)
        first_sentences(MSRA_TEST, args.dev_limit, dev_file)
        common = ["--train", str(train_file), "--dev", str(dev_file), "--epochs", "1", "--threads", str(args.threads),
                  "--device", "cpu", *args.nertag_options]
        per_process = args.batch_size // args.processes if args.same_global_batch else args.batch_size
        single = run_epoch([sys.executable], [*common, "--batch-size", str(args.batch_size)], Path(folder, "one"))
        torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={args.processes}"]
        several = run_epoch(torchrun, [*common, "--batch-size", str(per_process)], Path(folder, "several"))

    print(f"MSRA train, {sentences} sentences; dev {args.dev_limit}; {args.threads} thread(s) a process")
    print(f"{'run':<40} {'epoch s':>8} {'wall s':>8} {'dev F1':>7}")
    for name, (epoch, wall, f1) in [
        (f"1 process, batch {args.batch_size}", single),
        (f"torchrun {args.processes} processes, batch {per_process} each", several),
    ]:
        print(f"{name:<40} {epoch:8.1f} {wall:8.1f} {100 * f1:7.2f}")
    print(f"ratio 1 process / {args.processes} processes: epoch {single[0] / several[0]:.2f}x, wall {single[1] / several[1]:.2f}x")


if __name__ == "__main__":
    main()
