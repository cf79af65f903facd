"""Fine-tuning: start a training run from a built-in or saved model instead of random weights.

The initial model's config (its architecture) and vocabularies are kept. Tokens, bigrams and
segmenter words of the new corpus that the vocabularies lack are appended, so every old id still
names its old embedding row and only the appended rows start fresh. The output layer and the CRF
are rebuilt for the new tag set: rows and transitions of tags both models share are copied by tag
name, tags new to the model start as training starts them, and labels of the initial model that
the new corpus lacks are dropped unless ``keep_labels`` keeps them (a model that must still tag
them with no examples left to learn from). The CRF's constraint masks come from the new tag list,
as :func:`~nertag.model.build_crf` builds them for any model.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .builtin import resolve_model
from .config import ModelConfig
from .errors import OutputError
from .features import FeatureEncoder
from .model import BiLstmCrf
from .narrow import narrowed_state
from .schemes import labels_of
from .tagger import Tagger
from .vocab import Vocab

log = logging.getLogger(__name__)

# Settings a fine-tuning run may change, since they shape no weight: they pick which new items join
# the vocabularies, regularise training, or pick which style rows tagging reads (tag_style).
# lexicon_classes changes what the lexicon's name-class cells say, not their number, so training
# can teach the network the new meaning. Every other ModelConfig field is the architecture, which
# fine-tuning takes from the initial model.
TUNABLE = frozenset({
    "min_word_count", "min_bigram_count", "min_segment_count", "dropout", "word_dropout", "tag_style", "lexicon_classes",
})
# The one architecture setting a run may lower: the encoder keeps the initial model's most used
# units (:mod:`nertag.narrow`), so a wide model can start a narrower, faster one.
NARROWABLE = "hidden_size"


@dataclass(frozen=True)
class InitialModel:
    """The model a run starts from (``name`` as the user gave it: a built-in name or a folder)."""

    name: str
    tagger: Tagger
    keep_labels: bool = False

    @property
    def labels(self) -> list[str]:
        return labels_of(self.tagger.tags)

    def labels_for(self, corpus_labels: Iterable[str]) -> set[str]:
        """The new model's labels: the corpus's, plus the initial model's with ``keep_labels``.
        Labels dropped are logged, since the new model can no longer tag them."""
        labels = set(corpus_labels)
        missing = sorted(set(self.labels) - labels)
        if self.keep_labels:
            return labels | set(self.labels)
        if missing:
            log.warning(
                "%s: label%s %s not in the training corpus, dropped (--keep-labels keeps them)",
                self.name, "s" if len(missing) > 1 else "", ", ".join(missing),
            )
        return labels


def init_directory(model: str | Path) -> Path:
    """The real folder of an initial model (a built-in name or a folder)."""
    return Path(os.path.realpath(resolve_model(str(model))))


def load_initial(model: str | Path, keep_labels: bool = False) -> InitialModel:
    """The initial model, loaded on the CPU (its weights are copied to the new network's device)."""
    from .serialize import load

    return InitialModel(str(model), load(init_directory(model), "cpu"), keep_labels)


def read_initial_config(model: str | Path) -> ModelConfig:
    """The initial model's config alone (no weights read), to check options before training."""
    from .serialize import read_model_files

    return read_model_files(init_directory(model))[1]


def check_out_is_not_init(out: str | Path, model: str | Path, role: str = "initial model") -> None:
    """Refuse to write the new model over the initial one (or the teacher, ``role``): a failed run
    would lose it, and a built-in model would be replaced inside the package."""
    target, folder = Path(os.path.realpath(out)), init_directory(model)
    if target == folder:
        raise OutputError(out, f"is the folder of the {role} {model}; write the new model to another folder")
    if folder in target.parents:  # a folder inside a model would make it no longer a model
        raise OutputError(out, f"lies inside the folder of the {role} {model}; write the new model elsewhere")


def architecture_conflicts(initial: ModelConfig, overrides: Mapping[str, object]) -> list[tuple[str, object, object]]:
    """(field, given, initial) for each given architecture setting that differs from the initial
    model's; ``None`` values are settings not given."""
    fields = {f.name for f in dataclasses.fields(ModelConfig)}
    unknown = sorted(set(overrides) - fields)
    if unknown:
        raise ValueError(f"unknown model settings {', '.join(unknown)}")
    size = overrides.get(NARROWABLE)
    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 1):
        raise ValueError(f"{NARROWABLE} must be a positive number of units, got {size!r}")
    return [
        (name, value, getattr(initial, name))
        for name, value in overrides.items()
        if value is not None and name not in TUNABLE and value != getattr(initial, name)
        and not (name == NARROWABLE and isinstance(value, int) and 0 < value < getattr(initial, name))
    ]


