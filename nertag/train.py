"""The training loop: sentences in, a trained tagger out. Length-bucketed batches, Adam, weight
averaging, early stopping on dev entity F1; prints nothing (callers follow it through hooks)."""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass, replace
from typing import Callable, Sequence

import torch

from .averaging import WeightAverage
from .batch import Batch
from .checkpoint import (
    Checkpointing,
    LiveRun,
    RunFacts,
    read_checkpoint,
    restore,
    save_checkpoint,
    vocab_digest,
)
from .config import ModelConfig, TrainConfig
from .conll import Sentence, is_character_corpus
from .distill import TEACHER_FEATURE, teacher_posteriors
from .distributed import World, everywhere, on_main
from .embeddings import initialize, pretrained_targets
from .entity_dropout import EntityDropout
from .features import EncodedCorpus, FeatureEncoder
from .finetune import InitialModel, carry_over, extended_features, finetune_config
from .model import BiLstmCrf, build_network
from .schemes import Scheme, Span, convert, spans, tag_set, to_tags
from .scoring import Scores, score
from .tagger import Tagger
from .tokenize import run_groups
from .train_state import EpochLog, TrainingHooks, TrainingInterrupted, TrainingProgress

log = logging.getLogger(__name__)


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


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    torch.manual_seed(seed)


def train(
    train_sentences: Sequence[Sentence],
    dev_sentences: Sequence[Sentence],
    config: ModelConfig,
    settings: TrainConfig,
    *,
    pretrained: dict[str, str] | None = None,
    hooks: TrainingHooks | None = None,
    checkpointing: Checkpointing | None = None,
    world: World | None = None,
    init: InitialModel | None = None,
    teacher: Tagger | None = None,
) -> tuple[Tagger, list[EpochLog]]:
    """Train a model and return it (weights of the best dev epoch) with one log entry per epoch.

    ``pretrained`` maps a table ("words", "chars", "bigrams") to a word2vec/GloVe text file that
    initialises it. ``hooks`` follow and steer the run (:class:`~nertag.train_state.TrainingHooks`):
    when ``should_stop()`` turns true, training stops between batches and raises
    :class:`TrainingInterrupted`, dropping the unfinished epoch. With ``checkpointing`` the run's
    state is saved after every epoch, and a resumed run ends with the model an uninterrupted one gives.

    With ``world`` (a process group, see :mod:`nertag.distributed`) each rank trains on its share
    of the batches with gradients averaged over the ranks, on ``world.device``; rank 0 alone writes
    the checkpoint, and every rank returns the same model and log.

    With ``init`` the run starts from that model (:mod:`nertag.finetune`): ``config`` must keep its
    architecture, its vocabularies are extended with the corpus's new items and its weights copied
    in; a resumed run rebuilds the same vocabularies from the same ``init``.

    With ``teacher`` (and ``settings.teacher_weight`` > 0) the loss also asks the network to match
    the teacher's posterior at every training token (:mod:`nertag.distill`); the teacher must decode
    the same tags from the same tokens.
    """
    if not isinstance(settings, TrainConfig):
        raise TypeError(f"settings: expected a TrainConfig, got {type(settings).__name__}")
    if not train_sentences:
        raise ValueError("no training sentences")
    if not dev_sentences:
        raise ValueError("no dev sentences: expected at least one, to pick the best epoch by")
    _check_teacher(teacher, config, settings)
    if init is not None:
        if pretrained:
            raise ValueError(f"pretrained vectors and an initial model ({init.name}) both fill the embedding tables; give one of them")
        finetune_config(init.tagger.config, init.name, config.to_json())  # refuses another architecture
    hooks = hooks or TrainingHooks()
    device = _device_in(world, settings.device)
    if settings.threads:
        torch.set_num_threads(settings.threads)
    _seed_everything(settings.seed)
    tagger, corpus, run = everywhere(
        world, lambda: _set_up(train_sentences, config, settings, device, pretrained or {}, init, teacher)
    )
    net = run.net
    facts = RunFacts(config, settings, checkpointing.job if checkpointing else None, vocab_digest(tagger.features.to_json()))
    if world is not None and not world.same(facts.vocab_sha256):
        raise ValueError("the processes built different vocabularies from the same corpora; does every rank read the same files?")
    if checkpointing is not None:
        _start_or_resume(run, facts, checkpointing, world)
    parallel = _Parallel(world, world.wrap(net, settings.teacher_weight)) if world is not None else None
    hide = EntityDropout(tagger.tags, settings.entity_dropout)
    dev_tokens = [s.tokens for s in dev_sentences]
    dev_gold = [list(s.tags) for s in dev_sentences]
    for epoch in range(run.progress.epoch + 1, settings.epochs + 1):
        if run.progress.stale >= settings.patience:
            break
        started = time.perf_counter()
        try:
            loss = _train_epoch(run, corpus, settings, epoch, hooks, parallel, hide)
        except TrainingInterrupted:
            raise TrainingInterrupted(epoch - 1, str(checkpointing.path) if checkpointing else None) from None
        entry = _keep_if_better(run, tagger, dev_tokens, dev_gold, epoch, loss, started, world)
        if checkpointing is not None:
            on_main(world, lambda: save_checkpoint(checkpointing.path, run, facts))
        if hooks.on_epoch:
            hooks.on_epoch(entry)
        if run.progress.stale >= settings.patience:
            log.info("no dev F1 gain in %d epochs; stopping", settings.patience)
    # TrainConfig holds epochs and patience >= 1, so a fresh run trains at least one epoch and a
    # resumed one brings the epochs it had.
    assert run.progress.history, "training ran no epoch"
    if run.best_state is not None:
        net.load_state_dict(run.best_state)
    net.eval()
    return tagger, run.progress.history


