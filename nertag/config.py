"""Hyperparameters: one frozen dataclass for the model (saved beside the weights), one for training."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

# Bumped whenever config.json, vocab.json or the weight names change incompatibly.
FORMAT_VERSION = 1


@dataclass(frozen=True)
class ModelConfig:
    """Everything needed to rebuild a model before its weights are loaded."""

    token_unit: str = "word"  # "char": one character a token (Chinese); "word": tokenized text
    scheme: str = "BIOES"  # the scheme the CRF decodes in; users always get BIO
    lowercase: bool = True  # for word lookup only; the character encoder sees the original case
    normalize_digits: bool = True
    word_dim: int = 100
    char_dim: int = 30  # 0 turns the character encoder off
    char_hidden: int = 50  # per direction
    bigram_dim: int = 0  # character bigram embeddings (char-unit models); 0 turns them off
    segment_dim: int = 0  # embedding of the jieba word holding each character (char-unit models)
    segment_position_dim: int = 10  # and of the character's place in it: B, M, E or S
    lexicon: bool = False  # dictionary matches per character and role/length (nertag.lexicon), char-unit
    min_segment_count: int = 2  # counted per character, so a two-character word seen once counts 2
    min_word_count: int = 1  # rarer training tokens map to <unk>, keeping models small
    min_bigram_count: int = 1
    hidden_size: int = 200  # of the sentence encoder, per direction
    layers: int = 1
    cell: str = "lstm"  # "lstm" or "gru"
    dropout: float = 0.5
    word_dropout: float = 0.05  # chance a token is replaced by <unk> in training

    def __post_init__(self) -> None:
        if self.token_unit not in ("char", "word"):
            raise ValueError(f"token_unit must be 'char' or 'word', got {self.token_unit!r}")
        if self.scheme not in ("BIO", "BIOES"):
            raise ValueError(f"scheme must be BIO or BIOES, got {self.scheme!r}")
        if self.cell not in ("lstm", "gru"):
            raise ValueError(f"cell must be 'lstm' or 'gru', got {self.cell!r}")
        if not 0.0 <= self.dropout < 1.0 or not 0.0 <= self.word_dropout < 1.0:
            raise ValueError("dropout and word_dropout must lie in [0, 1)")
        if min(self.word_dim, self.hidden_size, self.layers) < 1:
            raise ValueError("word_dim, hidden_size and layers must be positive")

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "ModelConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown model settings {', '.join(unknown)}")
        return cls(**data)


@dataclass(frozen=True)
class TrainConfig:
    """How to train; not needed to use a trained model."""

    epochs: int = 40
    batch_size: int = 16
    lr: float = 2e-3
    lr_decay: float = 0.05  # learning rate of epoch e is lr / (1 + lr_decay * (e - 1)), as NCRF++ does
    seed: int = 1
    ema_decay: float = 0.996  # weights are averaged over roughly the last 1 / (1 - decay) steps
    patience: int = 8  # epochs without a better dev F1 before stopping
    clip: float = 5.0
    device: str = "cpu"
    threads: int | None = None  # torch intra-op threads on CPU; None leaves torch's choice
