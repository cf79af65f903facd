"""Training on several corpora with a label map, and Latin runs as one token in character models."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main
from nertag.conll import Sentence
from nertag.schemes import Scheme, parse_label_map, relabel
from nertag.tokenize import char_tokens, run_groups
from nertag.train import join_latin_runs

CORPUS = Path(__file__).resolve().parents[1] / "corpora" / "zh-biographies"


def test_label_maps_rename_and_drop_whole_entities() -> None:
    mapping = parse_label_map(["NAME=PER,ADDRESS=LOC", "POSITION=O"])
    assert mapping == {"NAME": "PER", "ADDRESS": "LOC", "POSITION": "O"}
    tags = ["B-NAME", "M-NAME", "E-NAME", "B-POSITION", "E-POSITION", "S-ADDRESS", "S-ADDRESS"]
    assert relabel(tags, mapping, Scheme.BMES) == ["B-PER", "M-PER", "E-PER", "O", "O", "S-LOC", "S-LOC"]
    for bad in (["NAME"], ["=PER"], ["NAME=PER,NAME=LOC"]):
        with pytest.raises(ValueError, match="label map"):
            parse_label_map(bad)


def test_training_on_two_corpora_with_a_label_map(tmp_path: Path) -> None:
    renamed = tmp_path / "renamed.bio"
    renamed.write_text(
        (CORPUS / "train.bio").read_text(encoding="utf-8").replace("-PER", "-NAME").replace("-ORG", "-COMPANY"),
        encoding="utf-8",
    )
    out = tmp_path / "model"
    result = CliRunner().invoke(main, [
        "train", "--train", str(CORPUS / "train.bio"), "--train", str(renamed), "--label-map", "NAME=PER,COMPANY=ORG",
        "--dev", str(CORPUS / "dev.bio"), "--out", str(out), "--epochs", "1", "--hidden-size", "8", "--word-dim", "8",
        "--bigram-dim", "4", "--segment-dim", "4",
    ])
    assert result.exit_code == 0, result.output
    config = json.loads((out / "config.json").read_text())
    assert config["labels"] == ["LOC", "ORG", "PER"]
    assert config["training"]["train"] == "train.bio, renamed.bio"
    assert config["training"]["label_map"] == {"NAME": "PER", "COMPANY": "ORG"}
    scored = CliRunner().invoke(main, ["score", str(renamed), "--model", str(out), "--label-map", "NAME=PER,COMPANY=ORG", "--json"])
    assert scored.exit_code == 0, scored.output
    assert set(json.loads(scored.stdout)["per_type"]) == {"LOC", "ORG", "PER"}


def test_latin_runs_are_one_token_with_exact_offsets() -> None:
    text = "他用iPhone6玩ＣＡＰＣＯＭ的游戏 Google 3.5"
    tokens = [text[a:b] for a, b in char_tokens(text, latin_runs=True)]
    assert tokens[:6] == ["他", "用", "iPhone6", "玩", "ＣＡＰＣＯＭ", "的"]
    assert "Google" in tokens and tokens[-3:] == ["3", ".", "5"]
    assert run_groups(list("a用iP6和")) == [(0, 1), (1, 2), (2, 5), (5, 6)]


def test_training_sentences_join_runs_but_never_across_an_entity_edge() -> None:
    sentence = Sentence(tuple("用iPhone6和CS"), ("O", "B-P", "I-P", "I-P", "I-P", "I-P", "I-P", "O", "O", "B-G", "I-G"))
    joined = join_latin_runs(sentence)
    assert joined.tokens == ("用", "iPhone", "6", "和", "CS")
    assert joined.tags == ("O", "S-P", "O", "O", "S-G")


def test_a_latin_run_model_tags_characters_and_text_alike(tmp_path: Path) -> None:
    from nertag import load

    corpus = tmp_path / "runs.bio"
    lines = []
    for name in ("Google", "Baidu", "Apple", "Tencent") * 5:
        for char, tag in zip(f"{name}公司在北京", ["B-ORG"] + ["I-ORG"] * (len(name) + 1) + ["O", "B-LOC", "I-LOC"]):
            lines.append(f"{char} {tag}")
        lines.append("")
    corpus.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "model"
    result = CliRunner().invoke(main, [
        "train", "--train", str(corpus), "--dev", str(corpus), "--out", str(out), "--epochs", "15", "--lr", "0.02",
        "--latin-runs", "--shape-dim", "4", "--hidden-size", "16", "--word-dim", "16", "--bigram-dim", "8", "--segment-dim", "0",
    ])
    assert result.exit_code == 0, result.output
    tagger = load(out)
    text = "Apple公司在北京"
    assert [(e.text, e.label) for e in tagger.tag(text)] == [("Apple公司", "ORG"), ("北京", "LOC")]
    assert tagger.predict([list(text)]) == [["B-ORG"] + ["I-ORG"] * 6 + ["O", "B-LOC", "I-LOC"]]
