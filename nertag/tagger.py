"""A trained model with its vocabularies: tokens in, BIO tags out; raw text in, entities out."""

from __future__ import annotations

import gc
import threading
from contextlib import contextmanager
from dataclasses import replace
from itertools import chain
from collections.abc import Iterable, Mapping, Set
from typing import Iterator, Protocol, Sequence

import numpy as np
import torch

from .config import ModelConfig
from .crf import CRF
from .features import Batch, EncodedCorpus, FeatureEncoder
from .hardware import resolve_precision
from .merge import ExtraEntities
from .model import BiLstmCrf
from .records import Entity, Reading, Sentences, TaggedText, entity_at
from .schemes import Scheme, Span, labels_of, spans, to_tags
from .tokenize import (
    char_sentence_bounds, char_token_stream, compact_sentences, has_markup, run_groups, tokens_outside_markup,
    word_token_stream,
)

MAX_SENTENCE_TOKENS = {"char": 250, "word": 150}
ENCODE_TOKENS = 1 << 18  # tokens encoded together: at most about 40 MB of features with every feature on
# Network batches (of at most max_tokens padded tokens, where the LSTM is fastest) decoded by one
# CRF pass: the CRF's Viterbi and forward-backward take a few small operations per step whatever
# the batch, so on CPU their cost is the number of steps.
CRF_BATCHES = 4


_pause_lock = threading.Lock()
_pause_depth = 0  # taggings under way that hold the collector, in all threads
_collector_was_enabled = False


@contextmanager
def collector_paused() -> Iterator[None]:
    """Hold Python's cyclic garbage collector while tagging: a batch allocates hundreds of
    thousands of small containers (token offsets, lists of spans) and no reference cycles, and the
    collector's passes over them took 5-10% of tagging MSRA test. Taggings in several threads
    share one count: the first to start turns it off and the last to end turns it on again,
    unless the caller had it off."""
    global _pause_depth, _collector_was_enabled
    with _pause_lock:
        if _pause_depth == 0:
            _collector_was_enabled = gc.isenabled()
            gc.disable()
        _pause_depth += 1
    try:
        yield
    finally:
        with _pause_lock:
            _pause_depth -= 1
            if _pause_depth == 0 and _collector_was_enabled:
                gc.enable()


class EmissionSource(Protocol):
    """Where a tagger's emission scores come from when not from its torch network (an ONNX
    export run by onnxruntime, :mod:`nertag.onnx_backend`): a CPU batch in, (batch, time, tags)
    float32 scores out."""

    def __call__(self, batch: Batch) -> torch.Tensor: ...


