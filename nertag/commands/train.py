"""``nertag train``: read corpora from files, train, and save the model where nothing of the user's is lost."""

from __future__ import annotations

import hashlib
import logging
import os
import random
from dataclasses import asdict, replace
from pathlib import Path
from typing import Callable, Iterable, Sequence

from ..checkpoint import Checkpointing, checkpoint_path
from ..config import ModelConfig, TrainConfig, TrainingJob
from ..conll import Sentence, corpus_scheme, relabel_corpus
from ..corpus_dataset import CorpusSource, read_sentences, source_name
from ..distributed import World, everywhere, on_main
from ..errors import InputError
from ..finetune import InitialModel, check_out_is_not_init, init_facts, load_initial
from ..model import main_style, style_id
from ..name_swap import read_names, swapped_copies
from ..safe_write import check_folder_target, remove_own_folder
from ..schemes import label_of, spans
from ..serialize import save
from ..tagger import Tagger
from ..train import train
from ..train_state import EpochLog, TrainingHooks

log = logging.getLogger(__name__)


def train_from_files(
    job: TrainingJob,
    configure: Callable[[Sequence[Sentence]], ModelConfig],
    settings: TrainConfig,
    hooks: TrainingHooks | None = None,
    resume: bool = False,
    world: World | None = None,
) -> tuple[Tagger, list[EpochLog]]:
    """Read the job's corpora, train, and save the best epoch's model to ``job.out``.

    ``configure`` picks the model settings from the training sentences (defaults depend on them).
    The run keeps a checkpoint in ``<out>.checkpoint`` after every epoch, removed once the model is
    saved; ``resume`` continues from it. Both folders are checked before anything is read or
    trained: each must be absent, empty, or an earlier nertag model (checkpoint).

    With ``job.init`` the run starts from that model (:mod:`nertag.finetune`); ``configure`` must
    then keep its architecture (:func:`nertag.finetune.finetune_config`), and ``job.out`` may not be
    its folder.

    With ``world`` (started by torchrun, see :mod:`nertag.distributed`) every rank reads the
    corpora and trains its share; rank 0 alone checks the folders and writes the checkpoint and
    the model, and a failure on any rank stops them all.
    """
    if job.init is not None:
        check_out_is_not_init(job.out, job.init)
    if job.teacher is not None:
        check_out_is_not_init(job.out, job.teacher, role="teacher")
    model_folder, checkpoint = on_main(world, lambda: check_targets(job.out, resume))
    init = everywhere(world, lambda: load_initial(job.init, job.keep_labels)) if job.init is not None else None
    kept = init.labels if init is not None and init.keep_labels else []
    train_sentences, dev_sentences, dev_name = everywhere(world, lambda: read_corpora(job, settings.seed, kept))
    config, train_sentences = with_styles(configure(train_sentences), job.train, train_sentences)
    copies = everywhere(world, lambda: name_swapped(job.swap_names, job.swap_rate, train_sentences, config, settings.seed))
    teacher = everywhere(world, lambda: load_teacher(job.teacher, settings.device)) if job.teacher is not None else None
    tagger, history = train(
        [*train_sentences, *copies], dev_sentences, config, settings, pretrained=job.pretrained, hooks=hooks,
        checkpointing=Checkpointing(checkpoint, job, resume), world=world, init=init, teacher=teacher,
    )
    facts = training_facts(
        job.train, dev_name, train_sentences, job.label_map, history, settings, job.pretrained, init, tagger
    )
    if job.teacher is not None:
        facts["teacher"] = os.path.basename(os.path.normpath(job.teacher))
    if job.swap_names is not None and job.swap_rate is not None:
        facts["name_swaps"] = swap_facts(job.swap_names, job.swap_rate, copies)

    def write() -> None:
        save(tagger, model_folder, extra={"training": facts}, weights_dtype=job.weights_dtype)
        remove_own_folder(checkpoint, kind="checkpoint")

    on_main(world, write)
    return tagger, history


def name_swapped(
    names_path: str | None, rate: float | None, sentences: Sequence[Sentence], config: ModelConfig, seed: int
) -> list[Sentence]:
    """Name-swapped copies of the training sentences (:mod:`nertag.name_swap`), with the list and
    share :func:`~nertag.name_swap.swap_settings` checked; none without ``names_path``. A list
    sharing no label with the corpora is refused (it would swap nothing); its labels the corpora
    lack are named in a warning, and the number of copies is logged."""
    if names_path is None or rate is None:
        return []
    char_unit = config.token_unit == "char"
    names = read_names(names_path, char_unit)
    labels = {span.label for s in sentences for span in spans(s.tags)}
    swapped = sorted(labels & set(names))
    if not swapped:
        raise InputError(
            names_path, None,
            f"lists names labelled {', '.join(sorted(names))}, and the training corpora label {', '.join(sorted(labels))}: no name would be swapped in",
        )
    unused = sorted(set(names) - labels)
    if unused:
        log.warning("nertag: warning: %s: no training entity is labelled %s, so its names of that label are not used (a --label-map may be missing)", names_path, ", ".join(unused))
    copies = swapped_copies(sentences, names, rate, seed, char_unit)
    log.info("%s: %d name-swapped copies of %d training sentences (labels %s)", names_path, len(copies), len(sentences), ", ".join(swapped))
    return copies


