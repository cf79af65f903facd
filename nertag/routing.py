"""Which model tags each document: the one the user named, or the default of the document's own language.

Choosing once for a whole input sends the Chinese lines of a mixed file through the English model
(or the reverse), so without a named model every document is routed on its own. Models are loaded
on first use, once each.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Callable, Sequence

from .builtin import DEFAULT_CHINESE, DEFAULT_OTHER, builtin_models, resolve_model
from .records import TaggedText
from .tokenize import looks_chinese

if TYPE_CHECKING:  # loading a network is the loader's job; choosing needs no torch
    from .tagger import Tagger

Loader = Callable[[str], "Tagger"]


def default_model_name(text: str) -> str:
    """The built-in model for ``text``'s language."""
    return DEFAULT_CHINESE if looks_chinese(text) else DEFAULT_OTHER


class ModelChoice:
    """Taggers by document: ``named`` for all, or (``named`` None) the default of each one's language.

    ``loader`` turns a model name (built-in name or folder) into a :class:`Tagger`; it is called once
    per name.
    """

    def __init__(self, named: str | None, loader: Loader) -> None:
        self.named = named
        self._loader = loader
        self._taggers: dict[str, Tagger] = {}
        self._units: dict[str, str] = {}  # token units read from the configs of models not loaded here

    @classmethod
    def of(cls, tagger: Tagger, name: str = "model") -> "ModelChoice":
        """A choice that always gives the already loaded ``tagger``."""
        choice = cls(name, lambda _: tagger)
        choice._taggers[name] = tagger
        return choice

    def name_for(self, text: str) -> str:
        return self.named if self.named is not None else default_model_name(text)

    def tagger(self, name: str) -> Tagger:
        if name not in self._taggers:
            if self.named is None:
                resolve_model(name)  # a clear error when a default model is not installed
            self._taggers[name] = self._loader(name)
        return self._taggers[name]

    def load_named(self) -> None:
        """Load the named model now, so a bad model is reported before any input is read."""
        if self.named is not None:
            self.tagger(self.named)

    def token_unit(self, name: str) -> str:
        """How model ``name`` cuts text into tokens ("char" or "word"). A default model that this
        process has not loaded (its documents went to worker processes) is read from its config
        rather than loaded."""
        if name in self._taggers:
            return self._taggers[name].config.token_unit
        if name not in self._units:
            config = json.loads((resolve_model(name) / "config.json").read_text(encoding="utf-8"))
            self._units[name] = config["model"]["token_unit"]
        return self._units[name]

    def labels(self) -> list[str]:
        """Every label the chosen models can give (read from the manifest for built-in defaults)."""
        if self.named is not None:
            return self.tagger(self.named).labels
        shipped = builtin_models()
        return sorted({label for name in (DEFAULT_CHINESE, DEFAULT_OTHER) if name in shipped for label in shipped[name].labels})

    def group(self, texts: Sequence[str]) -> dict[str, list[int]]:
        """Indices of ``texts`` by the model that tags them, in input order within each model.

        A text without letters (blank, digits, punctuation) says nothing of its language; it joins
        a model that is loaded or in use already rather than loading another.
        """
        groups: dict[str, list[int]] = {}
        letterless: list[int] = []
        for index, text in enumerate(texts):
            if self.named is None and not any(c.isalpha() for c in text):
                letterless.append(index)
            else:
                groups.setdefault(self.name_for(text), []).append(index)
        if letterless:
            name = next(iter(self._taggers), None) or next(iter(groups), None) or self.name_for("")
            groups.setdefault(name, []).extend(letterless)
            groups[name].sort()
        return groups

    def name_of_each(self, texts: Sequence[str]) -> list[str]:
        names = [""] * len(texts)
        for name, indices in self.group(texts).items():
            for index in indices:
                names[index] = name
        return names

    def tag(self, texts: Sequence[str]) -> list[tuple[str, TaggedText]]:
        """(model name, tagged text) for each text, in input order; each model tags its texts in one batch."""
        results: list[tuple[str, TaggedText]] = [("", TaggedText("", [], []))] * len(texts)
        for name, indices in self.group(texts).items():
            found = self.tagger(name).tag_texts([texts[i] for i in indices])
            for index, tagged in zip(indices, found):
                results[index] = (name, tagged)
        return results
