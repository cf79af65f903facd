"""The numpy paths of feature encoding give exactly what the per-token Python paths give."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
import torch

from nertag import word_table
from nertag.conll import read_conll
from nertag.features import FeatureEncoder, TokenTable
from nertag.schemes import Scheme, spans, tag_set
from nertag.segment import segment
from nertag.word_table import WordIndex, WordTable

from .conftest import tiny_config

# Some tokens the fixture never saw, a full-width letter (NFKC: one character), an ellipsis (NFKC:
# three), a token with a tab and tokens spelled like the sentence-end markers.
ODD_SENTENCES = [
    ["张", "三", "在", "北", "京"],
    ["Ｘ", "公", "司", "…", "好"],
    ["北京大学", "的", "学", "生"],
    ["a\tb", "张", "三"],
    ["<s>", "</s>", "张"],
    ["龘"],
]


def encoder(zh_path: Path) -> FeatureEncoder:
    sentences = read_conll(zh_path)
    config = tiny_config(sentences, bigram_dim=4, segment_dim=4, min_bigram_count=1, lexicon=True, shape_dim=4)
    tags = tag_set({s.label for x in sentences for s in spans(x.tags)}, Scheme(config.scheme))
    return FeatureEncoder.fit([s.tokens for s in sentences], tags, config)


@pytest.mark.parametrize("sentences", [ODD_SENTENCES, ODD_SENTENCES[:2], ODD_SENTENCES[3:4]])
def test_bigrams_by_unit_pairs_equal_bigrams_by_string_keys(zh_path: Path, sentences: list[list[str]]) -> None:
    features = encoder(zh_path)
    tokens = TokenTable(sentences)
    by_pairs = features._encode_bigrams(tokens)
    assert torch.equal(by_pairs, features._encode_bigrams_by_key(tokens.per_sentence))
    assert bool((by_pairs > 1).any())  # some bigrams are known, not all <unk>


def test_no_sentences_encode_to_empty_tensors(zh_path: Path) -> None:
    corpus = encoder(zh_path).encode([])
    assert len(corpus) == 0 and corpus.words.shape == (0,)
    assert all(values.size(0) == 0 for values in corpus.per_token.values())


def test_segments_cut_in_numpy_equal_segment_per_token(zh_path: Path) -> None:
    features = encoder(zh_path)
    tokens = TokenTable(ODD_SENTENCES)
    expected = [
        (features.segments.id(features.word_key(word)), place)
        for sentence in tokens.per_sentence
        for word, place in segment(sentence)
    ]
    assert features._encode_segments(tokens).tolist() == [list(pair) for pair in expected]


def walk(table: dict[str, int], text: str, ends: list[int]) -> set[tuple[int, int, int]]:
    """Every word of ``table`` in ``text``, found the slow way: every window of 2-8 characters."""
    found = set()
    for start in range(len(text)):
        for end in range(start + 2, min(ends[start], start + word_table.MAX_LENGTH) + 1):
            value = table.get(text[start:end], 0)
            if value >= 8:
                found.add((start, end - start, value))
    return found


def test_the_word_index_finds_what_a_walk_over_every_window_finds() -> None:
    rng = random.Random(1)
    alphabet = "郑州市河南省姚明出生于"
    words = {"".join(rng.choice(alphabet) for _ in range(rng.randint(2, 9))) for _ in range(300)}
    values = {word: 8 * rng.randint(0, 5) + rng.randint(0, 4) for word in words}  # count 0: a bare prefix
    table = {}
    for word, value in values.items():
        for length in range(2, min(len(word), word_table.MAX_LENGTH) + 1):
            table.setdefault(word[:length], 0)
        if len(word) <= word_table.MAX_LENGTH:
            table[word] = value
    index = WordTable(table, 1).index
    for _ in range(20):
        sentences = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30))) for _ in range(5)]
        text = "".join(sentences)
        ends = np.repeat(np.cumsum([len(s) for s in sentences]), [len(s) for s in sentences])
        starts, lengths, packed = index.find(word_table.code_points(text), ends)
        assert set(zip(starts.tolist(), lengths.tolist(), packed.tolist())) == walk(table, text, ends.tolist())


def test_a_hash_collision_never_makes_a_match(monkeypatch: pytest.MonkeyPatch) -> None:
    """With a hash that is the sum of the characters, 明姚 collides with 姚明; the characters decide."""
    monkeypatch.setattr(word_table, "HASH_BASE", np.uint64(1))
    index = WordIndex("姚明", np.array([8 * 3 + 1], dtype=np.uint32))
    starts, _, _ = index.find(word_table.code_points("明姚姚明"), np.full(4, 4))
    assert starts.tolist() == [2]


def test_keys_sharing_a_hash_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(word_table, "HASH_BASE", np.uint64(1))
    with pytest.raises(ValueError, match="share a hash"):
        WordIndex("姚明\n明姚", np.array([25, 25], dtype=np.uint32))


@pytest.mark.parametrize("size", [0, 1, 7, 5000])
def test_a_key_table_finds_each_key_and_nothing_else(size: int) -> None:
    from nertag.lookup import KeyTable

    rng = np.random.default_rng(size)
    keys = np.unique(rng.integers(0, 2**63, size=size, dtype=np.int64))
    rng.shuffle(keys)
    table = KeyTable(keys)
    others = rng.integers(0, 2**63, size=300, dtype=np.int64)
    queries = np.concatenate([keys, others, keys[:10], [-1]])
    expected = {int(key): row for row, key in enumerate(keys)}
    assert table.find(queries).tolist() == [expected.get(int(q), -1) for q in queries]


def test_a_key_table_refuses_repeated_keys() -> None:
    from nertag.lookup import KeyTable

    with pytest.raises(ValueError, match="distinct"):
        KeyTable(np.array([3, 5, 3], dtype=np.int64))


def test_a_model_reads_the_lexicon_classes_its_config_names(zh_path: Path) -> None:
    from nertag.config import ModelConfig
    from nertag.lexicon import lexicon_features

    sentences = read_conll(zh_path)
    tags = tag_set({s.label for x in sentences for s in spans(x.tags)}, Scheme("BIOES"))
    tokens = TokenTable([list("华为和微软在郑州")])
    encoded = {}
    for classes in ("jieba", "lac"):
        config = tiny_config(sentences, lexicon=True, lexicon_classes=classes)
        assert ModelConfig.from_json(config.to_json()) == config
        assert ("lexicon_classes" in config.to_json()) == (classes == "lac")  # jieba's: as models before the choice
        features = FeatureEncoder.fit([s.tokens for s in sentences], tags, config)
        encoded[classes] = features._token_features()["lexicon"](tokens)
        assert torch.equal(encoded[classes], lexicon_features(tokens.per_sentence, classes))
    assert not torch.equal(encoded["jieba"], encoded["lac"])


def test_a_model_on_lac_classes_is_saved_and_loaded_with_them(zh_path: Path, tmp_path: Path) -> None:
    from nertag.config import TrainConfig
    from nertag.lexicon import lexicon_features
    from nertag.serialize import load, save
    from nertag.train import train

    sentences = read_conll(zh_path)
    config = tiny_config(sentences, lexicon=True, lexicon_classes="lac")
    tagger, _ = train(sentences, sentences, config, TrainConfig(epochs=1, ema_decay=0.0))
    loaded = load(save(tagger, tmp_path / "lac"))
    assert loaded.config.lexicon_classes == "lac"
    tokens = TokenTable([list("华为在郑州")])
    assert torch.equal(loaded.features._token_features()["lexicon"](tokens), lexicon_features(tokens.per_sentence, "lac"))
    with pytest.raises(ValueError, match="needs the lexicon features"):
        tiny_config(sentences, lexicon=False, lexicon_classes="lac")