class Tagger:
    """A network with its feature encoder: tokens in, BIO tags out; raw text in, entities out.
    Reuse one for many calls."""

    def __init__(
        self, config: ModelConfig, features: FeatureEncoder, net: BiLstmCrf | None, precision: str = "float32",
        emissions: EmissionSource | None = None, crf: CRF | None = None,
    ) -> None:
        """``net`` comes from :func:`~nertag.model.build_network`, already on its device.
        ``precision`` "auto" is bfloat16 where the hardware has it natively (see :mod:`nertag.hardware`).

        A tagger whose emission scores come from elsewhere gets ``net=None``, that ``emissions``
        source and the model's ``crf`` (on the CPU): features, Viterbi and confidences are the same
        code either way, so only the emission network differs.
        """
        if (net is None) != (emissions is not None) or (net is None and crf is None):
            raise ValueError("give a network, or an emission source with its CRF")
        self.config, self.features, self.net = config, features, net
        self.crf: CRF = crf if crf is not None else net.crf  # type: ignore[union-attr]
        self._source = emissions
        self.device = next(self.crf.parameters()).device
        self.tags = features.tags.items
        # Dictionary and rule matches merged into what tag() gives (nertag.merge); None: the model alone.
        self.extra: ExtraEntities | None = None
        # "bfloat16" runs the encoder's matrix products in bfloat16 (autocast) when tagging: about
        # 1.4x faster LSTMs on CPUs with native bf16 (AVX512-BF16, AMX); the CRF stays float32.
        self.precision = precision

    @property
    def precision(self) -> str:
        return self._precision

    @precision.setter
    def precision(self, precision: str) -> None:
        if self._source is None:
            self._precision = resolve_precision(precision, self.device.type)
        else:
            resolve_precision(precision, "cpu")  # an unknown name is refused the same way
            if precision == "bfloat16":
                raise ValueError("precision 'bfloat16': an exported network computes in float32")
            self._precision = "float32"  # "auto" included

    @property
    def style(self) -> str:
        """The corpus style tagging follows, for a model trained with styles
        (:class:`~nertag.config.ModelConfig`): one of ``config.styles``, a blend such as
        "a.bio=0.8,b.bio=0.2" (:func:`~nertag.config.parse_style`), or "" for the learned mixture."""
        return self.config.tag_style

    @style.setter
    def style(self, name: str) -> None:
        if self.net is None:
            self.config.check_style(name, exported=True)
            return
        self.net.set_tag_style(name)
        self.config = replace(self.config, tag_style=name)  # saved with the model

    @property
    def backend(self) -> str:
        """What computes the emission scores: "torch", or "onnx" for an exported network."""
        return "torch" if self._source is None else "onnx"

    def _emissions(self, batch: Batch) -> torch.Tensor:
        """(batch, time, tags) float32 emission scores of a batch on this tagger's device."""
        if self._source is not None:
            return self._source(batch)
        assert self.net is not None
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.precision == "bfloat16"):
            return self.net.emissions(batch).float()

    @property
    def labels(self) -> list[str]:
        return labels_of(self.tags)

    def _batches(self, lengths: Sequence[int], max_tokens: int) -> Iterator[list[int]]:
        """Sentence indices grouped by similar length, each group at most ``max_tokens`` padded tokens."""
        order = sorted(range(len(lengths)), key=lambda i: lengths[i])
        group: list[int] = []
        for i in order:
            if group and (len(group) + 1) * lengths[i] > max_tokens:
                yield group
                group = []
            group.append(i)
        if group:
            yield group

    def predict(self, token_lists: Sequence[Sequence[str]], max_tokens: int = 8192) -> list[list[str]]:
        """BIO tags for each pre-tokenized sentence; empty sentences get empty tag lists.

        A model that reads Latin runs as one token gets the runs of one-character tokens joined,
        and its tags are spread back over the characters.
        """
        if self.config.token_unit == "char" and self.config.latin_runs:
            groups = [run_groups(tokens) for tokens in token_lists]
            joined = [["".join(tokens[a:b]) for a, b in row] for tokens, row in zip(token_lists, groups)]
            found = self.predict_spans(joined, confidence=False, max_tokens=max_tokens)
            found = [
                [(Span(row[span.start][0], row[span.end - 1][1], span.label), None) for span, _ in spans_of]
                for spans_of, row in zip(found, groups)
            ]
        else:
            found = self.predict_spans(token_lists, confidence=False, max_tokens=max_tokens)
        return [to_tags([span for span, _ in row], len(tokens), Scheme.BIO) for row, tokens in zip(found, token_lists)]

    def predict_spans(
        self, token_lists: Sequence[Sequence[str]], confidence: bool = True, max_tokens: int = 8192
    ) -> list[list[tuple[Span, float | None]]]:
        """Entity token spans of each sentence, with the CRF's probability of each when ``confidence``."""
        with collector_paused():
            return self._predict_spans(token_lists, confidence, max_tokens)

    def _predict_spans(
        self, token_lists: Sequence[Sequence[str]], confidence: bool, max_tokens: int
    ) -> list[list[tuple[Span, float | None]]]:
        results: list[list[tuple[Span, float | None]]] = [[] for _ in token_lists]
        for chunk, corpus in self._encoded_chunks(token_lists):
            batches = list(self._batches([len(token_lists[i]) for i in chunk], max_tokens))
            for first in range(0, len(batches), CRF_BATCHES):
                bundle = batches[first : first + CRF_BATCHES]
                for local, found in zip(chain.from_iterable(bundle), self._decode(corpus, bundle, confidence)):
                    results[chunk[local]] = found
        return results

    def _encoded_chunks(self, token_lists: Sequence[Sequence[str]]) -> Iterator[tuple[list[int], EncodedCorpus]]:
        """The non-empty sentences in chunks of at most ENCODE_TOKENS tokens (or one longer
        sentence), each with its encoding, so that a huge input never holds all its tensors at once.

        Bounded by tokens, not sentences, so that memory stays bounded whatever the sentence
        length, and so that a corpus like MSRA test (189,018 characters in 5,000 sentences) is
        one chunk: each chunk is batched by length on its own, and a split left a second chunk
        whose few sentences of every length filled its batches poorly (tag() 5% slower).
        (Encoding the next chunk in a background thread was tried: the GIL handoffs around each
        small torch operation made tagging MSRA test twice as slow.)
        """
        chunk: list[int] = []
        tokens_in_chunk = 0
        for i, tokens in enumerate(token_lists):
            if not tokens:
                continue
            if chunk and tokens_in_chunk + len(tokens) > ENCODE_TOKENS:
                yield chunk, self.features.encode([token_lists[j] for j in chunk])
                chunk, tokens_in_chunk = [], 0
            chunk.append(i)
            tokens_in_chunk += len(tokens)
        if chunk:
            yield chunk, self.features.encode([token_lists[j] for j in chunk])

    @torch.inference_mode()
    def _decode(
        self, corpus: EncodedCorpus, bundle: list[list[int]], confidence: bool
    ) -> list[list[tuple[Span, float | None]]]:
        """Entity spans of the sentences of a few network batches, in order: emissions batch by
        batch, then one CRF pass over them all."""
        self._eval()
        group = list(chain.from_iterable(bundle))
        lengths = corpus.lengths[group]
        width = int(lengths.max())
        emissions = torch.zeros(len(group), width, len(self.tags), device=self.device)
        first = 0
        for batch in bundle:
            scores = self._emissions(corpus.batch(torch.tensor(batch)).to(self.device))
            emissions[first : first + len(batch), : scores.size(1)] = scores
            first += len(batch)
        mask = (torch.arange(width)[None, :] < lengths[:, None]).to(self.device)
        paths = self.crf.decode(emissions, mask)[0]
        found = self._path_spans(paths.cpu())
        if not confidence or not any(found):
            return [[(span, None) for span in row] for row in found]
        segments = torch.tensor([(b, span.start, span.end) for b, row in enumerate(found) for span in row])
        probabilities = self.crf.segment_log_probs(emissions, mask, paths, segments.to(self.device))
        values = iter(probabilities.exp().clamp_(0.0, 1.0).cpu().tolist())
        return [[(span, next(values)) for span in row] for row in found]

    def _eval(self) -> None:
        """Tagging never sees dropout, even right after a training step on the same network."""
        if self.net is not None:
            self.net.eval()
        self.crf.eval()

    def _path_spans(self, paths: torch.Tensor) -> list[list[Span]]:
        """Entity spans of each decoded path (tag ids, 0 = O, also on padding).

        Only the runs of non-O tokens are read, and each distinct run once: O tags merely close
        entities, so the spans of each run, shifted to where it starts, are the spans of the whole
        path, and a batch holds the same few runs (B-LOC E-LOC, S-PER, ...) many times over.
        """
        found: list[list[Span]] = [[] for _ in range(paths.size(0))]
        width = paths.size(1)
        flat = paths.reshape(-1).numpy()
        places = np.flatnonzero(flat)
        if places.size == 0:
            return found
        # A run starts where the previous non-O token is not just before it, or at a row's start.
        opens = (np.diff(places, prepend=-2) != 1) | (places % width == 0)
        starts = places[opens]
        ends = np.append(places[np.flatnonzero(opens)[1:] - 1], places[-1]) + 1
        known: dict[tuple[int, ...], list[Span]] = {}
        ids = flat.tolist()
        for start, end in zip(starts.tolist(), ends.tolist()):
            run = tuple(ids[start:end])
            relative = known.get(run)
            if relative is None:
                relative = known[run] = spans([self.tags[tag] for tag in run])
            row, step = divmod(start, width)
            found[row].extend(Span(s.start + step, s.end + step, s.label) for s in relative)
        return found

    def nbest(self, token_lists: Sequence[Sequence[str]], k: int) -> list[list[tuple[list[Span], float]]]:
        """The ``k`` most probable labellings of each sentence, as entity spans with their probability."""
        results: list[list[tuple[list[Span], float]]] = [[] for _ in token_lists]
        for chunk, corpus in self._encoded_chunks(token_lists):
            for group in self._batches([len(token_lists[i]) for i in chunk], 8192):
                for local, found in zip(group, self._nbest(corpus, group, k)):
                    results[chunk[local]] = found
        return results

    @torch.inference_mode()
    def _nbest(self, corpus: EncodedCorpus, group: list[int], k: int) -> list[list[tuple[list[Span], float]]]:
        self._eval()
        batch = corpus.batch(torch.tensor(group)).to(self.device)
        emissions = self._emissions(batch)
        found = []
        for row, length in enumerate(batch.lengths.tolist()):
            paths, log_probs = self.crf.nbest(emissions[row, :length], k)
            found.append([
                (spans([self.tags[j] for j in path]), probability)
                for path, probability in zip(paths.tolist(), log_probs.exp().tolist())
            ])
        return found

    def readings(self, text: str, k: int) -> list[list[Reading]]:
        """For each sentence of ``text``, its ``k`` most probable labellings with their entities."""
        sentences_offsets = self.tokenize(text)
        alternatives = self.nbest([[text[s:e] for s, e in sent] for sent in sentences_offsets], k)
        return [
            [
                Reading(sent[0][0], sent[-1][1], probability, [entity_at(text, sent, span) for span in found])
                for found, probability in options
            ]
            for sent, options in zip(sentences_offsets, alternatives)
        ]

    def tokenize(self, text: str) -> list[list[tuple[int, int]]]:
        """Offsets of the model's tokens in ``text``, grouped into sentences."""
        return list(self._sentences(text))

    def _sentences(self, text: str) -> Sentences:
        """:meth:`tokenize`'s sentences in flat arrays; text that is one token a character (most
        Chinese) is cut from its sentence ends alone, without a Python step per character."""
        unit = self.config.token_unit
        if unit == "char" and not has_markup(text):
            bounds = char_sentence_bounds(text, MAX_SENTENCE_TOKENS["char"], self.config.latin_runs)
            if bounds is not None:
                return Sentences.one_char_tokens(bounds)
        tokens = char_token_stream(text, self.config.latin_runs) if unit == "char" else word_token_stream(text)
        return compact_sentences(text, tokens_outside_markup(text, tokens), MAX_SENTENCE_TOKENS[unit], unit)

    def tag(self, text: str | Sequence[str]) -> list[Entity] | list[list[Entity]]:
        """Entities of one text, or of each text in a list: one shape per input shape."""
        found = self.tag_many([text] if isinstance(text, str) else text)  # tag_texts() checks what it is given
        return found[0] if isinstance(text, str) else found

    def tag_many(self, texts: Sequence[str], max_tokens: int = 8192) -> list[list[Entity]]:
        """Entities of each text; ``max_tokens`` bounds the padded tokens of one network batch."""
        return [tagged.entities for tagged in self.tag_texts(texts, max_tokens)]

    def tag_texts(self, texts: Sequence[str], max_tokens: int = 8192) -> list[TaggedText]:
        """Each text with its entities and the model's tokens, all texts' sentences batched together."""
        if isinstance(texts, str):  # else tagged a character at a time
            raise TypeError("tag_texts() and tag_many() take a list of strings; tag() takes one string too")
        texts = text_list(texts)
        with collector_paused():
            return self._tag_texts(texts, max_tokens)

    def _tag_texts(self, texts: Sequence[str], max_tokens: int) -> list[TaggedText]:
        per_text = [self._sentences(text) for text in texts]
        found: list[list[Entity]] = [[] for _ in texts]
        for group in _sentence_groups(per_text, ENCODE_TOKENS):
            token_lists = [per_text[owner].tokens(texts[owner], index) for owner, index in group]
            for (owner, index), sentence_spans in zip(group, self._predict_spans(token_lists, True, max_tokens)):
                if sentence_spans:
                    offsets = per_text[owner][index]
                    found[owner].extend(entity_at(texts[owner], offsets, span, confidence) for span, confidence in sentence_spans)
        tagged = [TaggedText(text, entities, sentences) for text, entities, sentences in zip(texts, found, per_text)]
        return tagged if self.extra is None else [self.extra.apply(t) for t in tagged]


