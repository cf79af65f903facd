"""The network: token representation -> sentence encoder -> emission scores -> CRF.

Imports only torch and the project's own torch-free modules; training and I/O live elsewhere.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from .batch import SHAPE_CLASSES, Batch
from .birnn import bidirectional
from .config import ModelConfig, parse_style
from .crf import CRF
from .schemes import Scheme, allowed_transitions, continuation_tags

UNK_ID = 1
# Share of training sentences that read the mixture style instead of their corpus's (style models),
# as classifier-free guidance drops its condition: the mixture row then means "any of the corpora".
MIXED_STYLE_RATE = 0.2


def _rnn(cell: str, input_size: int, hidden_size: int, layers: int = 1, dropout: float = 0.0) -> nn.RNNBase:
    kind = nn.LSTM if cell == "lstm" else nn.GRU
    return kind(
        input_size, hidden_size, num_layers=layers, bidirectional=True, batch_first=True,
        dropout=dropout if layers > 1 else 0.0,
    )


class Dropout(nn.Module):
    """Inverted dropout from a uniform draw: same as ``nn.Dropout``, but ``bernoulli_`` on CPU
    took 1.6 ms per call on a Resume batch (14% of a training step) and ``rand`` takes 0.5."""

    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = p

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return inputs
        keep = torch.rand_like(inputs) >= self.p
        return inputs * keep * (1.0 / (1.0 - self.p))


class CharEncoder(nn.Module):
    """A BiLSTM over each token's characters; its two final states are the token's character vector."""

    def __init__(self, num_chars: int, char_dim: int, hidden_size: int, cell: str) -> None:
        super().__init__()
        self.embedding = nn.Embedding(num_chars, char_dim, padding_idx=0)
        self.rnn = _rnn(cell, char_dim, hidden_size)
        self.output_size = 2 * hidden_size

    def forward(self, chars: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """chars: (forms, chars) ids; lengths: (forms,). Returns (forms, 2 * hidden)."""
        forward, backward = bidirectional(self.rnn, self.embedding(chars), lengths)
        ends = (lengths - 1).to(forward.device).view(-1, 1, 1).expand(-1, 1, forward.size(2))
        last = forward.gather(1, ends).squeeze(1)
        return torch.cat([last, backward[:, 0]], dim=1)


class BiLstmCrf(nn.Module):
    """Lample et al. (2016): token embedding (+ char BiLSTM, + bigrams, + segmenter words) -> BiLSTM -> CRF."""

    def __init__(
        self,
        config: ModelConfig,
        tags: Sequence[str],
        num_words: int,
        num_chars: int = 0,
        num_bigrams: int = 0,
        num_segments: int = 0,
        lexicon_width: int = 0,
    ) -> None:
        super().__init__()
        self.config = config
        self.num_tags = len(tags)
        self.word_embedding = nn.Embedding(num_words, config.word_dim, padding_idx=0)
        size = config.word_dim
        self.char_encoder: CharEncoder | None = None
        if config.char_dim:
            self.char_encoder = CharEncoder(num_chars, config.char_dim, config.char_hidden, config.cell)
            size += self.char_encoder.output_size
        self.bigram_embedding: nn.Embedding | None = None
        if config.bigram_dim:
            self.bigram_embedding = nn.Embedding(num_bigrams, config.bigram_dim, padding_idx=0)
            size += 2 * config.bigram_dim
        self.segment_embedding: nn.Embedding | None = None
        self.segment_position_embedding: nn.Embedding | None = None
        if config.segment_dim:
            self.segment_embedding = nn.Embedding(num_segments, config.segment_dim, padding_idx=0)
            self.segment_position_embedding = nn.Embedding(5, config.segment_position_dim, padding_idx=0)
            size += config.segment_dim + config.segment_position_dim
        self.shape_embedding: nn.Embedding | None = None
        if config.shape_dim:
            self.shape_embedding = nn.Embedding(SHAPE_CLASSES, config.shape_dim, padding_idx=0)
            size += config.shape_dim
        self.style_embedding: nn.Embedding | None = None
        if config.style_dim:
            if not config.styles:
                raise ValueError("a model with style_dim needs its training corpora named (styles)")
            # Row 0 is the mixture of all corpora, rows 1..K the corpora in --train order.
            self.style_embedding = nn.Embedding(len(config.styles) + 1, config.style_dim)
            size += config.style_dim
        self.tag_style_weights = style_weights(config, config.tag_style)  # (styles + 1,) over the embedding rows
        if config.lexicon:
            if lexicon_width < 1:
                raise ValueError(f"a lexicon model needs lexicon_width >= 1, got {lexicon_width}")
            size += lexicon_width
        self.dropout = Dropout(config.dropout)
        self.encoder = _rnn(config.cell, size, config.hidden_size, config.layers, config.dropout)
        self.emission = nn.Linear(2 * config.hidden_size, self.num_tags)
        self.crf = build_crf(config, tags)

    def emissions(self, batch: Batch, time_major: bool | None = None) -> torch.Tensor:
        """Emission scores (batch, time, tags) for a batch already on this model's device.

        Computed time-major by default when not training (the layout the CPU's fused RNN kernel
        works in; the result is a transposed view), batch-first in training, so that a seed keeps
        drawing the same dropout. Both give the same numbers.
        """
        if time_major is None:
            time_major = not self.training
        encoded = bidirectional(self.encoder, self.dropout(self._token_inputs(batch, time_major)), batch.lengths, time_major=time_major)
        scores = self.emission(self.dropout(torch.cat(encoded, dim=2)))
        return scores.transpose(0, 1) if time_major else scores

    def _token_inputs(self, batch: Batch, time_major: bool) -> torch.Tensor:
        """Each token's input to the sentence encoder, (batch, time, features) or time-major."""
        arranged = (lambda values: values.transpose(0, 1)) if time_major else (lambda values: values)
        words, bigrams, segments = batch.words, batch.bigrams, batch.segments
        if self.training and self.config.word_dropout:
            # Training sees <unk> now and then, in every id feature, so that unseen test
            # tokens, bigrams and words fall on a trained vector.
            words = self._to_unknown(words)
            bigrams = self._to_unknown(bigrams) if bigrams is not None else None
            if segments is not None:
                segments = torch.stack([self._to_unknown(segments[..., 0]), segments[..., 1]], dim=-1)
        parts = [self.word_embedding(arranged(words))]
        if self.char_encoder is not None:
            assert batch.chars is not None and batch.char_lengths is not None and batch.form_index is not None
            per_form = self.char_encoder(batch.chars, batch.char_lengths)  # (forms, 2 * char_hidden)
            parts.append(per_form[arranged(batch.form_index)])  # (batch, time, 2 * char_hidden)
        if self.bigram_embedding is not None:
            assert bigrams is not None
            parts.append(self.bigram_embedding(arranged(bigrams)).flatten(2))  # (batch, time, 2 * bigram_dim)
        if self.segment_embedding is not None and self.segment_position_embedding is not None:
            assert segments is not None
            segments = arranged(segments)
            parts.append(self.segment_embedding(segments[..., 0]))  # (batch, time, segment_dim)
            parts.append(self.segment_position_embedding(segments[..., 1]))
        if self.shape_embedding is not None:
            assert batch.shapes is not None
            parts.append(self.shape_embedding(arranged(batch.shapes)[..., 0]))  # (batch, time, shape_dim)
        if self.config.lexicon:
            assert batch.lexicon is not None
            parts.append(arranged(batch.lexicon))
        if self.style_embedding is not None:
            parts.append(arranged(self._styles(batch)))  # (batch, time, style_dim)
        return torch.cat(parts, dim=2)

    def _styles(self, batch: Batch) -> torch.Tensor:
        """(batch, time, style_dim) style embedding of every token: its corpus's in training, where a
        MIXED_STYLE_RATE share of the sentences read the mixture instead (so that it is learned
        too); the tagging style otherwise."""
        assert self.style_embedding is not None
        if batch.styles is None:
            return self.tag_style_vector().expand(batch.words.size(0), batch.words.size(1), -1)
        ids = batch.styles[..., 0]
        if self.training:
            keep = torch.rand(ids.size(0), 1, device=ids.device) >= MIXED_STYLE_RATE
            ids = ids * keep
        return self.style_embedding(ids)

    def tag_style_vector(self) -> torch.Tensor:
        """(style_dim,) the embedding tagging reads: the tag style's rows, blended by their weights."""
        assert self.style_embedding is not None
        weight = self.style_embedding.weight
        return self.tag_style_weights.to(weight.device, weight.dtype) @ weight

    def set_tag_style(self, spec: str) -> None:
        """Tag in style ``spec`` (see :func:`nertag.config.parse_style`) from now on."""
        self.tag_style_weights = style_weights(self.config, spec)

    def _to_unknown(self, ids: torch.Tensor) -> torch.Tensor:
        """Replace a ``word_dropout`` share of the non-padding ids with <unk>."""
        unknown = (torch.rand(ids.shape, device=ids.device) < self.config.word_dropout) & (ids != 0)
        return ids.masked_fill(unknown, UNK_ID)

    def loss(self, batch: Batch, teacher_weight: float = 0.0) -> torch.Tensor:
        """Mean negative log-likelihood of the gold tags over the batch's sentences; with a
        teacher's posteriors in the batch, mixed with their cross-entropy by ``teacher_weight``."""
        assert batch.tags is not None
        emissions = self.emissions(batch)
        if batch.teacher is None or not teacher_weight:
            return -self.crf.log_likelihood(emissions, batch.tags, batch.mask).mean()
        return self.crf.distillation_loss(emissions, batch.tags, batch.mask, batch.teacher, teacher_weight).mean()


