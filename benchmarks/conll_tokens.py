"""How often the raw-text English tokenizer cuts a CoNLL-2003 sentence as CoNLL did.

    python benchmarks/conll_tokens.py [../shared/corpora/conll2003/test.txt]

Each sentence's tokens are joined with spaces, clitics (`'s`, `n't`, `'re`, `'ve`, `'ll`, `'d`, `'m`)
glued to the word before as raw text writes them, and tokenized again; the figure is the share of
sentences whose tokens come back exactly.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nertag.conll import read_conll  # noqa: E402
from nertag.tokenize import word_tokens  # noqa: E402

CLITIC = re.compile(r"(?i)^(?:['\u2019](?:s|re|ve|ll|d|m)|n['\u2019]t)$")
DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "conll2003" / "test.txt"


def raw_text(tokens: tuple[str, ...]) -> str:
    text = ""
    for token in tokens:
        text += token if (not text or CLITIC.match(token)) else " " + token
    return text


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    sentences = read_conll(path)
    same = 0
    for sentence in sentences:
        text = raw_text(sentence.tokens)
        same += tuple(text[a:b] for a, b in word_tokens(text)) == sentence.tokens
    print(f"{path.name}: {same} of {len(sentences)} sentences ({100 * same / len(sentences):.2f}%) tokenized as CoNLL did")


if __name__ == "__main__":
    main()