def _check_teacher(teacher: Tagger | None, config: ModelConfig, settings: TrainConfig) -> None:
    """Refuse a teacher that cannot teach this student, or a teacher weight without a teacher."""
    if teacher is None:
        if settings.teacher_weight:
            raise ValueError(f"teacher_weight {settings.teacher_weight} needs a teacher")
        return
    if not settings.teacher_weight:
        raise ValueError("a teacher with teacher_weight 0 teaches nothing; give a weight in (0, 1]")
    if (teacher.config.token_unit, teacher.config.latin_runs) != (config.token_unit, config.latin_runs):
        raise ValueError(
            f"the teacher reads {teacher.config.token_unit} tokens (latin_runs={teacher.config.latin_runs}) and "
            f"the student {config.token_unit} tokens (latin_runs={config.latin_runs}): they must read the same tokens"
        )
    if teacher.config.scheme != config.scheme:
        raise ValueError(f"the teacher decodes in {teacher.config.scheme} and the student in {config.scheme}: give --scheme {teacher.config.scheme}")


def _set_up(
    sentences: Sequence[Sentence], config: ModelConfig, settings: TrainConfig, device: str | torch.device,
    pretrained: dict[str, str], init: InitialModel | None = None, teacher: Tagger | None = None,
) -> tuple[Tagger, EncodedCorpus, LiveRun]:
    """The vocabularies, the encoded corpus (with the teacher's posteriors when there is one) and a
    fresh run: network (the initial model's weights copied in when there is one), optimizer,
    weight average."""
    features, corpus, token_lists = _encode_training_data(sentences, config, init, teacher.labels if teacher else ())
    if teacher is not None:
        log.info("the teacher reads the %d training sentences", len(token_lists))
        corpus.per_token[TEACHER_FEATURE] = teacher_posteriors(teacher, token_lists, features.tags.items)
    net = build_network(config, features.tags.items, features.table_sizes(), device)
    if init is not None:
        carry_over(init.tagger, net, features.tags.items)
    _load_pretrained(net, features, pretrained)
    tagger = Tagger(config, features, net)
    run = LiveRun(
        net, make_optimizer(net, settings.lr), WeightAverage(net, settings.ema_decay),
        torch.Generator().manual_seed(settings.seed), TrainingProgress(),
    )
    return tagger, corpus, run


