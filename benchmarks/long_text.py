"""Tag one long Chinese line through the CLI path and report peak memory and whether text survived.

    python benchmarks/long_text.py --chars 1000000 [--model zh-msra]

Builds the text from the MSRA test split (its characters joined with no line breaks, repeated as
needed), runs `nertag tag` in a child process, and checks that the output record's text equals the
input and that every entity's offsets index it.  Peak memory is the child's maximum resident size.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MSRA_TEST = ROOT.parent / "shared" / "corpora" / "msra" / "test.bioes"


def long_line(chars: int) -> str:
    source = "".join(line.split()[0] for line in MSRA_TEST.read_text(encoding="utf-8").splitlines() if line.strip())
    return (source * (chars // len(source) + 1))[:chars]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chars", type=int, default=1_000_000)
    parser.add_argument("--model", default=None)
    args = parser.parse_args()
    text = long_line(args.chars)
    with tempfile.TemporaryDirectory() as folder:
        source, target = Path(folder, "in.txt"), Path(folder, "out.jsonl")
        source.write_text(text, encoding="utf-8")
        command = [sys.executable, str(ROOT / "cli.py"), "tag", str(source), "-o", str(target)]
        if args.model:
            command += ["--model", args.model]
        started = time.perf_counter()
        subprocess.run(command, check=True)
        seconds = time.perf_counter() - started
        peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        records = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert len(records) == 1 and records[0]["text"] == text, "output text differs from the input"
    entities = records[0]["entities"]
    assert all(text[e["start"] : e["end"]] == e["text"] for e in entities)
    print(f"{len(text)} characters, {len(entities)} entities, {seconds:.1f} s "
          f"({len(text) / seconds:,.0f} chars/s), peak memory {peak_mib:.0f} MiB; output text equals input")


if __name__ == "__main__":
    main()
