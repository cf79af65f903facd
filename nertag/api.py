"""The public entry points: ``load`` a model by directory, ``tag`` text with it."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Sequence

from .builtin import resolve_model
from .serialize import load as load_directory
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

    ``model`` is a built-in name, a model directory or a loaded :class:`Tagger`; by default the
    built-in Chinese or English model is picked from the text.  Models are loaded once and cached.
    With ``nbest=K`` a string gives, for each of its sentences, the K most probable labellings
    (:class:`~nertag.tagger.Reading`, with probability and entities) instead.
    """
    if isinstance(model, Tagger):
        tagger = model
    else:
        sample = text if isinstance(text, str) else "".join(text[:50])
        directory = resolve_model(model, sample)
        tagger = _cached(str(directory), "cpu", _saved_stamp(directory))
    if nbest:
        if isinstance(text, str):
            return tagger.readings(text, nbest)
        return [tagger.readings(t, nbest) for t in text]
    return tagger.tag(text)
