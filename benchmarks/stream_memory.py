"""Peak memory of `nertag tag` on inputs of growing size: streaming keeps it flat.

    python benchmarks/stream_memory.py --megabytes 10 100 [--model zh-msra] [--text FILE]

Each size is a file of whole lines repeated from ``--text`` (default: the MSRA test split's
sentences, one a line), tagged by `python -m nertag tag FILE -o /dev/null` in its own child
process; the figure is that child's maximum resident size (``wait4``), with its wall time.
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

from msra_text import MSRA_TEST, sentences_as_lines  # noqa: E402


def write_input(path: Path, lines: list[str], megabytes: float) -> int:
    """Repeat ``lines`` until the file holds ``megabytes``; returns its character count."""
    target = int(megabytes * 1024 * 1024)
    written = characters = 0
    block = "\n".join(lines) + "\n"
    encoded = block.encode("utf-8")
    with open(path, "wb") as handle:
        while written < target:
            handle.write(encoded)
            written += len(encoded)
            characters += len(block)
    return characters


def peak_of_tagging(path: Path, model: str | None) -> tuple[float, float]:
    """(peak resident MiB, wall seconds) of one `nertag tag` child."""
    command = [sys.executable, "-m", "nertag", "tag", str(path), "-o", os.devnull]
    if model:
        command += ["--model", model]
    started = time.perf_counter()
    child = subprocess.Popen(command, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"nertag tag failed with status {os.waitstatus_to_exitcode(status)}")
    return usage.ru_maxrss / 1024, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--megabytes", type=float, nargs="+", default=[10, 100])
    parser.add_argument("--model", default=None)
    parser.add_argument("--text", type=Path, default=None, help="a text file, one document a line")
    args = parser.parse_args()
    lines = args.text.read_text(encoding="utf-8").splitlines() if args.text else sentences_as_lines(MSRA_TEST)
    with tempfile.TemporaryDirectory() as folder:
        for megabytes in args.megabytes:
            path = Path(folder, f"in-{megabytes:g}.txt")
            characters = write_input(path, lines, megabytes)
            peak, seconds = peak_of_tagging(path, args.model)
            print(f"{megabytes:g} MB ({characters:,} characters): peak {peak:.0f} MiB, {seconds:.1f} s "
                  f"({characters / seconds:,.0f} chars/s)", flush=True)
            path.unlink()


if __name__ == "__main__":
    main()
