"""The public entry points: ``load`` a model by directory, ``tag`` text with it."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Sequence

from .serialize import load as load_directory
from .tagger import Entity, Tagger


def load(model: str | Path, device: str = "cpu") -> Tagger:
    """A tagger for the model directory ``model``, to reuse across calls."""
    return load_directory(model, device)


@lru_cache(maxsize=4)
def _cached(model: str, device: str) -> Tagger:
    return load(model, device)


def tag(text: str | Sequence[str], model: str | Path | Tagger) -> list[Entity] | list[list[Entity]]:
    """Entities of ``text`` (a string), or of each string in a list.

    ``model`` is a model directory or a loaded :class:`Tagger`; directories are loaded once and cached.
    """
    tagger = model if isinstance(model, Tagger) else _cached(str(model), "cpu")
    return tagger.tag(text)
