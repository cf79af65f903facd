"""The public entry points: ``load`` a model by name or folder, ``tag`` text with it, ``tag_nbest``
for the most probable labellings."""

from __future__ import annotations

import dataclasses
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Mapping, Sequence, overload

from .builtin import resolve_model
from .errors import ModelError
from .merge import extra_entities
from .onnx_backend import check_cpu, is_export, load_export, onnx_tagger
from .records import Entity, Reading
from .routing import ModelChoice
from .serialize import load as load_directory
from .tagger import Tagger, text_list

if TYPE_CHECKING:
    from .config import TrainConfig
    from .corpus_dataset import CorpusSource
    from .dictionary import PhraseDictionary


BACKENDS = ("torch", "onnx")


def load(
    model: str | Path,
    device: str = "cpu",
    precision: str = "float32",
    backend: str | None = None,
    *,
    dictionary: "str | Path | PhraseDictionary | Mapping[str, str] | None" = None,
    rules: "str | Sequence[str] | None" = None,
    patterns: str | Path | None = None,
    policy: str = "dictionary",
    style: str | None = None,
) -> Tagger:
    """A tagger for ``model`` (a built-in name such as ``zh-msra``, a model directory, or a folder
    written by ``nertag export --format onnx``), to reuse.

    ``precision`` is float32 by default, so a text gets the same confidences whatever it is batched
    with; "bfloat16" runs the encoder faster on CPUs with native bfloat16, and "auto" picks it
    where the hardware has it (the CLI's default; see BENCHMARKS.md).

    ``backend`` picks what computes the emission scores: "torch", or "onnx" (onnxruntime on the
    CPU, float32; ``pip install 'nertag[onnx]'``). None (the default) means torch for a model
    directory and onnx for an export folder. "onnx" on a model directory exports its emission
    network in memory when loading (nothing is written, so no cache can go stale); Viterbi and confidences
    are torch code on either backend.

    ``dictionary`` (a TSV or JSONL file of phrases and labels, or a ``{phrase: label}`` mapping),
    ``rules`` (built-in groups such as "time,money"; see :mod:`nertag.rules`) and ``patterns`` (a
    file of ``LABEL<TAB>regex`` lines) add matches to what the model tags, merged under ``policy``
    "dictionary", "model" or "gaps" (see :mod:`nertag.merge`).

    ``style``, for a model trained with corpus styles (``nertag train --style-dim``): the training
    corpus whose conventions tagging follows, by file name, a blend of them such as
    "a.bio=0.8,b.bio=0.2", or "" for their learned mixture; None keeps
    the model's own choice (its ``tag_style``).
    """
    extra = extra_entities(dictionary, rules, patterns, policy)
    tagger = _load_model(model, device, precision, backend, style)
    tagger.extra = extra
    return tagger


def _load_model(model: str | Path, device: str, precision: str, backend: str | None, style: str | None = None) -> Tagger:
    if backend is not None and backend not in BACKENDS:
        raise ValueError(f"backend: expected one of {', '.join(BACKENDS)} or None, got {backend!r}")
    directory = resolve_model(model)
    if is_export(directory):
        if backend == "torch":
            raise ModelError(f"{directory}: an ONNX export holds no torch weights; load it with backend='onnx' (or None)")
        # An export refuses any style but the one its graph computes in.
        return _with_style(load_export(directory, device, precision), style)
    if backend == "onnx":
        check_cpu(device)
        return onnx_tagger(_with_style(load_directory(directory, "cpu"), style), precision)  # exported in that style
    return _with_style(load_directory(directory, device, precision), style)


def _with_style(tagger: Tagger, style: str | None) -> Tagger:
    """``tagger`` set to tag in ``style``; None leaves the model's own tag style."""
    if style is not None:
        tagger.style = style
    return tagger


@lru_cache(maxsize=4)
def _cached(model: str, device: str, saved: tuple[int, int]) -> Tagger:
    """``saved`` (from :func:`_saved_stamp`) is read only as part of the cache key."""
    return load(model, device)


def _saved_stamp(directory: Path) -> tuple[int, int]:
    """When and how big config.json is: saving writes it anew, so a model retrained in place
    (same path) is loaded again instead of served stale from the cache."""
    try:
        stat = (directory / "config.json").stat()
    except OSError:
        return (0, 0)  # load() then reports what is missing
    return (stat.st_mtime_ns, stat.st_size)


@overload
def tag(text: str, model: str | Path | Tagger | None = None) -> list[Entity]: ...


@overload
def tag(text: Sequence[str], model: str | Path | Tagger | None = None) -> list[list[Entity]]: ...


def tag(text: str | Sequence[str], model: str | Path | Tagger | None = None) -> list[Entity] | list[list[Entity]]:
    """Entities of ``text`` (a string), or of each string of a list: one shape per input shape.

    ``model`` is a built-in name, a model directory or a loaded :class:`Tagger`; by default each
    string goes to the built-in model of its own language (Chinese or other), so a list may mix
    languages.  Models are loaded once and cached.
    """
    choice, texts = _choice_and_texts(text, model)
    found = [tagged.entities for _, tagged in choice.tag(texts)]
    return found[0] if isinstance(text, str) else found


@overload
def tag_nbest(text: str, k: int, model: str | Path | Tagger | None = None) -> list[list[Reading]]: ...


@overload
def tag_nbest(text: Sequence[str], k: int, model: str | Path | Tagger | None = None) -> list[list[list[Reading]]]: ...