def _encode_training_data(
    sentences: Sequence[Sentence], config: ModelConfig, init: InitialModel | None = None,
    teacher_labels: Sequence[str] = (),
) -> tuple[FeatureEncoder, EncodedCorpus, list[Sequence[str]]]:
    """Vocabularies fitted on the training sentences (or the initial model's, extended by them),
    those sentences encoded with their tags in the scheme the model decodes in, and their tokens
    as the model reads them. A teacher's labels are the model's too, so a student can learn from
    text whose gold tags do not show them all (untagged text, with all the weight on the teacher)."""
    scheme = Scheme(config.scheme)
    if config.token_unit == "char" and config.latin_runs:
        sentences = [join_latin_runs(s) for s in sentences]
    labels = {span.label for s in sentences for span in spans(s.tags)} | set(teacher_labels)
    if init is None:
        features = FeatureEncoder.fit([s.tokens for s in sentences], tag_set(labels, scheme), config)
    else:
        tags = tag_set(init.labels_for(labels), scheme)
        features = extended_features(init.tagger.features, config, [s.tokens for s in sentences], tags)
    token_lists = [s.tokens for s in sentences]
    corpus = features.encode(token_lists, [convert(s.tags, scheme) for s in sentences])
    if config.style_dim:
        corpus.per_token["styles"] = style_rows(sentences, config)
    return features, corpus, token_lists


def style_rows(sentences: Sequence[Sentence], config: ModelConfig) -> torch.Tensor:
    """(tokens, 1) the style row of every token of the corpus: its sentence's ``source``, 1..K for
    the corpus it came from (0, the mixture, for sentences that teach all styles at once)."""
    sources = torch.tensor([s.source for s in sentences], dtype=torch.long)
    if len(sources) and not (0 <= int(sources.min()) and int(sources.max()) <= len(config.styles)):
        raise ValueError(
            f"a style model learns one style per training corpus ({len(config.styles)} named: {', '.join(config.styles)}); "
            "a sentence's source must be 1 to that number, or 0 for the mixture"
        )
    lengths = torch.tensor([len(s.tokens) for s in sentences], dtype=torch.long)
    return torch.repeat_interleave(sources, lengths)[:, None]


def join_latin_runs(sentence: Sentence) -> Sentence:
    """A character-unit sentence with each run of Latin letters and digits as one token, as the
    tagger cuts raw text; a run is cut where an entity starts or ends, so every entity survives."""
    entity_spans = spans(sentence.tags)
    cuts = {span.start for span in entity_spans} | {span.end for span in entity_spans}
    groups = run_groups(sentence.tokens, cuts)
    if len(groups) == len(sentence.tokens):
        return sentence
    first_of = {a: index for index, (a, _) in enumerate(groups)}
    end_of = {b: index + 1 for index, (_, b) in enumerate(groups)}
    joined = [Span(first_of[s.start], end_of[s.end], s.label) for s in entity_spans]
    tokens = tuple("".join(sentence.tokens[a:b]) for a, b in groups)
    return Sentence(tokens, tuple(to_tags(joined, len(tokens), Scheme.BIOES)), sentence.line, sentence.source)


def _start_or_resume(run: LiveRun, facts: RunFacts, checkpointing: Checkpointing, world: World | None = None) -> None:
    """Continue from the checkpoint (which must come from the same data and settings), or write
    the first one, so that a run stopped in its first epoch can be resumed too. In a process group
    every rank reads the checkpoint and rank 0 alone writes it."""
    if not checkpointing.resume:
        on_main(world, lambda: save_checkpoint(checkpointing.path, run, facts))
        return

    def resume() -> None:
        saved, tensors = read_checkpoint(checkpointing.path)
        if saved.facts.vocab_sha256 != facts.vocab_sha256 or saved.facts.model != facts.model:
            raise ValueError(f"{checkpointing.path}: checkpoint was made with other training data or model settings")
        restore(saved, tensors, run)

    everywhere(world, resume)


def _device_in(world: World | None, requested: str) -> str | torch.device:
    """Where this process trains: ``requested``, or in a process group the device of this rank."""
    if world is None:
        return requested
    if torch.device(requested).type != world.device.type:
        raise ValueError(f"device {requested!r}: the process group was started for {world.device.type}")
    return world.device


