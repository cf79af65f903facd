"""DatasetTagger throughput inside the engines: datasets.map with num_proc 1 and 2, Ray Data
map_batches with concurrency 1 and 2, on the MSRA training text (one sentence a row).

    python benchmarks/engines_throughput.py [--model zh-general] [--limit N] [--only datasets|ray]

Each figure is wall time for the whole map, process and actor start and model loading included,
as a user meets it; all runs happen in this one process, one after the other, so their ratios
hold even when the machine's absolute speed drifts. Ray's own start (ray.init) is timed apart.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nertag.conll import read_conll  # noqa: E402
from nertag.dataset_tagger import DatasetTagger  # noqa: E402

CORPORA = ROOT.parent / "shared" / "corpora"


def report(name: str, seconds: float, characters: int, reference: float | None) -> float:
    speed = characters / seconds
    ratio = f"  {speed / reference:5.2f}x" if reference else ""
    print(f"  {name:<32} {seconds:7.1f} s  {speed:9,.0f} chars/s{ratio}", flush=True)
    return speed


def time_datasets(texts: list[str], model: str | None, batch_size: int) -> None:
    import datasets

    datasets.disable_progress_bars()
    datasets.disable_caching()
    dataset = datasets.Dataset.from_dict({"text": texts})
    characters = sum(map(len, texts))
    reference = None
    for processes in (1, 2):
        started = time.perf_counter()
        tagged = dataset.map(DatasetTagger(model), batched=True, batch_size=batch_size, num_proc=processes if processes > 1 else None)
        seconds = time.perf_counter() - started
        assert len(tagged) == len(texts)
        speed = report(f"datasets.map num_proc={processes}", seconds, characters, reference)
        reference = reference or speed


def time_ray(texts: list[str], model: str | None, batch_size: int) -> None:
    import ray

    started = time.perf_counter()
    ray.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False, configure_logging=False)
    print(f"  ray.init                          {time.perf_counter() - started:7.1f} s")
    characters = sum(map(len, texts))
    reference = None
    try:
        for concurrency in (1, 2):
            dataset = ray.data.from_items([{"text": t} for t in texts]).materialize()
            started = time.perf_counter()
            rows = dataset.map_batches(
                DatasetTagger, fn_constructor_kwargs={"model": model}, batch_size=batch_size,
                compute=ray.data.ActorPoolStrategy(size=concurrency),
            ).materialize().count()
            seconds = time.perf_counter() - started
            assert rows == len(texts)
            speed = report(f"ray map_batches concurrency={concurrency}", seconds, characters, reference)
            reference = reference or speed
    finally:
        ray.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, help="model name or folder (default: each row's language default)")
    parser.add_argument("--limit", type=int, default=None, help="first N sentences only")
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--only", choices=["datasets", "ray"], default=None)
    args = parser.parse_args()
    sentences = read_conll(CORPORA / "msra" / "train.bioes")[: args.limit]
    texts = ["".join(s.tokens) for s in sentences]
    print(f"MSRA train text: {len(texts)} rows, {sum(map(len, texts)):,} characters; {os.cpu_count()} CPUs; batch size {args.batch_size}")
    if args.only in (None, "datasets"):
        time_datasets(texts, args.model, args.batch_size)
    if args.only in (None, "ray"):
        time_ray(texts, args.model, args.batch_size)


if __name__ == "__main__":
    main()
