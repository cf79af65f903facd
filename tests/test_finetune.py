"""Fine-tuning (``nertag train --init``, ``fit(init=...)``): vocabularies grow while the initial
model's rows, encoder and shared labels' output rows carry over; the result saves, loads, tags and
resumes like any model."""

from __future__ import annotations

import dataclasses

import json
import logging
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from safetensors.torch import load_file

from cli import main
from nertag.api import fit
from nertag.checkpoint import checkpoint_path
from nertag.commands.train import train_from_files
from nertag.config import ModelConfig, TrainConfig, TrainingJob
from nertag.conll import read_conll
from nertag.features import feature_form
from nertag.finetune import carry_over, extended_features, finetune_config, load_initial
from nertag.model import build_network
from nertag.schemes import Scheme, tag_set
from nertag.serialize import load
from nertag.train_state import TrainingHooks, TrainingInterrupted

# New characters (会, 议, 周, 杭, ...) and a label the initial model lacks (DATE).
NEW_ZH = [
    [("会", "O"), ("议", "O"), ("定", "O"), ("于", "O"), ("周", "B-DATE"), ("三", "E-DATE"), ("在", "O"),
     ("杭", "B-LOC"), ("州", "E-LOC"), ("举", "O"), ("行", "O"), ("。", "O")],
    [("张", "B-NAME"), ("三", "E-NAME"), ("周", "B-DATE"), ("五", "E-DATE"), ("去", "O"), ("杭", "B-LOC"),
     ("州", "E-LOC"), ("。", "O")],
]
SETTINGS = TrainConfig(epochs=2, patience=2, batch_size=4, seed=2, ema_decay=0.9, threads=1)


@pytest.fixture(scope="module")
def zh_new(tmp_path_factory: pytest.TempPathFactory, zh_path: Path) -> Path:
    """The Chinese fixture without its RACE entities, plus sentences with a DATE label."""
    lines = []
    for line in zh_path.read_text(encoding="utf-8").splitlines():
        token, _, tag = line.partition(" ")
        lines.append(f"{token} O" if tag.endswith("-RACE") else line)
    for sentence in NEW_ZH:
        lines += ["", *(f"{token} {tag}" for token, tag in sentence)]
    path = tmp_path_factory.mktemp("corpora") / "zh_new.bmes"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def en_new(tmp_path_factory: pytest.TempPathFactory, en_path: Path) -> Path:
    """The English fixture plus a sentence with new words, new characters and a new label."""
    extra = "\nZürich NNP B-NP B-LOC\nhosts VBZ B-VP O\nEuro2024 NN B-NP B-EVENT\nqualifiers NNS I-NP I-EVENT\n. . O O\n"
    path = tmp_path_factory.mktemp("corpora") / "en_new.bio"
    path.write_text(en_path.read_text(encoding="utf-8").rstrip("\n") + "\n" + extra, encoding="utf-8")
    return path


def _extended(model_dir: Path, corpus: Path, keep_labels: bool = False):
    initial = load_initial(str(model_dir), keep_labels)
    sentences = read_conll(corpus)
    config = finetune_config(initial.tagger.config, initial.name)
    labels = initial.labels_for({tag.split("-", 1)[1] for s in sentences for tag in s.tags if tag != "O"})
    tags = tag_set(labels, Scheme(config.scheme))
    features = extended_features(initial.tagger.features, config, [s.tokens for s in sentences], tags)
    net = build_network(config, tags, features.table_sizes())
    carry_over(initial.tagger, net, tags)
    return initial, features, net


@pytest.mark.parametrize("which", ["zh", "en"])
def test_vocabularies_grow_and_initial_weights_carry_over(which: str, request: pytest.FixtureRequest) -> None:
    model_dir = request.getfixturevalue(f"{which}_model_dir")
    corpus = request.getfixturevalue(f"{which}_new")
    initial, features, net = _extended(model_dir, corpus)
    old = initial.tagger.features
    assert old.words.items == features.words.items[: len(old.words)], "old ids keep their rows"
    assert len(features.words) > len(old.words)
    if which == "en":
        assert old.chars is not None and features.chars is not None
        assert old.chars.items == features.chars.items[: len(old.chars)] and "ü" in features.chars.items[len(old.chars):]
        assert features.words.items[len(old.words):].count(features.word_key(feature_form("Zürich"))) == 1
    else:
        assert {"会", "杭"} <= set(features.words.items[len(old.words):])

    before = initial.tagger.net.state_dict()
    after = net.state_dict()
    for name, table in after.items():
        if name.endswith("embedding.weight") and table.shape != before[name].shape:
            assert torch.equal(table[: len(before[name])], before[name]), f"{name}: old rows changed"
        elif not name.startswith(("emission", "crf")):
            assert torch.equal(table, before[name]), name
    new_label = "DATE" if which == "zh" else "EVENT"
    assert f"B-{new_label}" in features.tags.items
    old_tags, new_tags = initial.tagger.tags, features.tags.items
    for tag in set(old_tags) & set(new_tags):
        i, j = new_tags.index(tag), old_tags.index(tag)
        assert torch.equal(after["emission.weight"][i], before["emission.weight"][j]), tag
        assert torch.equal(after["emission.bias"][i], before["emission.bias"][j]), tag
        assert after["crf.start_transitions"][i] == before["crf.start_transitions"][j]
        assert after["crf.transitions"][i, new_tags.index("O")] == before["crf.transitions"][j, old_tags.index("O")]


