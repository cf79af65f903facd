"""The training loop: length-bucketed batches, Adam, early stopping on dev entity F1; no CLI code."""

from __future__ import annotations

import logging
import random
import time
from contextlib import contextmanager
from dataclasses import asdict, replace
from pathlib import Path
from typing import Callable, Iterator, Sequence

import torch

from .checkpoint import read_checkpoint, restore, save_checkpoint, vocab_digest
from .config import ModelConfig, TrainConfig
from .conll import Sentence
from .embeddings import initialize, pretrained_targets
from .features import EncodedCorpus, FeatureEncoder
from .model import BiLstmCrf
from .schemes import Scheme, convert, spans, tag_set
from .scoring import Scores, score
from .tagger import Tagger, checked_device
from .train_state import EpochLog, TrainingInterrupted, TrainingProgress

log = logging.getLogger(__name__)


def is_character_corpus(sentences: Sequence[Sentence]) -> bool:
    """True when nearly every token is one character, as in Chinese NER corpora."""
    tokens = [t for s in sentences[:2000] for t in s.tokens]
    return bool(tokens) and sum(len(t) == 1 for t in tokens) >= 0.95 * len(tokens)


def default_config(sentences: Sequence[Sentence], token_unit: str | None = None, **overrides: object) -> ModelConfig:
    """Defaults that suit the corpus: character-unit corpora get bigrams instead of a char encoder.

    ``token_unit`` defaults to "char" when nearly every token is one character; ``None`` overrides
    are ignored so that callers can pass unset options straight through.
    """
    unit = token_unit or ("char" if is_character_corpus(sentences) else "word")
    if unit == "char":
        # hidden 128 matched or beat 200 on Resume dev (BENCHMARKS.md) and trains faster.
        base = ModelConfig(
            token_unit="char", char_dim=0, bigram_dim=50, segment_dim=50, min_bigram_count=2, hidden_size=128
        )
    else:
        base = ModelConfig(token_unit="word")
    return replace(base, **{k: v for k, v in overrides.items() if v is not None})


def make_optimizer(net: torch.nn.Module, lr: float) -> torch.optim.Optimizer:
    """Adam with the fused kernel: one pass over all weights per step, where the default loops per
    tensor; on Resume it cut the optimizer step from 5.7 to 2.0 ms of a 34 ms batch (one thread)."""
    return torch.optim.Adam(net.parameters(), lr=lr, fused=True)


def length_batches(lengths: torch.Tensor, batch_size: int, generator: torch.Generator) -> list[torch.Tensor]:
    """Shuffled batches of sentences of near-equal length, so little compute goes to padding."""
    order = torch.randperm(len(lengths), generator=generator)
    order = order[torch.argsort(lengths[order], stable=True)]
    batches = list(torch.split(order, batch_size))
    shuffled = torch.randperm(len(batches), generator=generator).tolist()
    return [batches[i] for i in shuffled]


def warmed_up_decay(decay: float, step: int) -> float:
    """The decay the average uses at update ``step`` (from 0): ``min(decay, (1 + step) / (10 + step))``.

    Early on the average forgets fast, so it follows the trained weights out of their random start
    instead of staying near it for ~1 / (1 - decay) steps.  Without this, 3 epochs on 300 Resume
    sentences saved a model with dev F1 23.1 (72.3 unaveraged); with it, 65.6.
    """
    return min(decay, (1 + step) / (10 + step))