def _sentence_groups(per_text: Sequence[Sentences], max_tokens: int) -> Iterator[list[tuple[int, int]]]:
    """(text, sentence) pairs in order, in groups of at most ``max_tokens`` tokens (or one longer
    sentence): only one group's token strings exist at a time, so a huge text tags in bounded memory."""
    group: list[tuple[int, int]] = []
    tokens_in_group = 0
    for owner, sentences_of_text in enumerate(per_text):
        for index in range(len(sentences_of_text)):
            size = sentences_of_text.size(index)
            if group and tokens_in_group + size > max_tokens:
                yield group
                group, tokens_in_group = [], 0
            group.append((owner, index))
            tokens_in_group += size
    if group:
        yield group


def text_list(text: str | Sequence[str]) -> list[str]:
    """``text`` as a list of texts, or a TypeError naming what is wrong with it."""
    # A mapping or a set would be read as its keys in no promised order: refused with the rest.
    if isinstance(text, (Mapping, Set, bytes)) or not isinstance(text, (str, Iterable)):
        raise TypeError(f"tag() takes a string or a list of strings, not {type(text).__name__}")
    texts = [text] if isinstance(text, str) else list(text)
    for number, item in enumerate(texts):
        if not isinstance(item, str):
            raise TypeError(f"tag() takes a string or a list of strings; item {number} is {type(item).__name__}")
    return texts
