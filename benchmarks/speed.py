"""Time nertag against the plain reference in one process: training epochs and tagging throughput.

    python benchmarks/speed.py --corpus resume --threads 2
    python benchmarks/speed.py --tagging --threads 2

Prints seconds per epoch (and characters per second for tagging) for each system, and the ratios.
Both systems run in the same process on the same data, one after the other, so the ratio holds
even when the machine's absolute speed drifts.
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

from nertag.config import ModelConfig, TrainConfig  # noqa: E402
from nertag.conll import read_conll  # noqa: E402
from nertag.features import FeatureEncoder  # noqa: E402
from nertag.model import BiLstmCrf  # noqa: E402
from nertag.schemes import Scheme, convert, spans, tag_set  # noqa: E402
from nertag.tagger import Tagger  # noqa: E402
from nertag.train import _train_epoch, default_config, make_optimizer  # noqa: E402

CORPORA = ROOT.parent / "shared" / "corpora"
FILES = {"resume": ("resume/train.char.bmes", "resume/test.char.bmes"), "msra": ("msra/train.bioes", "msra/test.bioes")}


def build_nertag(sentences, config: ModelConfig, device: str) -> tuple[Tagger, object]:
    scheme = Scheme(config.scheme)
    tags = tag_set({s.label for x in sentences for s in spans(x.tags)}, scheme)
    features = FeatureEncoder.fit([s.tokens for s in sentences], tags, config)
    started = time.perf_counter()
    corpus = features.encode([s.tokens for s in sentences], [convert(s.tags, scheme) for s in sentences])
    encode_seconds = time.perf_counter() - started
    net = BiLstmCrf(config, tags, **features.table_sizes())
    return Tagger(config, features, net, device), (corpus, encode_seconds)


def time_nertag_epoch(sentences, config: ModelConfig, batch_size: int, device: str) -> float:
    torch.manual_seed(1)
    tagger, (corpus, encode_seconds) = build_nertag(sentences, config, device)
    optimizer = make_optimizer(tagger.net, 2e-3)
    settings = TrainConfig(batch_size=batch_size, device=device)
    started = time.perf_counter()
    _train_epoch(tagger.net, corpus, optimizer, settings, torch.Generator().manual_seed(1), False, 1)
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


def time_tagging(threads: int) -> None:
    """Characters per second tagging MSRA test text: plain reference, tag() with a loaded model, the CLI."""
    import subprocess
    import tempfile

    from nertag import load

    sentences = read_conll(CORPORA / "msra/test.bioes")
    lines = ["".join(s.tokens) for s in sentences]
    characters = sum(len(line) for line in lines)
    tokens = [list(s.tokens) for s in sentences]
    data = PlainData(tokens, [list(s.tags) for s in sentences])
    plain = PlainBiLstmCrf(len(data.words), len(data.chars), len(data.tags))
    started = time.perf_counter()
    decode(plain, data, tokens)
    plain_seconds = time.perf_counter() - started
    print(f"tagging MSRA test ({len(lines)} lines, {characters} characters):")
    print(f"  plain reference decode (untrained weights, pre-tokenized): {characters / plain_seconds:10,.0f} chars/s")
    tagger = load("zh-msra")
    tagger.tag_many(lines[:50])  # warm-up: jieba's dictionary, first allocations
    for name, confidence in (("tag() with confidences", True), ("predict_spans() without confidences", False)):
        started = time.perf_counter()
        if confidence:
            tagger.tag_many(lines)
        else:
            tagger.predict_spans([list(line) for line in lines], confidence=False)
        seconds = time.perf_counter() - started
        print(f"  nertag zh-msra {name:<38}: {characters / seconds:10,.0f} chars/s  "
              f"{plain_seconds / seconds:5.2f}x the plain reference")
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder, "msra_test.txt")
        source.write_text("\n".join(lines) + "\n", encoding="utf-8")
        started = time.perf_counter()
        subprocess.run([sys.executable, str(ROOT / "cli.py"), "tag", str(source), "--model", "zh-msra",
                        "-o", str(Path(folder, "out.jsonl"))], check=True, env={**os.environ, "OMP_NUM_THREADS": str(threads)})
        seconds = time.perf_counter() - started
    print(f"  nertag tag (CLI, process start and model load included): {characters / seconds:10,.0f} chars/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", choices=sorted(FILES), default="resume")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--limit", type=int, default=None, help="use only the first N training sentences")
    parser.add_argument("--tagging", action="store_true", help="time tagging throughput on MSRA test instead")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.tagging:
        time_tagging(args.threads)
        return
    train_file, _ = FILES[args.corpus]
    sentences = read_conll(CORPORA / train_file)[: args.limit]
    characters = sum(len(t) for s in sentences for t in s.tokens)
    print(f"{args.corpus}: {len(sentences)} sentences, {characters} characters; torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads, device {args.device}")

    plain = time_plain_epoch(sentences)
    print(f"plain reference (char BiLSTM + BiLSTM + pytorch-crf, batch 32): {plain:7.2f} s/epoch")
    same_size = default_config(sentences, char_dim=30, bigram_dim=0, segment_dim=0)
    rows = [
        ("nertag, plain's architecture, batch 32", same_size, 32),
        ("nertag default, batch 32", default_config(sentences), 32),
        ("nertag default, batch 16 (training default)", default_config(sentences), TrainConfig.batch_size),
    ]
    for name, config, batch_size in rows:
        seconds = time_nertag_epoch(sentences, config, batch_size, args.device)
        print(f"{name:<45}: {seconds:7.2f} s/epoch   {plain / seconds:5.2f}x faster than plain")


if __name__ == "__main__":
    main()
