"""How fast a large user dictionary loads and matches: a generated TSV of N phrases (default
300,000: two- to six-character strings drawn from the MSRA training text, so many of them occur),
loaded by PhraseDictionary.read, then matched over the MSRA test text.

    python benchmarks/dictionary_speed.py [--phrases 300000] [--dictionary FILE ...]

With --dictionary, each given file (phrase<TAB>LABEL) is timed instead of the generated one:
real lists overlap far less than random strings do.

Prints seconds to load (best of 3) and characters a second for matching and for the whole
merge with a model's entities (ExtraEntities.apply on the tagged texts, model time excluded).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nertag.conll import read_conll  # noqa: E402
from nertag.dictionary import PhraseDictionary  # noqa: E402
from nertag.merge import ExtraEntities  # noqa: E402

CORPORA = ROOT.parent / "shared" / "corpora"
LABELS = ("PER", "LOC", "ORG", "PRODUCT")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--phrases", type=int, default=300_000)
    parser.add_argument("--dictionary", action="append", default=[], help="time this dictionary file instead (repeatable)")
    args = parser.parse_args()
    texts = ["".join(s.tokens) for s in read_conll(CORPORA / "msra" / "test.bioes")]
    if args.dictionary:
        from nertag import load

        tagged = load("zh-general").tag_texts(texts)
        for path in args.dictionary:
            _time_merge(PhraseDictionary.read(path), path, tagged, sum(map(len, texts)))
        return
    source = "".join("".join(s.tokens) for s in read_conll(CORPORA / "msra" / "train.bioes"))
    draw = random.Random(1)
    phrases: dict[str, str] = {}
    while len(phrases) < args.phrases:
        start = draw.randrange(len(source) - 6)
        phrases[source[start : start + draw.randint(2, 6)]] = draw.choice(LABELS)
    characters = sum(map(len, texts))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "dictionary.tsv"
        path.write_text("".join(f"{p}\t{label}\n" for p, label in phrases.items()), encoding="utf-8")
        loads = []
        for _ in range(3):
            started = time.perf_counter()
            dictionary = PhraseDictionary.read(path)
            loads.append(time.perf_counter() - started)
        megabytes = path.stat().st_size / 1e6
    print(f"{dictionary.size:,} phrases ({megabytes:.1f} MB TSV): load {min(loads):.2f} s (best of 3)")
    started = time.perf_counter()
    found = sum(len(dictionary.matches(t)) for t in texts)
    seconds = time.perf_counter() - started
    print(f"matching MSRA test ({characters:,} characters): {found:,} matches, {characters / seconds:,.0f} chars/s")

    from nertag import load

    tagged = load("zh-general").tag_texts(texts)
    _time_merge(dictionary, "the generated dictionary", tagged, characters)


def _time_merge(dictionary: PhraseDictionary, name: str, tagged: list, characters: int) -> None:
    """Characters a second of ExtraEntities.apply (policy model) over the tagged texts, best of 3."""
    extra = ExtraEntities(dictionary, None, "model")
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        merged = [extra.apply(t) for t in tagged]
        best = min(best, time.perf_counter() - started)
    kept = sum(1 for t in merged for e in t.entities if e.source == "dictionary")
    left_out = sum(len(t.dropped) for t in merged)
    print(f"{name} ({dictionary.size:,} phrases): merging with zh-general's entities (policy model): "
          f"{characters / best:,.0f} chars/s (best of 3), {kept:,} matches kept, {left_out:,} left out")


if __name__ == "__main__":
    main()