def swap_facts(names_path: str, rate: float, copies: Sequence[Sentence]) -> dict[str, object]:
    """What config.json records of a run's name swaps: the list's name and sha256 digest, so that
    a model says which list it learned from."""
    digest = hashlib.sha256(Path(names_path).read_bytes()).hexdigest()
    return {"names": os.path.basename(names_path), "names_sha256": digest, "rate": rate, "copies": len(copies)}


def with_styles(
    config: ModelConfig, train_sources: Sequence[CorpusSource], sentences: Sequence[Sentence]
) -> tuple[ModelConfig, list[Sentence]]:
    """The config with its styles named (:func:`named_styles`) and the training sentences (read by
    :func:`read_sources`, ``source`` = corpus number) with ``source`` set to their style's row."""
    config, rows = named_styles(config, train_sources)
    if not config.style_dim:
        return config, list(sentences)
    return config, [replace(s, source=rows[s.source - 1]) for s in sentences]


def named_styles(config: ModelConfig, train_sources: Sequence[CorpusSource]) -> tuple[ModelConfig, list[int]]:
    """A style model's config with its styles named after the --train corpora, in order, and the
    style row (:func:`nertag.model.style_id`) each corpus trains; other configs as they are.

    A model being fine-tuned keeps its styles: a corpus named as one of them trains that style,
    any other corpus the style the model tags in (the one it weighs most), which is the one a
    user's own data should refine.
    """
    if not config.style_dim:
        return config, [0] * len(train_sources)
    names = tuple(style_name(source, number) for number, source in enumerate(train_sources, 1))
    if not config.styles:
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"--style-dim learns one style per --train corpus, and more than one is named {', '.join(repeated)}: give each a distinct file name")
        config = replace(config, styles=names)
    # A Dataset has no name of its own: when fine-tuning it never matches a style by its place.
    own = [name if isinstance(source, (str, os.PathLike)) and name in config.styles else main_style(config.tag_style)
           for source, name in zip(train_sources, names)]
    return config, [style_id(config, name) for name in own]


def style_name(source: CorpusSource, number: int) -> str:
    """The style a training corpus teaches: a file's name, or "<Dataset N>" for the Nth corpus of
    the list when it is a Dataset (two Datasets have no names to tell them apart)."""
    return source_name(source) if isinstance(source, (str, os.PathLike)) else f"<Dataset {number}>"


def load_teacher(model: str, device: str) -> Tagger:
    """The teacher, a built-in name or a model folder, computing in bfloat16 where the hardware
    has it (its posteriors are read once, before training)."""
    from ..builtin import resolve_model
    from ..serialize import load

    return load(resolve_model(model), device, "auto")  # resolve_model: built-in name or folder, as --init takes


def check_targets(out: str, resume: bool) -> tuple[Path, Path]:
    """The model folder and its checkpoint folder, each checked to be writable without loss
    (the checkpoint is not checked when resuming from it)."""
    model_folder = check_folder_target(out, kind="model")
    checkpoint = checkpoint_path(model_folder)
    if not resume:
        check_folder_target(checkpoint, kind="checkpoint")
    return model_folder, checkpoint


def training_facts(
    train_sources: Sequence[CorpusSource], dev_name: str, train_sentences: Sequence[Sentence], label_map: dict[str, str],
    history: Sequence[EpochLog], settings: TrainConfig, pretrained: dict[str, str], init: InitialModel | None, tagger: Tagger,
) -> dict[str, object]:
    """What config.json records of how a model was trained."""
    best = max(history, key=lambda e: e.f1)
    facts: dict[str, object] = {
        "train": ", ".join(style_name(source, number) for number, source in enumerate(train_sources, 1)),
        "dev": dev_name,
        "corpus_scheme": corpus_scheme(train_sentences).value,
        "label_map": label_map,
        "best_epoch": best.epoch,
        "epochs_run": len(history),
        "dev_f1": round(best.f1, 6),
        "settings": asdict(settings),
        "history": [
            {"epoch": e.epoch, "loss": round(e.loss, 6), "dev_f1": round(e.f1, 6), "seconds": round(e.seconds, 2)}
            for e in history
        ],
        "pretrained": {k: os.path.basename(v) for k, v in pretrained.items()},
    }
    if init is not None:
        facts["init"] = init_facts(init, tagger.features)
    return facts