def finetune_config(initial: ModelConfig, name: str, overrides: Mapping[str, object] | None = None) -> ModelConfig:
    """The initial model's config with the tunable settings of ``overrides`` applied, and a
    narrower ``hidden_size``; another architecture setting that differs is refused, as the initial
    weights would not fit it."""
    overrides = overrides or {}
    conflicts = architecture_conflicts(initial, overrides)
    if conflicts:
        field, given, kept = conflicts[0]
        raise ValueError(
            f"{field}={given!r} conflicts with {name}, whose {field} is {kept!r}: fine-tuning keeps the "
            f"initial model's architecture (only {', '.join(sorted(TUNABLE))} may change, and {NARROWABLE} may shrink)"
        )
    changed = TUNABLE | {NARROWABLE}
    return dataclasses.replace(initial, **{k: v for k, v in overrides.items() if v is not None and k in changed})


def extended_features(
    initial: FeatureEncoder, config: ModelConfig, sentences: Sequence[Sequence[str]], tags: Sequence[str]
) -> FeatureEncoder:
    """The initial vocabularies with the new corpus's items (kept by ``config``'s min counts)
    appended, most frequent first, and ``tags`` as the tag vocabulary."""
    fitted = FeatureEncoder.fit(sentences, tags, config)

    def grow(old: Vocab | None, new: Vocab | None) -> Vocab | None:
        if old is None or new is None:
            # The config is the initial model's, so both have a table or neither.
            assert old is None and new is None, "vocabulary tables differ from the initial model's config"
            return None
        return Vocab(old.items + [item for item in new.items if item not in old.index])

    words = grow(initial.words, fitted.words)
    assert words is not None
    return FeatureEncoder(
        config, words, grow(initial.chars, fitted.chars), grow(initial.bigrams, fitted.bigrams),
        Vocab(tags, specials=False), grow(initial.segments, fitted.segments),
    )


def _vocab_tables(net: BiLstmCrf) -> dict[str, nn.Embedding]:
    """The embedding tables with one row per vocabulary item, by vocabulary."""
    tables = {"words": net.word_embedding}
    if net.char_encoder is not None:
        tables["chars"] = net.char_encoder.embedding
    if net.bigram_embedding is not None:
        tables["bigrams"] = net.bigram_embedding
    if net.segment_embedding is not None:
        tables["segments"] = net.segment_embedding
    return tables


@torch.no_grad()
def carry_over(initial: Tagger, net: BiLstmCrf, tags: Sequence[str]) -> None:
    """Copy the initial model's weights into ``net``, freshly built for the extended vocabularies
    and the tag list ``tags``.

    Vocabulary tables keep their first rows (the initial vocabulary is a prefix of the new one);
    a narrower sentence encoder keeps the initial one's most used units (:mod:`nertag.narrow`);
    the emission layer and the CRF's start, end and ``[from, to]`` transition scores keep the
    entries of tags both tag lists hold; everything else has the same shape and is copied whole.
    """
    assert initial.net is not None, "an initial model is loaded with its torch network"
    source_net = initial.net
    vocab_tables = {id(table.weight) for table in _vocab_tables(net).values()}
    old_index = {tag: i for i, tag in enumerate(initial.tags)}
    shared = [(i, old_index[tag]) for i, tag in enumerate(tags) if tag in old_index]
    device = next(net.parameters()).device
    new_ids = torch.tensor([i for i, _ in shared], dtype=torch.long, device=device)
    old_ids = torch.tensor([j for _, j in shared], dtype=torch.long, device=device)
    by_tag_rows = {"emission.weight", "emission.bias", "crf.start_transitions", "crf.end_transitions"}
    source = source_net.state_dict()
    if net.encoder.hidden_size < source_net.encoder.hidden_size:
        source = narrowed_state(source, source_net.encoder, net.encoder.hidden_size)
    target = net.state_dict(keep_vars=True)
    if source.keys() != target.keys():
        raise ValueError("the initial model's weights do not match its config; is the folder damaged?")
    for name, value in target.items():
        old = source[name].to(device)
        if id(value) in vocab_tables:
            value[: old.size(0)] = old
        elif name in by_tag_rows:
            value[new_ids] = old[old_ids]
        elif name == "crf.transitions":
            value[new_ids[:, None], new_ids[None, :]] = old[old_ids[:, None], old_ids[None, :]]
        else:
            assert value.shape == old.shape, f"{name}: {tuple(value.shape)} against {tuple(old.shape)}"
            value.copy_(old)


def init_facts(initial: InitialModel, features: FeatureEncoder) -> dict[str, Any]:
    """What a fine-tuned model's config.json records of its start."""
    old = initial.tagger.features
    added = {
        name: len(new) - len(base)
        for name, base, new in (
            ("words", old.words, features.words), ("chars", old.chars, features.chars),
            ("bigrams", old.bigrams, features.bigrams), ("segments", old.segments, features.segments),
        )
        if base is not None and new is not None
    }
    new_labels = labels_of(features.tags.items)
    return {
        "model": initial.name,
        "labels": initial.labels,
        "hidden_size": initial.tagger.config.hidden_size,  # more than the new model's when narrowed
        "labels_added": sorted(set(new_labels) - set(initial.labels)),
        "labels_dropped": sorted(set(initial.labels) - set(new_labels)),
        "vocab_added": added,
    }