@dataclass(frozen=True)
class _Parallel:
    """A run's process group and its network behind DistributedDataParallel (loss of a batch)."""

    world: World
    loss: torch.nn.Module


def _keep_if_better(
    run: LiveRun, tagger: Tagger, dev_tokens: Sequence[Sequence[str]], dev_gold: Sequence[Sequence[str]],
    epoch: int, loss: float, started: float, world: World | None = None,
) -> EpochLog:
    """Score the epoch on dev, keep its weights if they are the best so far, and log it. In a
    process group each rank tags a share of dev and all score the gathered tags, so every rank
    takes the same early-stopping decision."""
    predict = tagger.predict if world is None else lambda tokens: world.gather_in_order(tokens, tagger.predict)
    report, averaged, state = _better_weights(tagger, run.average, dev_tokens, dev_gold, predict)
    progress = run.progress
    improved = report.f1 > progress.best_f1
    if improved:
        progress.best_f1, progress.stale = report.f1, 0
        run.best_state = state
    else:
        progress.stale += 1
    entry = EpochLog(
        epoch, loss, report.precision, report.recall, report.f1, time.perf_counter() - started, improved, averaged
    )
    progress.history.append(entry)
    progress.epoch = epoch
    return entry


def _better_weights(
    tagger: Tagger, average: WeightAverage, dev_tokens: Sequence[Sequence[str]], dev_gold: Sequence[Sequence[str]],
    predict: Callable[[Sequence[Sequence[str]]], list[list[str]]] | None = None,
) -> tuple[Scores, bool, dict[str, torch.Tensor]]:
    """Dev scores of the trained weights and of their average, whichever is better, with a copy
    of those weights and whether they are the average.

    The average usually wins, but early in a short run it can still trail the trained weights;
    comparing both on dev means averaging never makes the saved model worse. The trained
    weights are the same with or without averaging (the average takes no part in training).
    """
    net = tagger.net
    predict = predict or tagger.predict
    raw = score(dev_gold, predict(dev_tokens)).micro
    if average.decay <= 0:
        return raw, False, {k: v.detach().clone() for k, v in net.state_dict().items()}
    with average.swapped_in():
        smoothed = score(dev_gold, predict(dev_tokens)).micro
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
    run: LiveRun, corpus: EncodedCorpus, settings: TrainConfig, epoch: int, hooks: TrainingHooks,
    parallel: _Parallel | None = None, hide: Callable[[Batch], Batch] = lambda batch: batch,
) -> float:
    """One pass over the training corpus; returns the mean loss per sentence.

    With ``parallel`` this rank takes its share of the epoch's batches (all ranks draw the same
    ones) and stops when any rank is asked to, at the same batch, so none waits for the others.
    ``hide`` turns each batch into the one trained on (entity dropout)."""
    net, optimizer = run.net, run.optimizer
    for group in optimizer.param_groups:
        group["lr"] = settings.lr / (1 + settings.lr_decay * (epoch - 1))
    net.train()
    device = next(net.parameters()).device
    total = torch.zeros((), device=device)
    batches = length_batches(corpus.lengths, settings.batch_size, run.generator)
    loss_of: Callable[[Batch], torch.Tensor] = lambda batch: net.loss(batch, settings.teacher_weight)  # noqa: E731
    if parallel is not None:
        batches = parallel.world.shard(batches)
        torch.manual_seed(parallel.world.epoch_seed(settings.seed, epoch))
        parallel.loss.train()
        loss_of = parallel.loss
    for done, indices in enumerate(batches, start=1):
        stop = hooks.should_stop()
        if parallel is not None:
            stop = parallel.world.any(stop)
        if stop:
            raise TrainingInterrupted(epoch - 1, None)
        batch = hide(corpus.batch(indices).to(device))
        loss = loss_of(batch)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), settings.clip)
        optimizer.step()
        run.average.update()
        total += loss.detach() * len(indices)
        if hooks.on_batch:
            hooks.on_batch(done, len(batches))
    if parallel is not None:
        summed, sentences = parallel.world.sum([float(total), sum(len(indices) for indices in batches)])
        return summed / sentences
    return float(total) / len(corpus)
