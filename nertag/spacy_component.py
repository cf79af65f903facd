"""nertag as a spaCy pipeline component: ``nlp.add_pipe("nertag", config={"model": "zh-msra"})``.

Registered through the ``spacy_factories`` entry point, so spaCy finds it without an import. The
component tags each doc's text and sets ``doc.ents``: nertag's character offsets become spans over
spaCy's tokens with ``alignment_mode="expand"`` (an entity inside a token grows to the whole
token). Entities that had to grow, or that could not be placed (they overlap another after
growing, or an entity the doc already had when ``keep_existing``), are counted, never raised:
per doc in ``doc.user_data["nertag_misaligned"]`` and in total in the component's ``misaligned``.
Each placed span's CRF probability is its extension attribute ``span._.nertag_confidence``, which
spaCy keeps through ``Doc.to_bytes``, ``DocBin`` and ``nlp.pipe(n_process=...)``.
"""

from __future__ import annotations

import os
from itertools import islice
from typing import TYPE_CHECKING, Iterable, Iterator, Optional

from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from .records import Entity

if TYPE_CHECKING:
    from .routing import ModelChoice

FACTORY = "nertag"
CONFIDENCE = "nertag_confidence"  # Span extension: the CRF probability of an entity nertag placed

if not Span.has_extension(CONFIDENCE):
    Span.set_extension(CONFIDENCE, default=None)


class NertagComponent:
    """Sets ``doc.ents`` from a nertag model; ``pipe()`` tags ``batch_size`` docs together."""

    def __init__(
        self, nlp: Language, name: str, model: Optional[str], keep_existing: bool, batch_size: int, precision: str,
        style: Optional[str] = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size: expected an int >= 1, got {batch_size}")
        from .config import check_model_style

        check_model_style(model, style)
        self.name, self.model, self.keep_existing = name, model, keep_existing
        self.batch_size, self.precision, self.style = batch_size, precision, style
        self.misaligned = 0
        self._choice: ModelChoice | None = None
        self._home_pid = os.getpid()

    def __call__(self, doc: Doc) -> Doc:
        return next(self.pipe([doc]))

    def pipe(self, docs: Iterable[Doc], batch_size: int | None = None) -> Iterator[Doc]:
        self._one_thread_in_a_worker()
        docs = iter(docs)
        size = batch_size or self.batch_size
        while chunk := list(islice(docs, size)):
            for doc, (_, tagged) in zip(chunk, self._models().tag([doc.text for doc in chunk])):
                self._set_entities(doc, tagged.entities)
                yield doc

    def _set_entities(self, doc: Doc, entities: list[Entity]) -> None:
        placed: list[Span] = []
        exact: set[tuple[int, int]] = set()  # token spans that match nertag's offsets exactly
        confidence: dict[tuple[int, int], float | None] = {}
        for entity in entities:
            span = doc.char_span(entity.start, entity.end, label=entity.label, alignment_mode="expand")
            if span is None:
                continue
            placed.append(span)
            confidence[(span.start_char, span.end_char)] = entity.confidence
            if (span.start_char, span.end_char) == (entity.start, entity.end):
                exact.add((span.start, span.end))
        mine = filter_spans(placed)  # grown spans may now overlap: the longer stays
        if self.keep_existing and doc.ents:
            taken = {i for span in doc.ents for i in range(span.start, span.end)}
            mine = [s for s in mine if not taken.intersection(range(s.start, s.end))]
            doc.ents = sorted([*doc.ents, *mine], key=lambda s: s.start)
        else:
            doc.ents = mine
        misaligned = len(entities) - len({(s.start, s.end) for s in mine} & exact)
        doc.user_data["nertag_misaligned"] = misaligned
        for span in doc.ents:
            if (span.start_char, span.end_char) in confidence:
                span._.set(CONFIDENCE, confidence[(span.start_char, span.end_char)])
        self.misaligned += misaligned

    def _one_thread_in_a_worker(self) -> None:
        """In a process spaCy forked for ``nlp.pipe(n_process=N)``, tag on one thread: the N
        processes already fill the cores, and a thread pool the parent had started does not
        survive a fork (OpenMP then waits for threads the child does not have)."""
        if os.getpid() != self._home_pid:
            from .hardware import use_threads

            use_threads(1)
            self._home_pid = os.getpid()

    def _models(self) -> "ModelChoice":
        if self._choice is None:
            from .api import load
            from .routing import ModelChoice

            self._choice = ModelChoice(self.model, lambda name: load(name, precision=self.precision, style=self.style))
            self._choice.load_named()
        return self._choice


@Language.factory(
    FACTORY,
    default_config={"model": None, "keep_existing": False, "batch_size": 64, "precision": "float32", "style": None},
    assigns=["doc.ents"],
)
def make_nertag(
    nlp: Language, name: str, model: Optional[str], keep_existing: bool, batch_size: int, precision: str,
    style: Optional[str],
) -> NertagComponent:
    """``model``: a built-in name or model folder; None tags each doc with its language's default.
    ``style``: for a model trained with corpus styles, the one to tag in (see :func:`nertag.load`)."""
    return NertagComponent(nlp, name, model, keep_existing, batch_size, precision, style)
