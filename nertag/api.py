"""The public entry points: ``load`` a model by name or folder, ``tag`` text with it, ``tag_nbest``
for the most probable labellings."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Sequence, overload

from .builtin import resolve_model
from .records import Entity, Reading
from .routing import ModelChoice
from .serialize import load as load_directory
from .tagger import Tagger


def load(model: str | Path, device: str = "cpu", precision: str = "float32") -> Tagger:
    """A tagger for ``model`` (a built-in name such as ``zh-msra``, or a model directory), to reuse.

    ``precision`` is float32 by default, so a text gets the same confidences whatever it is batched
    with; "bfloat16" runs the encoder faster on CPUs with native bfloat16, and "auto" picks it
    where the hardware has it (the CLI's default; see BENCHMARKS.md).
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
    texts = [text] if isinstance(text, str) else list(text)
    if not all(isinstance(t, str) for t in texts):
        raise TypeError("tag() takes a string or a list of strings")
    return choice, texts


def _cached_model(model: str) -> Tagger:
    directory = resolve_model(model)
    return _cached(str(directory), "cpu", _saved_stamp(directory))
