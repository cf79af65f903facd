"""The public entry points: ``load`` a model by directory, ``tag`` text with it."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Sequence

from .builtin import resolve_model
from .serialize import load as load_directory
from .routing import ModelChoice
from .tagger import Entity, Reading, Tagger


def load(model: str | Path, device: str = "cpu", precision: str = "float32") -> Tagger:
    """A tagger for ``model`` (a built-in name such as ``zh-msra``, or a model directory), to reuse.

    ``precision="bfloat16"`` tags faster on CPUs with native bfloat16 (see BENCHMARKS.md).
    """
    return load_directory(resolve_model(model), device, precision)


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


def tag(
    text: str | Sequence[str], model: str | Path | Tagger | None = None, nbest: int = 0
) -> list[Entity] | list[list[Entity]] | list[list[Reading]] | list[list[list[Reading]]]:
    """Entities of ``text`` (a string), or of each string in a list.

    ``model`` is a built-in name, a model directory or a loaded :class:`Tagger`; by default each
    string goes to the built-in model of its own language (Chinese or other), so a list may mix
    languages.  Models are loaded once and cached.
    With ``nbest=K`` a string gives, for each of its sentences, the K most probable labellings
    (:class:`~nertag.tagger.Reading`, with probability and entities) instead.
    """
    if isinstance(model, Tagger):
        choice = ModelChoice.of(model)
    else:
        choice = ModelChoice(None if model is None else str(model), _cached_model)
    texts = [text] if isinstance(text, str) else list(text)
    if not all(isinstance(t, str) for t in texts):
        raise TypeError("tag() takes a string or a list of strings")
    if nbest:
        names = choice.name_of_each(texts)
        readings = [choice.tagger(name).readings(t, nbest) for t, name in zip(texts, names)]
        return readings[0] if isinstance(text, str) else readings
    found = [entities for _, entities in choice.tag(texts)]
    return found[0] if isinstance(text, str) else found


def _cached_model(model: str) -> Tagger:
    directory = resolve_model(model)
    return _cached(str(directory), "cpu", _saved_stamp(directory))
