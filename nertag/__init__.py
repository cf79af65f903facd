"""nertag: a small, fast BiLSTM-CRF named-entity tagger.

``tag(text)`` finds entities with character offsets; ``load(model)`` gives a reusable :class:`Tagger`.
Every error nertag raises for bad input derives from :class:`NertagError`.

The names that need torch are imported on first use, so ``import nertag.config`` (and the CLI's
``--help``) stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import InputError, ModelError, NertagError, OutputError, TagError
from .records import Entity, Reading
from .version import __version__

if TYPE_CHECKING:
    from .api import fit, load, tag, tag_nbest
    from .corpus_dataset import read_corpus
    from .dataset_tagger import DatasetTagger
    from .soup import average_models
    from .tagger import Tagger

__all__ = [
    "tag", "tag_nbest", "load", "fit", "average_models", "read_corpus", "DatasetTagger", "Tagger", "Entity", "Reading",
    "NertagError", "InputError", "ModelError", "OutputError", "TagError", "__version__",
]

_LAZY = {
    "tag": "api", "tag_nbest": "api", "load": "api", "fit": "api", "Tagger": "tagger",
    "read_corpus": "corpus_dataset", "DatasetTagger": "dataset_tagger", "average_models": "soup",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from importlib import import_module

        value = getattr(import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
