"""Shared fixtures: the small corpora under tests/fixtures and a tiny trained model."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from nertag.config import ModelConfig, TrainConfig
from nertag.conll import read_conll
from nertag.serialize import save
from nertag.train import default_config, train

FIXTURES = Path(__file__).parent / "fixtures"
SHARED_CORPORA = Path(__file__).resolve().parents[1].parent / "shared" / "corpora"

torch.set_num_threads(2)


@pytest.fixture(scope="session")
def zh_path() -> Path:
    return FIXTURES / "zh.bmes"


@pytest.fixture(scope="session")
def en_path() -> Path:
    return FIXTURES / "en.bio"


def tiny_config(sentences, **overrides) -> ModelConfig:
    return default_config(sentences, word_dim=16, char_dim=8, char_hidden=8, hidden_size=16, **overrides)


@pytest.fixture(scope="session")
def zh_model_dir(tmp_path_factory: pytest.TempPathFactory, zh_path: Path) -> Path:
    """A model trained for a few epochs on the Chinese fixture (it memorises it)."""
    sentences = read_conll(zh_path)
    tagger, _ = train(sentences, sentences, tiny_config(sentences, bigram_dim=8, segment_dim=8, dropout=0.1, word_dropout=0.0), TrainConfig(epochs=40, patience=30, lr=0.01, ema_decay=0.0))
    return save(tagger, tmp_path_factory.mktemp("models") / "zh")


@pytest.fixture(scope="session")
def en_model_dir(tmp_path_factory: pytest.TempPathFactory, en_path: Path) -> Path:
    sentences = read_conll(en_path)
    tagger, _ = train(sentences, sentences, tiny_config(sentences), TrainConfig(epochs=30, patience=30, lr=0.01, ema_decay=0.0))
    return save(tagger, tmp_path_factory.mktemp("models") / "en")