class WeightAverage:
    """An exponential moving average of the weights, used for evaluation and saving.

    Dev F1 of the raw weights jumps from batch to batch; the average is smoother, so early
    stopping picks a better epoch and the saved model generalises better.  ``steps`` counts the
    updates so far; it sets the warm-up (:func:`warmed_up_decay`) and is kept in checkpoints.
    """

    def __init__(self, net: torch.nn.Module, decay: float) -> None:
        self.net, self.decay, self.steps = net, decay, 0
        self.shadow = {k: v.detach().clone() for k, v in net.state_dict().items() if v.is_floating_point()}

    @torch.no_grad()
    def update(self) -> None:
        if self.decay <= 0:
            return
        weight = 1.0 - warmed_up_decay(self.decay, self.steps)
        state = self.net.state_dict()
        for name, value in self.shadow.items():
            value.lerp_(state[name], weight)
        self.steps += 1

    @contextmanager
    def swapped_in(self) -> Iterator[None]:
        """Within the block the network holds the averaged weights; the trained ones come back after."""
        if self.decay <= 0:
            yield
            return
        state = self.net.state_dict()
        kept = {k: state[k].detach().clone() for k in self.shadow}
        self.net.load_state_dict(self.shadow, strict=False)
        try:
            yield
        finally:
            self.net.load_state_dict(kept, strict=False)


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    torch.manual_seed(seed)


def train(
    train_sentences: Sequence[Sentence],
    dev_sentences: Sequence[Sentence],
    config: ModelConfig,
    settings: TrainConfig,
    on_epoch: Callable[[EpochLog], None] | None = None,
    progress: bool = False,
    pretrained: dict[str, str] | None = None,
    checkpoint: Path | None = None,
    resume: bool = False,
    should_stop: Callable[[], bool] = lambda: False,
    job: dict[str, object] | None = None,
) -> tuple[Tagger, list[EpochLog]]:
    """Train a model and return it (weights of the best dev epoch) with one log entry per epoch.

    ``pretrained`` maps a table ("words", "chars", "bigrams") to a word2vec/GloVe text file that
    initialises it.  With ``checkpoint`` (and ``job``, facts stored with it for whoever resumes), the run's state is saved there after every epoch; with
    ``resume`` it first continues from that state, ending with the model an uninterrupted run gives.
    When ``should_stop()`` turns true, training stops between batches and raises
    :class:`TrainingInterrupted`; the unfinished epoch is dropped.
    """
    if not isinstance(settings, TrainConfig):
        raise TypeError(f"settings: expected a TrainConfig, got {type(settings).__name__}")
    if not train_sentences:
        raise ValueError("no training sentences")
    if not dev_sentences:
        raise ValueError("no dev sentences: expected at least one, to pick the best epoch by")
    checked_device(settings.device)
    if settings.threads:
        torch.set_num_threads(settings.threads)
    _seed_everything(settings.seed)
    scheme = Scheme(config.scheme)
    labels = {span.label for s in train_sentences for span in spans(s.tags)}
    tags = tag_set(labels, scheme)
    features = FeatureEncoder.fit([s.tokens for s in train_sentences], tags, config)
    corpus = features.encode(
        [s.tokens for s in train_sentences], [convert(s.tags, scheme) for s in train_sentences]
    )
    net = BiLstmCrf(
        config,
        tags,
        **features.table_sizes(),
    )
    _load_pretrained(net, features, pretrained or {})
    tagger = Tagger(config, features, net, settings.device)
    optimizer = make_optimizer(net, settings.lr)
    generator = torch.Generator().manual_seed(settings.seed)
    dev_tokens = [s.tokens for s in dev_sentences]
    dev_gold = [list(s.tags) for s in dev_sentences]

    average = WeightAverage(net, settings.ema_decay)
    progress_state, best_state = TrainingProgress(), None
    meta = {
        "model": config.to_json(),
        "settings": asdict(settings),
        "vocab_sha256": vocab_digest(features.to_json()),
        "job": job or {},
    }
    if resume:
        assert checkpoint is not None
        saved, tensors = read_checkpoint(checkpoint)
        if saved.get("vocab_sha256") != meta["vocab_sha256"] or saved.get("model") != meta["model"]:
            raise ValueError(f"{checkpoint}: checkpoint was made with other training data or model settings")
        best_state, progress_state = restore(saved, tensors, net, optimizer, average, generator)
    elif checkpoint is not None:
        save_checkpoint(checkpoint, net, optimizer, average, generator, None, progress_state, meta)
    history = progress_state.history
    for epoch in range(progress_state.epoch + 1, settings.epochs + 1):
        if progress_state.stale >= settings.patience:
            break
        for group in optimizer.param_groups:
            group["lr"] = settings.lr / (1 + settings.lr_decay * (epoch - 1))
        started = time.perf_counter()
        try:
            loss = _train_epoch(net, corpus, optimizer, settings, generator, progress, epoch, average, should_stop)
        except TrainingInterrupted:
            raise TrainingInterrupted(epoch - 1, str(checkpoint) if checkpoint else None) from None
        report, averaged, state = _better_weights(tagger, average, dev_tokens, dev_gold)
        improved = report.f1 > progress_state.best_f1
        if improved:
            progress_state.best_f1, progress_state.stale = report.f1, 0
            best_state = state
        else:
            progress_state.stale += 1
        entry = EpochLog(
            epoch, loss, report.precision, report.recall, report.f1, time.perf_counter() - started, improved,
            averaged,
        )
        history.append(entry)
        progress_state.epoch = epoch
        if checkpoint is not None:
            save_checkpoint(checkpoint, net, optimizer, average, generator, best_state, progress_state, meta)
        if on_epoch:
            on_epoch(entry)
        if progress_state.stale >= settings.patience:
            log.info("no dev F1 gain in %d epochs; stopping", settings.patience)
    # TrainConfig holds epochs and patience >= 1, so a fresh run trains at least one epoch and a
    # resumed one brings the epochs it had.
    assert history, "training ran no epoch"
    if best_state is not None:
        net.load_state_dict(best_state)
    net.eval()
    return tagger, history