def read_corpora(job: TrainingJob, seed: int, kept_labels: Iterable[str] = ()) -> tuple[list[Sentence], list[Sentence], str]:
    """The job's training and dev sentences, and how dev was found (see :func:`read_sources`)."""
    return read_sources(job.train, job.dev, job.label_map, job.dev_fraction, seed, job.tag_column, kept_labels, job.encoding)


def read_sources(
    train_sources: Sequence[CorpusSource], dev_source: CorpusSource | None, label_map: dict[str, str],
    dev_fraction: float, seed: int, tag_column: int = -1, kept_labels: Iterable[str] = (), encoding: str = "utf-8",
) -> tuple[list[Sentence], list[Sentence], str]:
    """Training and dev sentences from files, saved Dataset folders or Datasets, labels mapped, and
    how dev was found: the dev source, or a share of train held out. Dev may show labels of
    ``kept_labels`` (an initial model's, kept) that train lacks."""
    corpora = [read_sentences(source, tag_column, encoding) for source in train_sources]
    dev_corpus = read_sentences(dev_source, tag_column, encoding) if dev_source is not None else []
    _check_label_map(label_map, [*corpora, dev_corpus])
    # Mapped corpus by corpus: each keeps its own scheme (BIOES news beside BIO web text).
    # Each sentence remembers its corpus (1, 2, ...), which a model with corpus styles learns from.
    train_sentences = [replace(s, source=k) for k, corpus in enumerate(corpora, 1) for s in relabel_corpus(corpus, label_map)]
    kept_labels = list(kept_labels)
    if not kept_labels and not any(tag != "O" for s in train_sentences for tag in s.tags):
        raise ValueError("the training corpora hold no entities" + (" once the label map is applied" if label_map else ""))
    if dev_source is not None:
        dev_sentences = relabel_corpus(dev_corpus, label_map)
        check_labels(train_sentences, dev_sentences, source_name(dev_source, full=True), kept_labels)
        return train_sentences, dev_sentences, source_name(dev_source)
    rest, held = hold_out(train_sentences, dev_fraction, seed)
    names = " + ".join(style_name(source, number) for number, source in enumerate(train_sources, 1))
    return rest, held, f"{dev_fraction:g} of {names} held out with seed {seed}"


def _check_label_map(label_map: dict[str, str], corpora: Sequence[Sequence[Sentence]]) -> None:
    """Refuse a label map naming a label no corpus has: a typo (NAEM=PER) would silently map nothing."""
    seen = {label_of(tag) for corpus in corpora for s in corpus for tag in s.tags if tag != "O"}
    missing = sorted(set(label_map) - seen)
    if missing:
        raise ValueError(f"label map: no corpus has the label(s) {', '.join(missing)} (labels found: {', '.join(sorted(seen)) or 'none'})")


def hold_out(sentences: Sequence[Sentence], fraction: float, seed: int) -> tuple[list[Sentence], list[Sentence]]:
    """Split off a seeded random ``fraction`` of the sentences: (rest, held out)."""
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"give --dev, or a --dev-fraction between 0 and 1 (got {fraction})")
    order = list(range(len(sentences)))
    random.Random(seed).shuffle(order)
    cut = max(1, round(fraction * len(sentences)))
    held = set(order[:cut])
    return [s for i, s in enumerate(sentences) if i not in held], [sentences[i] for i in sorted(held)]


def check_labels(
    train_sentences: Sequence[Sentence], other: Sequence[Sentence], source: str, kept_labels: Iterable[str] = ()
) -> None:
    """Refuse a dev corpus with a label that neither the training corpus shows nor ``kept_labels``
    holds (those an initial model keeps), naming its line: the model could never tag it."""
    known = {label_of(t) for s in train_sentences for t in s.tags} | set(kept_labels)
    for sentence in other:
        for offset, tag in enumerate(sentence.tags):
            if tag != "O" and label_of(tag) not in known:
                raise InputError(source, sentence.line + offset, f"label {label_of(tag)!r} does not occur in the training file")


def resume_job(checkpoint: str | Path) -> tuple[TrainingJob, ModelConfig, TrainConfig, list[EpochLog]]:
    """What a stopped run was doing, from its checkpoint: its job, model and training settings, and
    the epochs it finished."""
    from ..checkpoint import read_checkpoint

    state, _ = read_checkpoint(Path(checkpoint))
    if state.facts.job is None:
        raise InputError(str(checkpoint), None, "this checkpoint was not written by `nertag train`; nothing says what to resume")
    return state.facts.job.resolved(), state.facts.model, state.facts.settings, state.progress.history
