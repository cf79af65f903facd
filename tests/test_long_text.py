"""Long lines tag in bounded pieces with offsets into the input; width variants share features."""

from __future__ import annotations

import json

from click.testing import CliRunner

from cli import main
from nertag import load
from nertag.tagger import MAX_SENTENCE_TOKENS


def test_a_long_line_without_breaks_comes_back_whole() -> None:
    text = "张三出生于北京市，现任华为公司董事长" * 1200  # 21,600 characters, no sentence ends
    result = CliRunner().invoke(main, ["tag", "--model", "zh-resume"], input=text + "\n")
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert record["text"] == text
    assert record["entities"], "names and organisations should be found"
    assert all(text[e["start"] : e["end"]] == e["text"] for e in record["entities"])


def test_sentences_are_capped_for_bounded_memory() -> None:
    tagger = load("zh-resume")
    groups = tagger.tokenize("字" * 1000)
    assert max(len(g) for g in groups) <= MAX_SENTENCE_TOKENS["char"]
    assert sum(len(g) for g in groups) == 1000


def test_full_width_forms_share_features_and_keep_their_text() -> None:
    tagger = load("zh-resume")
    half = tagger.features.encode([list("ABC123，张三")])
    full = tagger.features.encode([list("ＡＢＣ１２３，张三")])
    assert half.words.tolist() == full.words.tolist()
    text = "ＡＢＣ公司董事长张三"
    assert all(text[e.start : e.end] == e.text for e in tagger.tag(text))