def test_labels_absent_from_the_corpus_are_dropped_or_kept(zh_model_dir: Path, zh_new: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        _, features, net = _extended(zh_model_dir, zh_new)
    assert "RACE" in caplog.text and "dropped" in caplog.text
    assert not any(tag.endswith("-RACE") for tag in features.tags.items)
    # The constraint masks follow the new tag list: after B-DATE only I-DATE or E-DATE.
    tags = features.tags.items
    allowed = {tags[j] for j in range(len(tags)) if net.crf.transition_penalty[tags.index("B-DATE"), j] == 0}
    assert allowed == {"I-DATE", "E-DATE"}
    _, kept, _ = _extended(zh_model_dir, zh_new, keep_labels=True)
    assert "B-RACE" in kept.tags.items and "B-DATE" in kept.tags.items


def test_shared_tags_score_as_before_on_known_text(zh_model_dir: Path, zh_new: Path) -> None:
    """Before any training the extended network scores ids of the initial vocabularies as the
    initial model does, for every tag the two share (the new ids only add rows)."""
    initial, features, net = _extended(zh_model_dir, zh_new)
    net.eval()
    batch = initial.tagger.features.encode([list("张三毕业于清华大学。")]).batch(torch.tensor([0]))
    old_scores, new_scores = initial.tagger.net.emissions(batch), net.emissions(batch)
    old_tags, new_tags = initial.tagger.tags, features.tags.items
    shared = [t for t in new_tags if t in old_tags]
    assert torch.allclose(
        new_scores[..., [new_tags.index(t) for t in shared]], old_scores[..., [old_tags.index(t) for t in shared]]
    )


def test_architecture_options_that_differ_are_refused(zh_model_dir: Path) -> None:
    initial = load(zh_model_dir).config
    with pytest.raises(ValueError, match="hidden_size=99 conflicts"):
        finetune_config(initial, "zh", {"hidden_size": 99})
    same = finetune_config(initial, "zh", {"hidden_size": initial.hidden_size, "min_bigram_count": 7, "dropout": 0.2})
    assert same.min_bigram_count == 7 and same.dropout == 0.2 and same.hidden_size == initial.hidden_size
    # The lexicon's source of name classes changes what its cells say, not how many there are;
    # a model without the lexicon has no cells for it to change.
    with_lexicon = dataclasses.replace(initial, lexicon=True)
    assert finetune_config(with_lexicon, "zh", {"lexicon_classes": "lac"}).lexicon_classes == "lac"
    with pytest.raises(ValueError, match="needs the lexicon features"):
        finetune_config(dataclasses.replace(initial, lexicon=False), "zh", {"lexicon_classes": "lac"})
    assert isinstance(same, ModelConfig)


def test_cli_fine_tunes_and_the_result_loads_and_tags(
    zh_model_dir: Path, zh_new: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    out = tmp_path / "tuned"
    with caplog.at_level(logging.WARNING):
        result = CliRunner().invoke(main, [
            "train", "--init", str(zh_model_dir), "--train", str(zh_new), "--dev", str(zh_new), "--out", str(out),
            "--epochs", "2", "--threads", "1", "--ema-decay", "0",
        ])
    assert result.exit_code == 0, result.output
    assert "RACE" in caplog.text and "dropped" in caplog.text
    tagger = load(out)
    assert "DATE" in tagger.labels and "RACE" not in tagger.labels
    assert tagger.config.hidden_size == load(zh_model_dir).config.hidden_size
    assert isinstance(tagger.tag("张三周三去杭州。"), list)
    facts = json.loads((out / "config.json").read_text(encoding="utf-8"))["training"]["init"]
    assert facts["model"] == str(zh_model_dir)
    assert facts["labels_added"] == ["DATE"] and facts["labels_dropped"] == ["RACE"]
    assert facts["vocab_added"]["words"] > 0


def test_cli_refuses_to_overwrite_the_initial_model(zh_model_dir: Path, zh_new: Path) -> None:
    weights = (zh_model_dir / "weights.safetensors").read_bytes()
    result = CliRunner().invoke(main, [
        "train", "--init", str(zh_model_dir), "--train", str(zh_new), "--dev", str(zh_new), "--out", str(zh_model_dir),
    ])
    assert result.exit_code == 1
    assert "initial model" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert (zh_model_dir / "weights.safetensors").read_bytes() == weights
    assert not checkpoint_path(zh_model_dir).exists()


@pytest.mark.parametrize("option", [["--hidden-size", "99"], ["--scheme", "BIO"], ["--segment-dim", "0"]])
def test_cli_refuses_a_conflicting_architecture_in_one_line(zh_model_dir: Path, zh_new: Path, tmp_path: Path, option: list[str]) -> None:
    result = CliRunner().invoke(main, [
        "train", "--init", str(zh_model_dir), "--train", str(zh_new), "--dev", str(zh_new), "--out", str(tmp_path / "m"), *option,
    ])
    assert result.exit_code == 1
    assert f"{option[0]} {option[1]} conflicts with" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "m").exists()


def test_resume_of_a_fine_tuning_run_reproduces_it(zh_model_dir: Path, zh_new: Path, tmp_path: Path) -> None:
    config = finetune_config(load(zh_model_dir).config, "zh")
    settings = TrainConfig(epochs=3, patience=3, batch_size=4, seed=2, ema_decay=0.9, threads=1)

    def job(out: Path) -> TrainingJob:
        return TrainingJob(train=str(zh_new), dev=str(zh_new), out=str(out), init=str(zh_model_dir))

    whole, split = tmp_path / "whole", tmp_path / "split"
    train_from_files(job(whole), lambda _: config, settings)
    calls = {"n": 0}

    def stop() -> bool:
        calls["n"] += 1
        return calls["n"] > 5  # 12 sentences in batches of 4: stops in epoch 2

    with pytest.raises(TrainingInterrupted):
        train_from_files(job(split), lambda _: config, settings, TrainingHooks(should_stop=stop))
    state = json.loads((checkpoint_path(split) / "state.json").read_text(encoding="utf-8"))
    assert state["job"]["init"] == str(zh_model_dir)
    result = CliRunner().invoke(main, ["train", "--resume", str(checkpoint_path(split))])
    assert result.exit_code == 0, result.output
    expected, resumed = load_file(str(whole / "weights.safetensors")), load_file(str(split / "weights.safetensors"))
    assert expected.keys() == resumed.keys()
    assert all(torch.equal(expected[k], resumed[k]) for k in expected)


def test_fit_fine_tunes_from_python(en_model_dir: Path, en_new: Path, tmp_path: Path) -> None:
    tagger = fit(en_new, en_new, init=en_model_dir, out=tmp_path / "m", settings=SETTINGS, keep_labels=True)
    assert "EVENT" in tagger.labels and set(load(en_model_dir).labels) <= set(tagger.labels)
    assert load(tmp_path / "m").labels == tagger.labels
    with pytest.raises(ValueError, match="conflicts"):
        fit(en_new, en_new, init=en_model_dir, settings=SETTINGS, char_dim=3)
    with pytest.raises(ValueError, match="initial model"):
        fit(en_new, en_new, init=en_model_dir, out=en_model_dir, settings=SETTINGS)


def test_kept_labels_may_appear_in_dev(zh_model_dir: Path, zh_new: Path, zh_path: Path, tmp_path: Path) -> None:
    """Dev (the fixture, with RACE) may show a label train lacks only when --keep-labels keeps it."""
    def run(*extra: str) -> object:
        return CliRunner().invoke(main, [
            "train", "--init", str(zh_model_dir), "--train", str(zh_new), "--dev", str(zh_path),
            "--epochs", "1", "--threads", "1", *extra,
        ])

    refused = run("--out", str(tmp_path / "dropped"))
    assert refused.exit_code == 1 and "label 'RACE' does not occur in the training file" in refused.stderr
    kept = run("--keep-labels", "--out", str(tmp_path / "kept"))
    assert kept.exit_code == 0, kept.output
    assert "RACE" in load(tmp_path / "kept").labels and "DATE" in load(tmp_path / "kept").labels