def tag_nbest(
    text: str | Sequence[str], k: int, model: str | Path | Tagger | None = None
) -> list[list[Reading]] | list[list[list[Reading]]]:
    """For each sentence of ``text`` (or of each string of a list), its ``k`` most probable
    labellings, best first (:class:`~nertag.records.Reading`: probability and entities)."""
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"k: expected an int >= 1, got {k!r}")
    choice, texts = _choice_and_texts(text, model)
    readings = [choice.tagger(name).readings(t, k) for t, name in zip(texts, choice.name_of_each(texts))]
    return readings[0] if isinstance(text, str) else readings


def _choice_and_texts(text: str | Sequence[str], model: str | Path | Tagger | None) -> tuple[ModelChoice, list[str]]:
    choice = ModelChoice.of(model) if isinstance(model, Tagger) else ModelChoice(None if model is None else str(model), _cached_model)
    texts = text_list(text)
    return choice, texts


def _cached_model(model: str) -> Tagger:
    directory = resolve_model(model)
    return _cached(str(directory), "cpu", _saved_stamp(directory))


def fit(
    train: "CorpusSource | Sequence[CorpusSource]",
    dev: "CorpusSource | None" = None,
    *,
    out: str | Path | None = None,
    dev_fraction: float = 0.1,
    label_map: dict[str, str] | None = None,
    settings: "TrainConfig | None" = None,
    weights_dtype: str = "float32",
    init: str | Path | None = None,
    keep_labels: bool = False,
    teacher: "str | Path | Tagger | None" = None,
    encoding: str = "utf-8",
    swap_names: str | Path | None = None,
    swap_rate: float | None = None,
    **model_options: object,
) -> Tagger:
    """Train a model in this process and return it; save it to ``out`` when given.

    ``train`` and ``dev`` are column files, folders written by ``Dataset.save_to_disk`` or
    ``datasets.Dataset`` objects (``tokens`` and ``tags``/``ner_tags``; see
    :mod:`nertag.corpus_dataset`), so corpora can be sliced and mixed with the datasets library
    first; a list of them is trained on together. Without ``dev``, a seeded ``dev_fraction`` of
    train is held out. ``model_options`` override :class:`~nertag.config.ModelConfig` fields
    (``hidden_size=128``...; ``style_dim=8`` learns each corpus of the list as a style, named
    by its file name, or "<Dataset N>" for a Dataset, N its place in the list). For checkpoints and resuming, use ``nertag train``.

    ``init`` (a built-in name such as ``"zh-general"`` or a model folder) fine-tunes that model
    (:mod:`nertag.finetune`): its architecture and vocabularies are kept, so ``model_options`` may
    only change min counts, dropout, the tag style and ``lexicon_classes``, or lower ``hidden_size`` (a narrower model
    keeping the encoder's most used units, :mod:`nertag.narrow`); its labels missing from ``train`` are dropped unless
    ``keep_labels``. ``out`` may not be its folder.

    ``teacher`` (a model, a built-in name or a folder, decoding the same tags) distils it into the
    new model (:mod:`nertag.distill`), with ``settings.teacher_weight`` or else 0.5. Column files
    are read in ``encoding``.

    ``swap_names`` (a ``name<TAB>LABEL`` file) also trains on copies of a ``swap_rate`` share
    (default 0.3) of the sentences with their entities' names swapped for listed ones
    (:mod:`nertag.name_swap`).
    """
    from .commands.train import load_teacher, name_swapped, read_sources, swap_facts, training_facts, with_styles
    from .config import TrainConfig
    from .finetune import check_out_is_not_init, finetune_config, load_initial
    from .name_swap import swap_settings
    from .safe_write import check_folder_target
    from .serialize import save
    from .train import default_config
    from .train import train as run_training

    settings = settings or TrainConfig()
    names_path, rate = swap_settings(swap_names, swap_rate)  # refused before anything is read
    if teacher is not None and not settings.teacher_weight:
        settings = dataclasses.replace(settings, teacher_weight=0.5)
    sources = list(train) if isinstance(train, (list, tuple)) else [train]
    mapping = label_map or {}
    if init is not None and out is not None:
        check_out_is_not_init(out, init)
    teacher_name = "a Tagger given to fit()"
    if isinstance(teacher, (str, Path)):
        if out is not None:
            check_out_is_not_init(out, teacher, role="teacher")
        teacher_name = Path(teacher).name
        teacher = load_teacher(str(teacher), settings.device)
    if keep_labels and init is None:
        raise ValueError("keep_labels keeps the labels of an initial model; give init too")
    initial = load_initial(init, keep_labels) if init is not None else None
    kept = initial.labels if initial is not None and keep_labels else []
    train_sentences, dev_sentences, dev_name = read_sources(
        sources, dev, mapping, dev_fraction, settings.seed, kept_labels=kept, encoding=encoding
    )
    model_folder = check_folder_target(out, kind="model") if out is not None else None
    config = (
        finetune_config(initial.tagger.config, initial.name, model_options) if initial is not None
        else default_config(train_sentences, **model_options)
    )
    config, train_sentences = with_styles(config, sources, train_sentences)
    copies = name_swapped(names_path, rate, train_sentences, config, settings.seed)
    tagger, history = run_training(
        [*train_sentences, *copies], dev_sentences, config, settings, init=initial, teacher=teacher
    )
    if model_folder is not None:
        facts = training_facts(sources, dev_name, train_sentences, mapping, history, settings, {}, initial, tagger)
        if teacher is not None:
            facts["teacher"] = teacher_name
        if names_path is not None and rate is not None:
            facts["name_swaps"] = swap_facts(names_path, rate, copies)
        save(tagger, model_folder, extra={"training": facts}, weights_dtype=weights_dtype)
    return tagger

