"""Where tagging time goes: each stage of tagging MSRA test with a built-in model, timed alone.

    python benchmarks/tagging_profile.py [--model zh-msra]

Prints seconds (fastest of 3) for jieba segmentation, all feature encoding, the network's
emissions in float32 and bfloat16 on 2 and on 1 threads, Viterbi, predict_spans() end to end (in
the model's precision, float32 by default) and tag_many() end to end in bfloat16 (what issue 12 times;
also with the sentence LSTM run as before and as now, in alternating rounds),
so that the core-seconds a stage needs can be compared with what two cores can give.
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

from nertag import load  # noqa: E402
from nertag.conll import read_conll  # noqa: E402
from nertag.segment import segment  # noqa: E402

CORPORA = ROOT.parent / "shared" / "corpora"


def fastest(run: Callable[[], object], rounds: int = 3) -> float:
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
    return best


def lstm_floor(tagger, batches) -> None:
    """The sentence LSTM alone in bfloat16, against what its arithmetic costs at this machine's
    measured bfloat16 matrix-product rate: how much faster tagging could get without a smaller
    network."""
    from nertag.birnn import bidirectional

    encoder = tagger.net.encoder
    inputs = [torch.randn(b.words.size(1), b.words.size(0), encoder.input_size) for b in batches]  # time-major
    with torch.autocast("cpu", dtype=torch.bfloat16):
        seconds = fastest(lambda: [bidirectional(encoder, x, b.lengths, time_major=True) for x, b in zip(inputs, batches)])
    padded = sum(x.size(0) * x.size(1) for x in inputs)
    hidden, width = encoder.hidden_size, encoder.input_size
    flops = padded * 2 * (2 * 4 * hidden * (width + hidden))  # two directions, input and recurrent products
    a = torch.randn(8192, width, dtype=torch.bfloat16)
    w = torch.randn(width, 4 * hidden, dtype=torch.bfloat16)
    rate = 2 * 8192 * width * 4 * hidden / fastest(lambda: a @ w, 10)
    print(f"  sentence LSTM alone, bfloat16 2 threads {seconds:6.2f}   ({flops / 1e9:.0f} GFLOP; at the measured "
          f"bfloat16 product rate of {rate / 1e9:.0f} GFLOP/s it needs at least {flops / rate:.2f} s)")
    lstm_int8(encoder, [x.transpose(0, 1) for x in inputs])


def lstm_int8(encoder: torch.nn.LSTM, inputs: list[torch.Tensor]) -> None:
    """The same LSTM with int8 weights (PyTorch's dynamic quantization, fbgemm): int8 products
    are twice as dense as bfloat16 ones on AVX-512 VNNI, but each step quantizes its state anew."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.ao.quantization's notice that it moves to torchao
        quantized = torch.ao.quantization.quantize_dynamic(torch.nn.Sequential(encoder), {torch.nn.LSTM}, dtype=torch.qint8)[0]
    seconds = fastest(lambda: [quantized(x) for x in inputs])
    print(f"  sentence LSTM alone, int8 dynamic 2 threads {seconds:6.2f}   (packed weights, both directions in one call)")


def layouts(tagger, texts: list[str], rounds: int = 10) -> None:
    """tag_many() in bfloat16 with the sentence LSTM run as tagging ran it before (batch-first,
    autocast casting the input in each direction's call) and as it runs now (time-major, the
    input cast once), in alternating rounds whose order alternates too, so that drift hits both alike."""
    import nertag.birnn

    computed_now = tagger.net.emissions
    cast_once = nertag.birnn._autocast_dtype

    def computed_before(batch):
        nertag.birnn._autocast_dtype = lambda _: None
        try:
            return computed_now(batch, time_major=False)
        finally:
            nertag.birnn._autocast_dtype = cast_once

    seconds: dict[str, list[float]] = {"before": [], "now": []}
    ways = [("before", computed_before), ("now", computed_now)]
    for round_number in range(rounds):
        for name, emissions in ways if round_number % 2 == 0 else ways[::-1]:
            tagger.net.emissions = emissions
            seconds[name].append(fastest(lambda: tagger.tag_many(texts), 1))
    tagger.net.emissions = computed_now
    shown = ", ".join(f"{name} min {min(v):.2f} median {sorted(v)[len(v) // 2]:.2f}" for name, v in seconds.items())
    print(f"  tag_many(), bfloat16, LSTM batch-first with a cast per call (before) and time-major cast once (now): {shown} "
          f"({rounds} alternating rounds)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="zh-msra")
    args = parser.parse_args()
    tokens = [list(s.tokens) for s in read_conll(CORPORA / "msra/test.bioes")]
    tagger = load(args.model)
    tagger.tag_many(["".join(t) for t in tokens[:50]])  # warm-up
    print(f"{args.model} on MSRA test, {sum(map(len, tokens))} characters; seconds, fastest of 3:")
    print(f"  jieba segmentation            {fastest(lambda: [segment(t) for t in tokens]):6.2f}")
    print(f"  feature encoding (with jieba) {fastest(lambda: tagger.features.encode(tokens)):6.2f}")
    corpus = tagger.features.encode(tokens)
    batches = [corpus.batch(torch.tensor(g)) for g in tagger._batches([len(t) for t in tokens], 8192)]
    tagger.net.eval()
    with torch.inference_mode():
        for threads in (2, 1):
            torch.set_num_threads(threads)
            for dtype in (torch.float32, torch.bfloat16):
                with torch.autocast("cpu", dtype=torch.bfloat16, enabled=dtype is torch.bfloat16):
                    seconds = fastest(lambda: [tagger.net.emissions(b) for b in batches])
                print(f"  emissions, {str(dtype)[6:]:<8} {threads} thread(s) {seconds:6.2f}")
        torch.set_num_threads(2)
        lstm_floor(tagger, batches)
        emissions = [tagger.net.emissions(b) for b in batches]
        seconds = fastest(lambda: [tagger.net.crf.decode(e, b.mask) for e, b in zip(emissions, batches)])
        print(f"  Viterbi with backtrace        {seconds:6.2f}")
    print(f"  predict_spans(), end to end   {fastest(lambda: tagger.predict_spans(tokens, confidence=False)):6.2f}")
    texts = ["".join(t) for t in tokens]
    tagger.precision = "bfloat16"
    print(f"  tag_many() with confidences, bfloat16, end to end {fastest(lambda: tagger.tag_many(texts)):6.2f}")
    layouts(tagger, texts)


if __name__ == "__main__":
    main()
