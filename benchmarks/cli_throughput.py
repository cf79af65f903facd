"""`nertag tag` end to end on the MSRA training text (2.15M characters, one segment a line).

    python benchmarks/cli_throughput.py [--model M] [--workers 1 2] [--precision auto]

Each setting runs `python -m nertag tag FILE -o /dev/null` once in a fresh process; the figure is
characters per second of wall time, process start and model loading included, as a user meets it.
Run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from msra_text import MSRA_TRAIN, sentences_as_lines  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, help="default: the built-in model of each line's language")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--precision", default="auto")
    args = parser.parse_args()
    lines = sentences_as_lines(MSRA_TRAIN)
    characters = sum(map(len, lines))
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder, "msra_train.txt")
        source.write_text("\n".join(lines) + "\n", encoding="utf-8")
        for workers in args.workers:
            command = [sys.executable, "-m", "nertag", "tag", str(source), "-o", os.devnull,
                       "--workers", str(workers), "--precision", args.precision]
            if args.model:
                command += ["--model", args.model]
            started = time.perf_counter()
            subprocess.run(command, check=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
            seconds = time.perf_counter() - started
            print(f"{len(lines)} lines, {characters:,} characters, --workers {workers} --precision {args.precision}"
                  f"{' --model ' + args.model if args.model else ''}: {seconds:.1f} s, {characters / seconds:,.0f} chars/s")


if __name__ == "__main__":
    main()