def _better_weights(
    tagger: Tagger, average: WeightAverage, dev_tokens: Sequence[Sequence[str]], dev_gold: Sequence[Sequence[str]]
) -> tuple[Scores, bool, dict[str, torch.Tensor]]:
    """Dev scores of the trained weights and of their average, whichever is better, with a copy
    of those weights and whether they are the average.

    The average usually wins, but early in a short run it can still trail the trained weights;
    comparing both on dev means averaging never makes the saved model worse. The trained
    weights are the same with or without averaging (the average takes no part in training).
    """
    net = tagger.net
    raw = score(dev_gold, tagger.predict(dev_tokens)).micro
    if average.decay <= 0:
        return raw, False, {k: v.detach().clone() for k, v in net.state_dict().items()}
    with average.swapped_in():
        smoothed = score(dev_gold, tagger.predict(dev_tokens)).micro
        if smoothed.f1 >= raw.f1:
            return smoothed, True, {k: v.detach().clone() for k, v in net.state_dict().items()}
    return raw, False, {k: v.detach().clone() for k, v in net.state_dict().items()}


def _load_pretrained(net: BiLstmCrf, features: FeatureEncoder, files: dict[str, str]) -> None:
    targets = pretrained_targets(net, features)
    for table, path in files.items():
        if table not in targets:
            raise ValueError(f"this model has no {table} table to initialise from {path}")
        embedding, vocab, normalize = targets[table]
        found = initialize(embedding, vocab, path, normalize)
        log.info("%s: vectors for %d of %d %s", path, found, len(vocab) - 2, table)


def _train_epoch(
    net: BiLstmCrf,
    corpus: EncodedCorpus,
    optimizer: torch.optim.Optimizer,
    settings: TrainConfig,
    generator: torch.Generator,
    progress: bool,
    epoch: int,
    average: "WeightAverage | None" = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> float:
    from tqdm import tqdm

    net.train()
    device = next(net.parameters()).device
    total = torch.zeros((), device=device)
    batches = length_batches(corpus.lengths, settings.batch_size, generator)
    for indices in tqdm(batches, desc=f"epoch {epoch}", leave=False, disable=not progress, unit="batch"):
        if should_stop():
            raise TrainingInterrupted(epoch - 1, None)
        batch = corpus.batch(indices).to(device)
        loss = net.loss(batch)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), settings.clip)
        optimizer.step()
        if average is not None:
            average.update()
        total += loss.detach() * len(indices)
    return float(total) / len(corpus)
