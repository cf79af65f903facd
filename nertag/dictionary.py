"""A user's phrase dictionary, matched fast: ``phrase<TAB>LABEL`` lines (or JSON lines) in, the
phrases' occurrences in a text out.

Matching uses pyahocorasick's automaton (C, one pass over the text whatever the number of
phrases): hundreds of thousands of entries load in about a second, where a loop over phrases would
scan the text once per phrase. Matches are leftmost-longest and never overlap one another.
"""

from __future__ import annotations

import json
import os
from typing import Iterable

from .conll import file_lines, read_text
from .errors import InputError
from .records import Entity
from .schemes import label_problem

SOURCE = "dictionary"


class PhraseDictionary:
    """Phrases with their labels; :meth:`matches` finds them in a text (case as written)."""

    def __init__(self, entries: Iterable[tuple[str, str]], name: str = "<dictionary>") -> None:
        import ahocorasick

        self.name = name
        self._automaton = ahocorasick.Automaton()
        labels: dict[str, str] = {}  # phrase -> label; a later entry replaces an earlier one
        for phrase, label in entries:
            if not isinstance(phrase, str) or not phrase:
                raise ValueError(f"{name}: phrase {phrase!r}: expected a non-empty string")
            if not isinstance(label, str) or label_problem(label) is not None:
                raise ValueError(f"{name}: label {label!r} of {phrase!r}: expected a word such as ORG")
            self._automaton.add_word(phrase, (len(phrase), label))
            labels[phrase] = label
        self.labels = sorted(set(labels.values()))  # for an HTML legend that must know every label
        self.size = len(self._automaton)
        if self.size:
            self._automaton.make_automaton()

    @classmethod
    def read(cls, path: str | os.PathLike) -> "PhraseDictionary":
        """A TSV (``phrase<TAB>LABEL``) or JSON-lines (``{"phrase": ..., "label": ...}``) file; a
        later entry for the same phrase replaces an earlier one. Blank lines and ``#`` lines are skipped."""
        source = os.fspath(path)
        return cls(read_entries(path), source)

    def matches(self, text: str) -> list[Entity]:
        """The phrases found in ``text``, leftmost-longest (never overlapping), as entities with
        ``source`` "dictionary"."""
        found = []
        for last, (length, label) in self._automaton.iter_long(text) if self.size else ():
            start = last + 1 - length
            found.append(Entity(start, last + 1, label, text[start : last + 1], None, SOURCE))
        return found

    def occurrences(self, text: str) -> list[tuple[int, int, str]]:
        """``(start, end, label)`` of every occurrence of every phrase in ``text``, overlapping ones
        included: a merge that refuses some (one cutting a word) chooses among those left. Plain
        tuples, since a large dictionary finds several times as many as it keeps."""
        if not self.size:
            return []
        return [(last + 1 - length, last + 1, label) for last, (length, label) in self._automaton.iter(text)]


def read_entries(path: str | os.PathLike) -> Iterable[tuple[str, str]]:
    """The (phrase, label) entries of a dictionary file, in file order; a bad line is named by
    file and line (:class:`~nertag.errors.InputError`)."""
    source = os.fspath(path)
    return _entries(read_text(path), source)


def _entries(data: str, source: str) -> Iterable[tuple[str, str]]:
    for number, line in enumerate(file_lines(data), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if line.lstrip().startswith("{"):
            phrase, label = _json_entry(line, source, number)
        else:
            parts = line.split("\t")
            if len(parts) != 2:
                raise InputError(source, number, f"expected phrase<TAB>LABEL, got {len(parts)} tab-separated fields")
            phrase, label = parts[0], parts[1].strip()
        if not phrase or not phrase.strip():
            raise InputError(source, number, "empty phrase")
        problem = label_problem(label)
        if problem is not None:
            raise InputError(source, number, f"label {label!r} {problem}; expected a word such as ORG")
        yield phrase, label


def _json_entry(line: str, source: str, number: int) -> tuple[str, str]:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as error:
        raise InputError(source, number, f"not valid JSON ({error.msg})") from None
    phrase = record.get("phrase", record.get("text")) if isinstance(record, dict) else None
    label = record.get("label") if isinstance(record, dict) else None
    if not isinstance(phrase, str) or not isinstance(label, str):
        raise InputError(source, number, 'expected {"phrase": "...", "label": "..."}')
    return phrase, label
