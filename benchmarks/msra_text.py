"""The raw text of a character-unit corpus, one sentence a line, for timing `nertag tag` on it."""

from __future__ import annotations

from pathlib import Path

CORPORA = Path(__file__).resolve().parents[2] / "shared" / "corpora"
MSRA_TRAIN = CORPORA / "msra" / "train.bioes"
MSRA_TEST = CORPORA / "msra" / "test.bioes"


def sentences_as_lines(path: Path) -> list[str]:
    """Each sentence's tokens joined without spaces (the corpus is one character a token)."""
    lines, current = [], []
    for raw in path.read_text(encoding="utf-8").splitlines():
        if raw.strip():
            current.append(raw.split()[0])
        elif current:
            lines.append("".join(current))
            current = []
    if current:
        lines.append("".join(current))
    return lines
