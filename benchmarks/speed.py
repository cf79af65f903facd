"""Time nertag against the plain reference in one run: training epochs and tagging throughput.

    python benchmarks/speed.py --threads 2                 # everything below, one run
    python benchmarks/speed.py --only training --corpus resume
    python benchmarks/speed.py --only tagging

Training: seconds per epoch on Resume (both systems, whole corpus) and on MSRA (nertag on the whole
corpus; both systems on its first --msra-slice sentences for the ratio, since a plain MSRA epoch
takes many minutes). Tagging: characters per second on the MSRA test text through tag() with a
loaded model and through the `nertag tag` CLI (process start and model load included), against the
plain reference decoding the same sentences. Each comparison runs in this one process, one system
right after the other, so the ratio holds even when the machine's absolute speed drifts.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from plain_reference import PlainBiLstmCrf, PlainData, decode, train_epoch  # noqa: E402

from nertag.averaging import WeightAverage  # noqa: E402
from nertag.checkpoint import LiveRun  # noqa: E402
from nertag.config import ModelConfig, TrainConfig  # noqa: E402
from nertag.conll import read_conll  # noqa: E402
from nertag.features import FeatureEncoder  # noqa: E402
from nertag.model import build_network  # noqa: E402
from nertag.schemes import Scheme, convert, spans, tag_set  # noqa: E402
from nertag.tagger import Tagger  # noqa: E402
from nertag.train import _train_epoch, default_config, make_optimizer  # noqa: E402
from nertag.train_state import TrainingHooks, TrainingProgress  # noqa: E402

CORPORA = ROOT.parent / "shared" / "corpora"
FILES = {"resume": ("resume/train.char.bmes", "resume/test.char.bmes"), "msra": ("msra/train.bioes", "msra/test.bioes")}


def build_nertag(sentences, config: ModelConfig, device: str) -> tuple[Tagger, object]:
    scheme = Scheme(config.scheme)
    tags = tag_set({s.label for x in sentences for s in spans(x.tags)}, scheme)
    features = FeatureEncoder.fit([s.tokens for s in sentences], tags, config)
    started = time.perf_counter()
    corpus = features.encode([s.tokens for s in sentences], [convert(s.tags, scheme) for s in sentences])
    encode_seconds = time.perf_counter() - started
    net = build_network(config, tags, features.table_sizes(), device)
    return Tagger(config, features, net), (corpus, encode_seconds)


def time_nertag_epoch(sentences, config: ModelConfig, batch_size: int, device: str) -> float:
    torch.manual_seed(1)
    tagger, (corpus, encode_seconds) = build_nertag(sentences, config, device)
    optimizer = make_optimizer(tagger.net, 2e-3)
    settings = TrainConfig(batch_size=batch_size, device=device)
    started = time.perf_counter()
    run = LiveRun(tagger.net, optimizer, WeightAverage(tagger.net, 0.0), torch.Generator().manual_seed(1), TrainingProgress())
    _train_epoch(run, corpus, settings, 1, TrainingHooks())
    if device == "cuda":
        torch.cuda.synchronize()
    # Encoding happens once per training run, not per epoch; it is reported, not added.
    print(f"    (encoding the corpus once: {encode_seconds:.1f}s)")
    return time.perf_counter() - started


def time_plain_epoch(sentences) -> float:
    torch.manual_seed(1)
    tokens = [list(s.tokens) for s in sentences]
    tags = [convert(s.tags, Scheme.BIOES) for s in sentences]
    data = PlainData(tokens, tags)
    model = PlainBiLstmCrf(len(data.words), len(data.chars), len(data.tags))
    started = time.perf_counter()
    train_epoch(model, data, tokens, tags)
    return time.perf_counter() - started


def time_tagging(threads: int, device: str, repeats: int, model: str = "zh-msra") -> None:
    """Characters per second tagging MSRA test text: plain reference, tag() with a loaded model, the CLI.

    The in-process systems take turns, ``repeats`` rounds, and each keeps its fastest round: the
    machine's speed drifts by tens of percent from minute to minute, and the fastest round is the
    one least disturbed.
    """
    import subprocess
    import tempfile

    from nertag import load

    sentences = read_conll(CORPORA / "msra/test.bioes")
    lines = ["".join(s.tokens) for s in sentences]
    characters = sum(len(line) for line in lines)
    tokens = [list(s.tokens) for s in sentences]
    data = PlainData(tokens, [list(s.tags) for s in sentences])
    plain = PlainBiLstmCrf(len(data.words), len(data.chars), len(data.tags))
    taggers = {precision: load(model, device, precision) for precision in ("float32", "bfloat16")}
    systems = {"plain reference decode (untrained weights, pre-tokenized)": lambda: decode(plain, data, tokens)}
    for precision, tagger in taggers.items():
        tagger.tag_many(lines[:50])  # warm-up: jieba's dictionary, first allocations
        systems[f"nertag {model} {precision:<8} tag() with confidences"] = lambda t=tagger: t.tag_many(lines)
        systems[f"nertag {model} {precision:<8} predict_spans(), no confidences"] = (
            lambda t=tagger: t.predict_spans([list(line) for line in lines], confidence=False)
        )
    best = {name: float("inf") for name in systems}
    for _ in range(repeats):
        for name, run in systems.items():
            started = time.perf_counter()
            run()
            best[name] = min(best[name], time.perf_counter() - started)
    print(f"tagging MSRA test ({len(lines)} lines, {characters} characters), fastest of {repeats} rounds:")
    plain_seconds = next(iter(best.values()))
    for name, seconds in best.items():
        print(f"  {name:<60}: {characters / seconds:10,.0f} chars/s  {plain_seconds / seconds:5.2f}x the plain reference")
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder, "msra_test.txt")
        source.write_text("\n".join(lines) + "\n", encoding="utf-8")
        for precision in ("float32", "bfloat16"):
            started = time.perf_counter()
            subprocess.run(
                [sys.executable, str(ROOT / "cli.py"), "tag", str(source), "--model", model, "--device", device,
                 "--precision", precision, "-o", str(Path(folder, "out.jsonl"))],
                check=True, env={**os.environ, "OMP_NUM_THREADS": str(threads)},
            )
            seconds = time.perf_counter() - started
            print(f"  nertag tag --precision {precision} (CLI; process start and model load included): "
                  f"{characters / seconds:10,.0f} chars/s  {plain_seconds / seconds:5.2f}x the plain reference")
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import nertag.api, nertag.segment, nertag.word_table, torch; nertag.word_table.shipped().index"],
                       check=True)
        print(f"  of which process start, imports and the segmenter and word index: {time.perf_counter() - started:.2f} s")


def time_training(corpus: str, device: str, limit: int | None, msra_slice: int) -> None:
    train_file, _ = FILES[corpus]
    sentences = read_conll(CORPORA / train_file)[:limit]
    characters = sum(len(t) for s in sentences for t in s.tokens)
    print(f"training, {corpus}: {len(sentences)} sentences, {characters} characters; device {device}")
    plain_sentences = sentences if corpus == "resume" else sentences[:msra_slice]
    plain = time_plain_epoch(plain_sentences)
    label = "whole corpus" if plain_sentences is sentences else f"first {len(plain_sentences)} sentences"
    print(f"  plain reference (char BiLSTM + BiLSTM + pytorch-crf, batch 32), {label}: {plain:7.2f} s")
    rows = [("nertag default, batch 16 (training default)", default_config(sentences), TrainConfig.batch_size)]
    if corpus == "resume":
        rows += [
            ("nertag default, batch 32", default_config(sentences), 32),
            ("nertag, plain's architecture, batch 32", default_config(sentences, char_dim=30, bigram_dim=0, segment_dim=0), 32),
        ]
    for name, config, batch_size in rows:
        if plain_sentences is not sentences:
            same = time_nertag_epoch(plain_sentences, config, batch_size, device)
            print(f"  {name}, {label}: {same:7.2f} s   {plain / same:5.2f}x faster than plain")
        seconds = time_nertag_epoch(sentences, config, batch_size, device)
        ratio = f"   {plain / seconds:5.2f}x faster than plain" if plain_sentences is sentences else ""
        print(f"  {name}, whole corpus: {seconds:7.2f} s/epoch{ratio}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=["training", "tagging"], default=None)
    parser.add_argument("--corpus", choices=sorted(FILES), default=None, help="train on this corpus only")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--limit", type=int, default=None, help="use only the first N training sentences")
    parser.add_argument("--repeats", type=int, default=3, help="rounds of the in-process tagging timings")
    parser.add_argument("--msra-slice", type=int, default=5000, help="MSRA sentences both systems train on for the ratio")
    parser.add_argument("--model", default="zh-msra", help="model whose tagging is timed (name or folder)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} CPUs")
    if args.only != "tagging":
        for corpus in [args.corpus] if args.corpus else ["resume", "msra"]:
            time_training(corpus, args.device, args.limit, args.msra_slice)
    if args.only != "training":
        time_tagging(args.threads, args.device, args.repeats, args.model)


if __name__ == "__main__":
    main()
