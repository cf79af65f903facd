"""Pretrained word2vec/GloVe text vectors land in the right rows of the right tables."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from nertag.conll import InputError, read_conll
from nertag.embeddings import pretrained_targets, read_vectors
from nertag.features import FeatureEncoder
from nertag.model import BiLstmCrf
from nertag.schemes import Scheme, spans, tag_set

from .conftest import tiny_config


def build(path: Path, **overrides):
    sentences = read_conll(path)
    config = tiny_config(sentences, **overrides)
    tags = tag_set({s.label for x in sentences for s in spans(x.tags)}, Scheme(config.scheme))
    features = FeatureEncoder.fit([s.tokens for s in sentences], tags, config)
    return features, BiLstmCrf(config, tags, **features.table_sizes())


def test_vectors_fill_chars_bigrams_and_words_of_a_char_model(zh_path: Path, tmp_path: Path) -> None:
    features, net = build(zh_path, bigram_dim=4, segment_dim=4, min_bigram_count=1)
    vectors = tmp_path / "zh.vec"
    vectors.write_text("3 16\n张 " + " ".join(["0.5"] * 16) + "\nＸ " + " ".join(["1"] * 16) + "\n", encoding="utf-8")
    bigrams = tmp_path / "bi.vec"
    bigrams.write_text("张三 1 2 3 4\n", encoding="utf-8")
    targets = pretrained_targets(net, features)
    assert set(targets) == {"chars", "bigrams", "words"}
    from nertag.embeddings import initialize

    table, vocab, normalize = targets["chars"]
    assert initialize(table, vocab, vectors, normalize) == 1
    assert torch.equal(net.word_embedding.weight[features.words.id("张")], torch.full((16,), 0.5))
    table, vocab, normalize = targets["bigrams"]
    assert initialize(table, vocab, bigrams, normalize) == 1
    assert net.bigram_embedding.weight[features.bigrams.id("张\t三")].tolist() == [1, 2, 3, 4]


def test_word_model_tables_and_dimension_mismatch(en_path: Path, tmp_path: Path) -> None:
    features, net = build(en_path)
    targets = pretrained_targets(net, features)
    assert set(targets) == {"words", "chars"}
    wrong = tmp_path / "glove.txt"
    wrong.write_text("eu 1 2 3\n", encoding="utf-8")
    from nertag.embeddings import initialize

    table, vocab, normalize = targets["words"]
    with pytest.raises(InputError, match="vectors have 3 dimensions but the table has 16"):
        initialize(table, vocab, wrong, normalize)


def test_malformed_vector_files_name_the_line(tmp_path: Path) -> None:
    ragged = tmp_path / "ragged.txt"
    ragged.write_text("a 1 2\nb 1 2 3\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"ragged.txt:2: expected 2 numbers after the word, got 3"):
        read_vectors(ragged, {"a"})
    empty = tmp_path / "empty.txt"
    empty.write_text("\n", encoding="utf-8")
    with pytest.raises(InputError, match="no vectors found"):
        read_vectors(empty, set())
