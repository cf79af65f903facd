"""Hyperparameters: one frozen dataclass for the model (saved beside the weights), one for training."""

from __future__ import annotations

import dataclasses
import json
import math
import numbers
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .schemes import DECODING_SCHEMES

# Bumped whenever config.json, vocab.json or the weight names change incompatibly.
FORMAT_VERSION = 1
# How weights may be stored in a model file (see nertag.serialize).
WEIGHTS_DTYPES = ("float32", "float16", "int8")


# Upper bounds on the sizes a config may ask for: far above any useful model, far below what would
# exhaust memory when a damaged or hostile config.json is loaded (the network is built before its
# weights are read).
_SIZES = {"word_dim": 4096, "char_dim": 4096, "char_hidden": 4096, "bigram_dim": 4096, "segment_dim": 4096,
          "segment_position_dim": 4096, "shape_dim": 4096, "style_dim": 4096, "hidden_size": 8192, "layers": 16}
MAX_STYLES = 256  # corpora a style model may name; each is one embedding row


def check_model_style(model: str | os.PathLike | None, style: str | None) -> None:
    """Refuse a tag ``style`` that ``model`` (a built-in name or a folder) lacks, or a style given
    without a model, from config.json alone (no torch, no weights): engines that load the model
    later, in each worker, fail once here instead, before any work starts. A folder that cannot be
    read is left for the loader to report."""
    if style is None:
        return
    if model is None:
        raise ValueError("style picks a style of one model; give the model too")
    from .builtin import resolve_model

    try:
        with open(os.path.join(resolve_model(os.fspath(model)), "config.json"), encoding="utf-8") as handle:
            meta = json.load(handle)
        config = ModelConfig.from_json(meta["model"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return
    config.check_style(style, exported="export" in meta)


def parse_style(spec: str) -> dict[str, float]:
    """A tag style as proportions by corpus name: "a.bio" is {"a.bio": 1.0}; "a.bio=4,b.bio=1" is
    {"a.bio": 0.8, "b.bio": 0.2}, a blend of the two styles' embeddings; "" (the learned mixture) is {}."""
    weights: dict[str, float] = {}
    if spec.strip() and not spec.strip(" ,"):
        raise ValueError(f"style {spec!r}: expected a corpus name, or names with positive weights such as a.bio=0.8,b.bio=0.2")
    for part in filter(None, (p.strip() for p in spec.split(","))):
        name, equals, weight = part.rpartition("=")
        if not equals:
            name, weight = part, "1"
        try:
            value = float(weight)
        except ValueError:
            value = math.nan
        if not name or name in weights or not 0 < value < math.inf:
            raise ValueError(f"style {spec!r}: expected a corpus name, or names with positive weights such as a.bio=0.8,b.bio=0.2")
        weights[name] = value
    total = sum(weights.values())
    if weights and not 0 < total < math.inf:
        raise ValueError(f"style {spec!r}: the weights must have a positive, finite sum")
    # As proportions, so that float32 arithmetic neither overflows (1e39) nor divides 0 by 0 (1e-50).
    return {name: value / total for name, value in weights.items()}


# Where the lexicon's dictionary words get their name classes: jieba's parts of speech, or Baidu
# LAC's tag for each word alone (nertag.word_table).
LEXICON_CLASS_SOURCES = ("jieba", "lac")


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
    lexicon_classes: str = "jieba"  # whose name classes the lexicon reads: jieba's part of speech, or "lac" (nertag.word_table)
    latin_runs: bool = False  # char-unit: a run of Latin letters and digits is one token ("Google", "iPhone6")
    shape_dim: int = 0  # embedding of each token's shape (CJK, lower, Capitalised, UPPER, digits...); 0: none
    min_segment_count: int = 2  # counted per character, so a two-character word seen once counts 2
    min_word_count: int = 1  # rarer training tokens map to <unk>, keeping models small
    min_bigram_count: int = 1
    hidden_size: int = 200  # of the sentence encoder, per direction
    layers: int = 1
    cell: str = "lstm"  # "lstm" or "gru"
    dropout: float = 0.5
    word_dropout: float = 0.05  # chance a token is replaced by <unk> in training
    # Corpus styles: with several training corpora, each sentence also reads an embedding of the
    # corpus it came from, so conventions that differ (where a place name ends, whether a brand is
    # an organisation) are learned per corpus instead of blurred; tagging reads ``tag_style``.
    style_dim: int = 0  # 0: no styles
    styles: tuple[str, ...] = ()  # the training corpora's names, in --train order
    tag_style: str = ""  # the style tagging follows: one of ``styles``, a blend (see parse_style), or "" for the mixture

    def __post_init__(self) -> None:
        if self.token_unit not in ("char", "word"):
            raise ValueError(f"token_unit must be 'char' or 'word', got {self.token_unit!r}")
        if self.scheme not in {s.value for s in DECODING_SCHEMES}:
            raise ValueError(f"scheme must be one of {', '.join(s.value for s in DECODING_SCHEMES)}, got {self.scheme!r}")
        if self.cell not in ("lstm", "gru"):
            raise ValueError(f"cell must be 'lstm' or 'gru', got {self.cell!r}")
        if self.lexicon_classes not in LEXICON_CLASS_SOURCES:
            raise ValueError(f"lexicon_classes must be one of {', '.join(LEXICON_CLASS_SOURCES)}, got {self.lexicon_classes!r}")
        if self.lexicon_classes != "jieba" and not self.lexicon:
            raise ValueError(f"lexicon_classes {self.lexicon_classes!r} needs the lexicon features (--lexicon; lexicon=True from Python)")
        if not 0.0 <= self.dropout < 1.0 or not 0.0 <= self.word_dropout < 1.0:
            raise ValueError("dropout and word_dropout must lie in [0, 1)")
        for spec in dataclasses.fields(self):
            value = getattr(self, spec.name)
            if isinstance(spec.default, bool) and not isinstance(value, bool):
                raise ValueError(f"{spec.name} must be true or false, got {value!r}")
            if isinstance(spec.default, int) and not isinstance(spec.default, bool):
                if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                    raise ValueError(f"{spec.name} must be a whole number >= 0, got {value!r}")
                if spec.name in _SIZES and value > _SIZES[spec.name]:
                    raise ValueError(f"{spec.name} must be at most {_SIZES[spec.name]}, got {value}")
            if isinstance(spec.default, float) and (isinstance(value, bool) or not isinstance(value, numbers.Real)):
                raise ValueError(f"{spec.name} must be a number, got {value!r}")
        if min(self.word_dim, self.hidden_size, self.layers) < 1:
            raise ValueError("word_dim, hidden_size and layers must be positive")
        self._check_styles()

    def _check_styles(self) -> None:
        """Style names are distinct non-empty strings (at most MAX_STYLES) and ``tag_style`` is one of
        them or "". Before training the names may still be missing: ``nertag train`` fills them in
        from its --train files, and the check of ``tag_style`` runs again then."""
        styles = self.styles
        if isinstance(styles, list):
            styles = tuple(styles)
            object.__setattr__(self, "styles", styles)  # read from JSON as a list
        if not isinstance(styles, tuple) or not all(isinstance(name, str) and name for name in styles):
            raise ValueError(f"styles must be a list of corpus names, got {self.styles!r}")
        if len(styles) > MAX_STYLES:
            raise ValueError(f"styles: at most {MAX_STYLES} corpora, got {len(styles)}")
        if len(set(styles)) != len(styles):
            raise ValueError(f"styles must be distinct names, got {', '.join(styles)}")
        awkward = [name for name in styles if "," in name or "=" in name or name != name.strip()]
        if awkward:
            raise ValueError(f"style names are corpus file names without ',', '=' or outer spaces (a tag style could not name them): rename {', '.join(awkward)}")
        if (styles or self.tag_style) and not self.style_dim:
            raise ValueError("styles (and a tag_style) need style_dim > 0")
        if not isinstance(self.tag_style, str):
            raise ValueError(f"tag_style must be a corpus name, a blend or \"\", got {self.tag_style!r}")
        unknown = sorted(set(parse_style(self.tag_style)) - set(styles)) if styles else []
        if unknown:
            raise ValueError(f"tag_style names {', '.join(unknown)}, not one of the model's styles ({', '.join(styles)}); \"\" is their mixture")

    def check_style(self, spec: str, exported: bool = False) -> None:
        """Refuse a tag style (a corpus name, a blend or "") naming a corpus this model has no style
        of, or, for an ``exported`` network, any style but the one it was exported with."""
        if exported and parse_style(spec) != parse_style(self.tag_style):
            raise ValueError(f"style {spec!r}: an exported network tags in the style it was exported with ({self.tag_style!r})")
        for name in parse_style(spec):
            if name not in self.styles:
                if not self.styles:
                    raise ValueError(f"style {name!r}: the model has no styles (it was trained without --style-dim)")
                raise ValueError(f"style {name!r}: the model's styles are {', '.join(self.styles)}; \"\" is their mixture")

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)  # styles stay a tuple, which json writes as a list
        if self.lexicon_classes == "jieba":
            # Written only when it is not jieba's, so that such models still load in nertag
            # versions from before the choice existed; a model on LAC's classes must not.
            del data["lexicon_classes"]
        return data

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
    # With a teacher (nertag.distill): the share of the loss that is matching its posteriors.
    teacher_weight: float = 0.0
    # The share of gold entities whose own token, bigram and segmenter-word ids read <unk> in a
    # training batch (nertag.entity_dropout), so the model learns to find names it never saw.
    entity_dropout: float = 0.0

    def __post_init__(self) -> None:
        # Checked here, before anything is written: a bad value used to surface only mid-run (an
        # empty history, a torch traceback) after an OUT.checkpoint folder had been made.
        # Values are stored as plain int and float (numpy scalars included) so asdict() is JSON-ready.
        checked: dict[str, object] = {
            "epochs": _int("epochs", self.epochs, "an int >= 1", lambda v: v >= 1),
            "batch_size": _int("batch_size", self.batch_size, "an int >= 1", lambda v: v >= 1),
            "patience": _int("patience", self.patience, "an int >= 1", lambda v: v >= 1),
            "lr": _number("lr", self.lr, "a finite number > 0", lambda v: 0 < v < math.inf),
            "lr_decay": _number("lr_decay", self.lr_decay, "a finite number >= 0", lambda v: 0 <= v < math.inf),
            "ema_decay": _number("ema_decay", self.ema_decay, "a number in [0, 1)", lambda v: 0 <= v < 1),
            # inf is allowed: clip_grad_norm_ then never scales, which turns clipping off.
            "clip": _number("clip", self.clip, "a number > 0", lambda v: v > 0),
            "teacher_weight": _number("teacher_weight", self.teacher_weight, "a number in [0, 1]", lambda v: 0 <= v <= 1),
            "entity_dropout": _number("entity_dropout", self.entity_dropout, "a number in [0, 1)", lambda v: 0 <= v < 1),
            # The range torch.manual_seed accepts.
            "seed": _int("seed", self.seed, "an int from -2**63 to 2**64 - 1", lambda v: -(2**63) <= v < 2**64),
        }
        if self.threads is not None:
            checked["threads"] = _int("threads", self.threads, "None or an int >= 1", lambda v: v >= 1)
        if not isinstance(self.device, str) or not _DEVICE.fullmatch(self.device):
            raise ValueError(f"device: expected 'cpu', 'cuda' or 'cuda:N', got {self.device!r}")
        for name, value in checked.items():
            object.__setattr__(self, name, value)


_DEVICE = re.compile(r"cpu|cuda(:[0-9]+)?")


def _int(name: str, value: object, expected: str, ok: Callable[[int], bool]) -> int:
    # bool is an Integral too, but epochs=True is a mistake, not one epoch.
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not ok(int(value)):
        raise ValueError(f"{name}: expected {expected}, got {value!r}")
    return int(value)


def _number(name: str, value: object, expected: str, ok: Callable[[float], bool]) -> float:
    # NaN fails every comparison in ``ok``, so it is refused with the out-of-range values.
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not ok(float(value)):
        raise ValueError(f"{name}: expected {expected}, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class TrainingJob:
    """What a run trains from and where its model goes: kept in the checkpoint, so ``--resume``
    needs nothing else."""

    train: tuple[str, ...]  # one or more corpora, read in turn (a single path is accepted too)
    out: str
    dev: str | None = None
    dev_fraction: float = 0.0  # without ``dev``, this share of ``train`` is held out (seeded)
    tag_column: int = -1
    weights_dtype: str = "float32"
    pretrained: dict[str, str] = field(default_factory=dict)  # table ("words", "chars", "bigrams") -> vector file
    label_map: dict[str, str] = field(default_factory=dict)  # corpus label -> model label; "O" drops it
    init: str | None = None  # the model training starts from: a built-in name or a model folder
    keep_labels: bool = False  # with ``init``: keep its labels the corpus lacks (else dropped)
    teacher: str | None = None  # a model whose posteriors the run learns from too (nertag.distill)
    # The folder relative paths above were given in (nertag train records its working folder),
    # so that --resume finds them from anywhere; None: the current folder, whatever it is then.
    folder: str | None = None
    encoding: str = "utf-8"  # of the column files (train and dev)
    # A name<TAB>LABEL list (nertag.name_swap): this share of the training sentences holding an
    # entity of its labels is also trained on as a copy with those entities' names swapped.
    swap_names: str | None = None
    swap_rate: float | None = None  # with swap_names: 0.3 when not given

    def __post_init__(self) -> None:
        trains = (self.train,) if isinstance(self.train, str) else tuple(self.train)
        if not trains or not all(isinstance(path, str) and path for path in trains):
            raise ValueError(f"train: expected one or more corpus paths, got {self.train!r}")
        object.__setattr__(self, "train", trains)
        if self.weights_dtype not in WEIGHTS_DTYPES:
            raise ValueError(f"weights_dtype: expected one of {', '.join(WEIGHTS_DTYPES)}, got {self.weights_dtype!r}")
        if self.dev is None and not 0.0 < self.dev_fraction < 1.0:
            raise ValueError(f"give --dev, or a --dev-fraction between 0 and 1 (got {self.dev_fraction})")
        if self.teacher is not None:
            object.__setattr__(self, "teacher", os.fspath(self.teacher))
        if self.init is not None:
            object.__setattr__(self, "init", os.fspath(self.init))  # a Path is stored as JSON text
            if self.pretrained:
                raise ValueError("pretrained vectors and an initial model (init) both fill the embedding tables; give one of them")
        elif self.keep_labels:
            raise ValueError("keep_labels keeps the labels of an initial model; give init too")
        from .name_swap import swap_settings
        from .text_input import check_encoding

        names, rate = swap_settings(self.swap_names, self.swap_rate)
        object.__setattr__(self, "swap_names", names)
        object.__setattr__(self, "swap_rate", rate)
        object.__setattr__(self, "encoding", check_encoding(self.encoding))  # an unknown one is refused now
        unknown = sorted(set(self.pretrained) - {"words", "chars", "bigrams"})
        if unknown:
            raise ValueError(f"pretrained: expected tables words, chars or bigrams, got {', '.join(unknown)}")

    def to_json(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "train": list(self.train)}

    def resolved(self) -> "TrainingJob":
        """This job with its relative paths made absolute against ``folder`` (unchanged without
        one). Built-in model names given as ``init`` or ``teacher`` stay names."""
        if self.folder is None:
            return self
        from .builtin import builtin_models

        names = builtin_models()
        folder = self.folder

        def path(value: str) -> str:
            return os.path.join(folder, value)  # an absolute value stays as it is

        def model(value: str | None) -> str | None:
            return value if value is None or value in names else path(value)

        return dataclasses.replace(
            self, train=tuple(path(p) for p in self.train), out=path(self.out),
            dev=path(self.dev) if self.dev is not None else None,
            pretrained={table: path(p) for table, p in self.pretrained.items()},
            init=model(self.init), teacher=model(self.teacher),
            swap_names=path(self.swap_names) if self.swap_names is not None else None,
        )

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "TrainingJob":
        return cls(**data)
