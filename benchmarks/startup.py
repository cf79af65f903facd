"""Wall time of short `nertag` commands, as a user meets them: `--help`, and one line tagged.

    python benchmarks/startup.py [--runs 5] [--model MODEL]

Each command runs in a fresh process (`python -m nertag ...` from the checkout) `--runs` times after
one warm-up; the minimum and median are printed. Run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def wall(command: list[str], text: str | None, runs: int) -> list[float]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run(command, input=text, capture_output=True, text=True, env=env, check=True)  # warm-up
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, input=text, capture_output=True, text=True, env=env, check=True)
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--model", default=None, help="default: the built-in model of the line's language")
    args = parser.parse_args()
    nertag = [sys.executable, "-m", "nertag"]
    tag = [*nertag, "tag", *(["--model", args.model] if args.model else [])]
    for name, command, text in (
        ("nertag --help", [*nertag, "--help"], None),
        ("echo 姚明出生于河南省郑州市。 | nertag tag", tag, "姚明出生于河南省郑州市。\n"),
    ):
        times = wall(command, text, args.runs)
        print(f"{name:<45} min {min(times):.2f} s  median {statistics.median(times):.2f} s  ({args.runs} runs)")


if __name__ == "__main__":
    main()
