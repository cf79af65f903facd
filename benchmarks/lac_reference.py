"""Tag a gold column file's text with Baidu LAC, the offline tagger issue 12 compares against.

    LAC_PYTHON benchmarks/lac_reference.py GOLD --out PRED [--tags PER,LOC,ORG]
    nertag score GOLD PRED [--label-map ...]

LAC is not a nertag dependency and does not install beside it: LAC 2.1.2 imports `paddle.fluid`,
which the paddlepaddle wheels on PyPI for Python 3.11 no longer have. It runs in its own
environment, for example Python 3.9 with `pip install wheel setuptools paddlepaddle==2.6.2
LAC==2.1.2`. Paddle 2.6 renamed `paddle.fluid` to `paddle.base` and kept the predictor classes
LAC uses, so this script points the old name at the new module before importing LAC.

This script needs nothing from nertag, so that it runs in LAC's interpreter. Each gold sentence is
rebuilt as text (tokens joined without spaces, as MSRA and CLUENER are one character a token),
given to LAC alone (a batch of two sentences gave garbage for the second under paddle 2.6), and
LAC's words with the tags asked for (by default its entity tags PER, LOC and ORG) are written back
as BIO tags on the gold tokens, so that `nertag score` compares the same tokens with the same
scorer as it does for nertag's models.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Iterator, List, Tuple


def load_lac():
    """LAC in lexical-analysis mode, with `paddle.fluid` pointed at Paddle 2.6's `paddle.base`."""
    import paddle

    if not hasattr(paddle, "fluid"):
        import paddle.base as base

        sys.modules["paddle.fluid"] = base
        sys.modules["paddle.fluid.core"] = base.core
    from LAC import LAC

    return LAC(mode="lac")


def read_sentences(path: Path) -> Iterator[List[str]]:
    """The tokens (first column) of each blank-line-separated sentence."""
    tokens: List[str] = []
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            fields = line.split()
            if fields:
                tokens.append(fields[0])
            elif tokens:
                yield tokens
                tokens = []
    if tokens:
        yield tokens


def token_tags(tokens: List[str], words: List[str], labels: List[str], wanted: set) -> Tuple[List[str], bool]:
    """BIO tags on `tokens` for LAC's words whose label is wanted; False if LAC's words do not
    spell the sentence, or if an entity's edge falls inside a token."""
    text = "".join(tokens)
    if "".join(words) != text:
        return ["O"] * len(tokens), False
    token_at = []
    for index, token in enumerate(tokens):
        token_at.extend([index] * len(token))
    starts = set()
    offset = 0
    for token in tokens:
        starts.add(offset)
        offset += len(token)
    starts.add(offset)
    tags = ["O"] * len(tokens)
    aligned = True
    offset = 0
    for word, label in zip(words, labels):
        end = offset + len(word)
        if label in wanted and word.strip():
            if offset not in starts or end not in starts:
                aligned = False
            else:
                first, last = token_at[offset], token_at[end - 1]
                tags[first] = "B-" + label
                for inside in range(first + 1, last + 1):
                    tags[inside] = "I-" + label
        offset = end
    return tags, aligned


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("gold", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--tags", default="PER,LOC,ORG", help="LAC labels written as entities")
    args = parser.parse_args()
    wanted = set(args.tags.split(","))
    lac = load_lac()
    sentences = list(read_sentences(args.gold))
    unspelled = misaligned = 0
    began = time.perf_counter()
    with args.out.open("w", encoding="utf-8") as out:
        for tokens in sentences:
            words, labels = lac.run("".join(tokens))
            tags, aligned = token_tags(tokens, words, labels, wanted)
            if "".join(words) != "".join(tokens):
                unspelled += 1
            elif not aligned:
                misaligned += 1
            out.writelines(f"{token} {tag}\n" for token, tag in zip(tokens, tags))
            out.write("\n")
    seconds = time.perf_counter() - began
    characters = sum(len(token) for tokens in sentences for token in tokens)
    print(
        f"{args.gold}: {len(sentences)} sentences, {characters} characters in {seconds:.1f} s; "
        f"{unspelled} sentences LAC did not spell back, {misaligned} with an entity edge inside a token",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
