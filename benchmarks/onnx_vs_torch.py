"""onnxruntime against torch on the MSRA test text, in one process: emission network alone and
tag_many() end to end, at several batch sizes (max_tokens, padded tokens a batch).

    python benchmarks/onnx_vs_torch.py --threads 1
    python benchmarks/onnx_vs_torch.py --model zh-msra --max-tokens 512 8192 --rounds 5
    python benchmarks/onnx_vs_torch.py --limit 50 --rounds 1     # a quick check that it runs

Backends: torch float32, torch bfloat16 (autocast; fast only on CPUs with native bfloat16, which
the header says) and onnxruntime (float32, its emission network exported in memory). Each round
runs every backend and batch size once, one right after the other, and the best of the rounds is
kept, so a machine whose speed drifts (a training beside) still gives fair ratios. Speeds are
characters a second; ratios are against torch float32 at the same batch size.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Callable

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from msra_text import MSRA_TEST, sentences_as_lines  # noqa: E402

import nertag  # noqa: E402
from nertag.batch import Batch  # noqa: E402
from nertag.hardware import cpu_has_native_bfloat16  # noqa: E402
from nertag.tagger import Tagger  # noqa: E402

BACKENDS = ("torch float32", "torch bfloat16", "onnxruntime")


def load(model: str, backend: str) -> Tagger:
    if backend == "onnxruntime":
        return nertag.load(model, backend="onnx")
    return nertag.load(model, precision=backend.split()[1])


def batches(tagger: Tagger, texts: list[str], max_tokens: int) -> list[Batch]:
    """The network batches tag_many() would run for ``texts``: same sentence split, same grouping."""
    token_lists = [[text[s:e] for s, e in sentence] for text in texts for sentence in tagger.tokenize(text)]
    found = []
    for chunk, corpus in tagger._encoded_chunks(token_lists):
        for group in tagger._batches([len(token_lists[i]) for i in chunk], max_tokens):
            found.append(corpus.batch(torch.tensor(group)))
    return found


def seconds(run: Callable[[], object]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="zh-general")
    parser.add_argument("--max-tokens", type=int, nargs="+", default=[512, 2048, 8192])
    parser.add_argument("--rounds", type=int, default=3, help="Best of this many rounds.")
    parser.add_argument("--threads", type=int, default=1, help="Intra-op threads for torch and onnxruntime alike.")
    parser.add_argument("--limit", type=int, default=None, help="Only the first N sentences of the text.")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)  # before loading: onnxruntime's session takes the same count
    texts = sentences_as_lines(MSRA_TEST)[: args.limit]
    characters = sum(len(text) for text in texts)
    taggers = {backend: load(args.model, backend) for backend in BACKENDS}
    reference = taggers["torch float32"]
    prepared = {size: batches(reference, texts, size) for size in args.max_tokens}
    print(f"model {args.model}, {len(texts)} sentences, {characters} characters, {args.threads} thread(s), "
          f"torch {torch.__version__}, onnxruntime {__import__('onnxruntime').__version__}, "
          f"native bfloat16: {'yes' if cpu_has_native_bfloat16() else 'no (bfloat16 is emulated, slow)'}")

    expected = [[(e.start, e.end, e.label) for e in row] for row in reference.tag_many(texts)]
    for backend, tagger in taggers.items():  # warm up, and check that the backends agree
        found = [[(e.start, e.end, e.label) for e in row] for row in tagger.tag_many(texts)]
        differing = sum(a != b for a, b in zip(found, expected))
        print(f"  {backend}: {differing} of {len(texts)} sentences tagged differently from torch float32")

    best: dict[tuple[str, str, int], float] = {}
    for _ in range(args.rounds):
        for size in args.max_tokens:
            for backend, tagger in taggers.items():
                with torch.inference_mode():
                    took = seconds(lambda t=tagger, s=size: [t._emissions(batch) for batch in prepared[s]])
                best[("emissions", backend, size)] = min(took, best.get(("emissions", backend, size), took))
                took = seconds(lambda t=tagger, s=size: t.tag_many(texts, max_tokens=s))
                best[("tag_many", backend, size)] = min(took, best.get(("tag_many", backend, size), took))

    print(f"\n{'what':<10}{'max_tokens':>11}  " + "".join(f"{b:>16}" for b in BACKENDS) + "   ratios to torch float32")
    for what in ("emissions", "tag_many"):
        for size in args.max_tokens:
            float32, bfloat16, onnx = (characters / best[(what, backend, size)] for backend in BACKENDS)
            speeds = "".join(f"{speed:>12,.0f} c/s" for speed in (float32, bfloat16, onnx))
            print(f"{what:<10}{size:>11}  {speeds}   bf16 {bfloat16 / float32:.2f}x, onnx {onnx / float32:.2f}x")


if __name__ == "__main__":
    main()