def style_weights(config: ModelConfig, spec: str) -> torch.Tensor:
    """(len(styles) + 1,) weights over the style embedding's rows for tag style ``spec``, summing
    to 1: row 0 alone for "" (the mixture), else the named corpora's rows (1..K) in proportion."""
    weights = torch.zeros(len(config.styles) + 1)
    parsed = parse_style(spec)
    if not parsed:
        weights[0] = 1.0
        return weights
    for name, weight in parsed.items():
        weights[style_id(config, name)] = weight
    return weights / weights.sum()


def style_id(config: ModelConfig, name: str) -> int:
    """The embedding row of style ``name`` ("" is the mixture, row 0)."""
    if not name:
        return 0
    config.check_style(name)
    return config.styles.index(name) + 1


def main_style(spec: str) -> str:
    """The corpus a tag style weighs most ("" for the mixture): the style a corpus of another name
    trains when a style model is fine-tuned."""
    parsed = parse_style(spec)
    return max(parsed, key=lambda name: parsed[name]) if parsed else ""


def build_network(config: ModelConfig, tags: Sequence[str], sizes: dict[str, int], device: str | torch.device = "cpu") -> BiLstmCrf:
    """The one place a network is assembled: from its config, tag list and input sizes (see
    :meth:`nertag.features.FeatureEncoder.table_sizes`), placed on ``device``."""
    return BiLstmCrf(config, tags, **sizes).to(checked_device(device))


def build_crf(config: ModelConfig, tags: Sequence[str]) -> CRF:
    """The CRF of a model, its transition constraints rebuilt from the tag list and scheme; also
    used alone where the emission scores come from elsewhere (an ONNX export)."""
    scheme = Scheme(config.scheme)
    return CRF(len(tags), allowed_transitions(tags, scheme), continuation_tags(tags, scheme))


def checked_device(device: str | torch.device) -> torch.device:
    """``device`` as a torch device, or a clear error when it names no device or a GPU this torch
    cannot use."""
    if isinstance(device, str) and device.split(":")[0] not in ("cpu", "cuda"):
        raise ValueError(f"device {device!r}: expected 'cpu', 'cuda' or 'cuda:N'")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise ValueError(f"device {device!r}: expected 'cpu', 'cuda' or 'cuda:N' ({error})") from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {str(device)!r}: no CUDA GPU is available to torch {torch.__version__}")
    return resolved
