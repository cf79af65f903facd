"""Turn token sequences into tensors: the one path shared by training, scoring and tagging.

Sentences are encoded once into flat id tensors; a batch is then cut out of them with tensor
indexing only, and each distinct token form in a batch is handed to the character encoder once.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from functools import lru_cache
from itertools import chain
from typing import Any, Callable, Iterator, Sequence

import numpy as np
import torch

from .batch import Batch
from .config import ModelConfig
from .lexicon import WIDTH as LEXICON_WIDTH
from .lexicon import lexicon_features
from .lookup import KeyTable
from .segment import BEGIN, END, MIDDLE, SINGLE, cut, segment
from .tokenize import is_cjk
from .vocab import Vocab

_DIGIT = re.compile(r"\d")
BOS, EOS = "<s>", "</s>"
UNK_ID = 1  # Vocab's id for an unknown item
# The character encoder reads at most this many characters of a token: a 1 MB run of letters (a
# base64 blob, say) would otherwise cost gigabytes of activations; no word is that long.
MAX_FORM_CHARS = 100


@lru_cache(maxsize=1 << 16)
def token_shape(form: str) -> int:
    """A token's shape class, 1-9: a CJK character, lower, Capitalised, UPPER or mixed-case Latin,
    digits, letters and digits, punctuation, other. Unseen Latin names share their shape's vector."""
    if len(form) == 1 and is_cjk(form):
        return 1
    if form.isascii() and form.isalnum():
        if form.isdigit():
            return 6
        if not form.isalpha():
            return 7
        if form.islower():
            return 2
        if form.isupper():
            return 4
        return 3 if form[0].isupper() and form[1:].islower() else 5
    if unicodedata.category(form[0]).startswith("P"):
        return 8
    return 9


@lru_cache(maxsize=1 << 20)
def feature_form(token: str) -> str:
    """Full-width and half-width forms read the same (NFKC) without touching the output text."""
    return unicodedata.normalize("NFKC", token)


class EncodedCorpus:
    """Sentences as flat id tensors plus offsets, ready to be sliced into batches.

    ``per_token`` holds one tensor per token feature (``bigrams``, ``segments``, ``lexicon``), each
    with one row per token of the whole corpus; a batch takes its rows by position.
    """

    def __init__(
        self,
        lengths: torch.Tensor,
        words: torch.Tensor,
        per_token: dict[str, torch.Tensor],
        forms: torch.Tensor | None = None,
        form_chars: torch.Tensor | None = None,
        form_char_lengths: torch.Tensor | None = None,
        tags: torch.Tensor | None = None,
    ) -> None:
        self.lengths = lengths
        self.offsets = torch.cumsum(lengths, 0) - lengths
        self.words, self.per_token, self.tags = words, per_token, tags
        self.forms, self.form_chars, self.form_char_lengths = forms, form_chars, form_char_lengths

    def __len__(self) -> int:
        return len(self.lengths)

    def batch(self, indices: torch.Tensor) -> Batch:
        """Pad the sentences at ``indices`` into one :class:`Batch` (on the CPU)."""
        lengths = self.lengths[indices]
        width = int(lengths.max())
        steps = torch.arange(width)
        mask = steps[None, :] < lengths[:, None]  # (B, T)
        positions = torch.where(mask, self.offsets[indices, None] + steps[None, :], 0)
        batch = Batch(words=self.words[positions].masked_fill(~mask, 0), mask=mask, lengths=lengths)
        if self.forms is not None and self.form_chars is not None and self.form_char_lengths is not None:
            distinct, inverse = torch.unique(self.forms[positions[mask]], return_inverse=True)
            form_index = torch.zeros_like(positions)
            form_index[mask] = inverse
            char_lengths = self.form_char_lengths[distinct]
            batch.chars = self.form_chars[distinct, : int(char_lengths.max())]
            batch.char_lengths = char_lengths
            batch.form_index = form_index
        for name, values in self.per_token.items():
            setattr(batch, name, values[positions].masked_fill(~mask[..., None], 0))  # (B, T, width)
        if self.tags is not None:
            batch.tags = self.tags[positions].masked_fill(~mask, 0)
        return batch


def _split(flat: list[str], lengths: list[int]) -> Iterator[list[str]]:
    start = 0
    for length in lengths:
        yield flat[start : start + length]
        start += length


class TokenTable:
    """The tokens of some sentences, each distinct token once: what is a function of a token alone
    (its id, shape, bigram unit) is worked out once per distinct token and spread with one numpy
    index, instead of once per token in Python."""

    def __init__(self, sentences: Sequence[Sequence[str]]) -> None:
        index: dict[str, int] = {}
        rows = [index.setdefault(token, len(index)) for sentence in sentences for token in sentence]
        self.rows = np.array(rows, dtype=np.int64)  # each token's row among the distinct tokens
        self.forms = [feature_form(token) for token in index]  # the feature form of each distinct token
        self.lengths = [len(sentence) for sentence in sentences]
        forms = self.forms
        self.flat_forms = [forms[row] for row in rows]
        self.per_sentence = list(_split(self.flat_forms, self.lengths))  # the forms, sentence by sentence

    def spread(self, per_form: Sequence[int]) -> np.ndarray:
        """Values given once per distinct token, as one value per token."""
        return np.asarray(per_form, dtype=np.int64)[self.rows] if len(self.rows) else np.zeros(0, dtype=np.int64)


def _encode_shapes(tokens: TokenTable) -> torch.Tensor:
    """(tokens, 1): the shape class of each token's form."""
    return torch.from_numpy(tokens.spread([token_shape(form) for form in tokens.forms]))[:, None]


class FeatureEncoder:
    """Vocabularies plus the rules that map tokens to ids; saved as ``vocab.json``."""

    def __init__(
        self,
        config: ModelConfig,
        words: Vocab,
        chars: Vocab | None,
        bigrams: Vocab | None,
        tags: Vocab,
        segments: Vocab | None = None,
    ) -> None:
        self.config, self.words, self.chars, self.bigrams, self.tags = config, words, chars, bigrams, tags
        self.segments = segments
        self._pairs: tuple[dict[str, int], KeyTable, np.ndarray] | None = None  # see _bigram_pairs
        self._pairs_possible = True
        # Keys are a pure function of the form; cached because ids, bigrams and segment words ask for
        # the same forms' keys in every call, and training asks for every sentence's.
        self.word_key = lru_cache(maxsize=1 << 20)(self._word_key)  # type: ignore[method-assign]

    @classmethod
    def fit(cls, sentences: Sequence[Sequence[str]], tags: Sequence[str], config: ModelConfig) -> "FeatureEncoder":
        """Build vocabularies from training sentences; ``tags`` is the model's full tag list."""
        word_counts: Counter[str] = Counter()
        char_counts: Counter[str] = Counter()
        bigram_counts: Counter[str] = Counter()
        segment_counts: Counter[str] = Counter()
        encoder = cls(config, Vocab([]), None, None, Vocab(tags, specials=False))
        for tokens in sentences:
            forms = [feature_form(t) for t in tokens]
            word_counts.update(encoder.word_key(f) for f in forms)
            if config.char_dim:
                for form in forms:
                    char_counts.update(form)
            if config.bigram_dim:
                bigram_counts.update(encoder.bigram_keys(forms))
            if config.segment_dim:
                segment_counts.update(word for word, _ in segment(forms))
        encoder.words = Vocab.build(word_counts, config.min_word_count)
        encoder.chars = Vocab.build(char_counts) if config.char_dim else None
        encoder.bigrams = Vocab.build(bigram_counts, config.min_bigram_count) if config.bigram_dim else None
        if config.segment_dim:
            encoder.segments = Vocab.build(
                Counter({encoder.word_key(w): n for w, n in segment_counts.items()}), config.min_segment_count
            )
        return encoder

    def _word_key(self, form: str) -> str:
        if self.config.lowercase:
            form = form.lower()
        if self.config.normalize_digits:
            form = _DIGIT.sub("0", form)
        return form

    def bigram_keys(self, forms: Sequence[str]) -> list[str]:
        """The bigrams between neighbours, sentence ends included: ``len(forms) + 1`` of them."""
        keys = [self.word_key(f) for f in forms]
        padded = [BOS, *keys, EOS]
        return [a + "\t" + b for a, b in zip(padded, padded[1:])]

    def encode(self, sentences: Sequence[Sequence[str]], tags: Sequence[Sequence[str]] | None = None) -> EncodedCorpus:
        """Encode token sequences (and optionally their tags in the model's scheme)."""
        lengths = torch.tensor([len(s) for s in sentences], dtype=torch.long)
        if bool((lengths == 0).any()):
            raise ValueError("cannot encode an empty sentence")
        tokens = TokenTable(sentences)
        forms = form_chars = form_char_lengths = None
        if self.chars is not None:
            forms, form_chars, form_char_lengths = self._encode_forms(tokens.flat_forms)
        per_token = {name: encode(tokens) for name, encode in self._token_features().items()}
        tag_ids = None
        if tags is not None:
            tag_ids = torch.tensor([self.tags.id(t) for s in tags for t in s], dtype=torch.long)
        word_ids = torch.from_numpy(tokens.spread([self.words.id(self.word_key(form)) for form in tokens.forms]))
        return EncodedCorpus(lengths, word_ids, per_token, forms, form_chars, form_char_lengths, tag_ids)

    def _token_features(self) -> dict[str, Callable[[TokenTable], torch.Tensor]]:
        """The per-token features this model reads, each a function of the sentences' tokens giving
        one row per token; the names are :class:`Batch` fields."""
        features: dict[str, Callable[[TokenTable], torch.Tensor]] = {}
        if self.bigrams is not None:
            features["bigrams"] = self._encode_bigrams
        if self.segments is not None:
            features["segments"] = self._encode_segments
        if self.config.lexicon:
            features["lexicon"] = lambda tokens: lexicon_features(tokens.per_sentence, self.config.lexicon_classes)
        if self.config.shape_dim:
            features["shapes"] = _encode_shapes
        return features

    def _encode_forms(self, flat_forms: list[str]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Each token's row in a table of distinct forms, that table's character ids and lengths."""
        assert self.chars is not None
        table: dict[str, int] = {}
        forms = torch.tensor([table.setdefault(f, len(table)) for f in flat_forms], dtype=torch.long)
        char_lists = [self.chars.ids(f[:MAX_FORM_CHARS]) or [1] for f in table]
        form_char_lengths = torch.tensor([len(c) for c in char_lists], dtype=torch.long)
        form_chars = torch.zeros(len(char_lists), max(map(len, char_lists), default=1), dtype=torch.long)
        for row, ids in enumerate(char_lists):
            form_chars[row, : len(ids)] = torch.tensor(ids)
        return forms, form_chars, form_char_lengths

    def _encode_bigrams(self, tokens: TokenTable) -> torch.Tensor:
        """(tokens, 2): ids of each token's left and right bigram.

        A bigram is looked up as a pair of unit numbers (the halves of the vocabulary's bigrams,
        sentence ends included), so only each distinct token's unit is found in Python.
        """
        assert self.bigrams is not None
        keys = [self.word_key(form) for form in tokens.forms]
        pairs = self._bigram_pairs()
        if pairs is None or any("\t" in key for key in keys):  # a tab would make "a\tb" ambiguous
            return self._encode_bigrams_by_key(tokens.per_sentence)
        units, codes, ids = pairs
        unit = tokens.spread([units.get(key, -1) for key in keys])
        ends = np.cumsum(tokens.lengths, dtype=np.int64)
        before, after = np.roll(unit, 1), np.roll(unit, -1)
        before[ends - np.asarray(tokens.lengths, dtype=np.int64)] = units[BOS]
        after[ends - 1] = units[EOS]
        width = len(units)

        def ids_of(left: np.ndarray, right: np.ndarray) -> np.ndarray:
            rows = codes.find(np.where((left >= 0) & (right >= 0), left * width + right, -1))
            found = np.full(len(rows), UNK_ID, dtype=np.int64)
            hit = rows >= 0
            found[hit] = ids[rows[hit]]
            return found

        return torch.from_numpy(np.stack([ids_of(before, unit), ids_of(unit, after)], axis=1))

    def _bigram_pairs(self) -> tuple[dict[str, int], KeyTable, np.ndarray] | None:
        """The bigram vocabulary as unit numbers: each half's number, a table of the pair codes
        (``left * units + right``) and their ids; None where an entry has no single tab."""
        if self._pairs is None and self.bigrams is not None and self._pairs_possible:
            halves = [item.split("\t") for item in self.bigrams.items[2:]]
            if any(len(pair) != 2 for pair in halves):
                self._pairs_possible = False
                return None
            units: dict[str, int] = {BOS: 0, EOS: 1}
            for left, right in halves:
                units.setdefault(left, len(units))
                units.setdefault(right, len(units))
            codes = np.array([units[left] * len(units) + units[right] for left, right in halves], dtype=np.int64)
            self._pairs = (units, KeyTable(codes), np.arange(2, len(halves) + 2, dtype=np.int64))
        return self._pairs

    def _encode_bigrams_by_key(self, per_sentence: list[list[str]]) -> torch.Tensor:
        """As :meth:`_encode_bigrams`, one string key per bigram: for the rare forms with a tab, and
        vocabularies whose entries are not all two halves.

        A sentence of n tokens has n + 1 bigrams (ends included); token i of sentence s sits at flat
        position p, so its left bigram is number p + s and its right one p + s + 1.
        """
        assert self.bigrams is not None
        keys: list[str] = []
        for sentence in per_sentence:
            keys.extend(self.bigram_keys(sentence))
        key_ids = torch.tensor(self.bigrams.ids(keys), dtype=torch.long)
        lengths = torch.tensor([len(s) for s in per_sentence], dtype=torch.long)
        left = torch.arange(int(lengths.sum())) + torch.repeat_interleave(torch.arange(len(lengths)), lengths)
        return torch.stack([key_ids[left], key_ids[left + 1]], dim=1)

    def _encode_segments(self, tokens: TokenTable) -> torch.Tensor:
        """(tokens, 2): id of the segmenter's word holding each token and the token's place in it.

        A sentence of one-character forms (nearly all) is cut and its places worked out in numpy,
        word by word; any other sentence goes through :func:`~nertag.segment.segment`.
        """
        assert self.segments is not None
        words: list[str] = []  # the words of the one-character sentences, in order
        one_char = np.zeros(len(tokens.lengths), dtype=bool)
        other: list[tuple[str, int]] = []  # (word, place) of each token of the other sentences
        for number, sentence in enumerate(tokens.per_sentence):
            text = "".join(sentence)
            if len(text) == len(sentence):
                words.extend(cut(text))
                one_char[number] = True
            else:
                other.extend(segment(sentence))
        segment_id, word_key = self.segments.id, self.word_key
        known = {word: segment_id(word_key(word)) for word in dict.fromkeys(chain(words, (word for word, _ in other)))}
        word_lengths = np.fromiter(map(len, words), dtype=np.int64, count=len(words))
        inside = np.arange(int(word_lengths.sum())) - np.repeat(np.cumsum(word_lengths) - word_lengths, word_lengths)
        length = np.repeat(word_lengths, word_lengths)
        places = np.where(length == 1, SINGLE, np.where(inside == 0, BEGIN, np.where(inside == length - 1, END, MIDDLE)))
        on_fast_path = np.repeat(one_char, tokens.lengths)
        result = np.zeros((len(on_fast_path), 2), dtype=np.int64)
        result[on_fast_path, 0] = np.repeat(np.fromiter(map(known.__getitem__, words), dtype=np.int64, count=len(words)), word_lengths)
        result[on_fast_path, 1] = places
        if other:
            result[~on_fast_path] = np.array([(known[word], place) for word, place in other], dtype=np.int64)
        return torch.from_numpy(result)

    def table_sizes(self) -> dict[str, int]:
        """Input sizes for :func:`~nertag.model.build_network`: the embedding tables and the
        width of the dense lexicon features."""
        return {
            "num_words": len(self.words),
            "num_chars": len(self.chars) if self.chars else 0,
            "num_bigrams": len(self.bigrams) if self.bigrams else 0,
            "num_segments": len(self.segments) if self.segments else 0,
            "lexicon_width": LEXICON_WIDTH if self.config.lexicon else 0,
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "words": self.words.to_json(),
            "chars": self.chars.to_json() if self.chars else None,
            "bigrams": self.bigrams.to_json() if self.bigrams else None,
            "segments": self.segments.to_json() if self.segments else None,
            "tags": self.tags.to_json(),
        }

    @classmethod
    def from_json(cls, config: ModelConfig, data: dict[str, Any]) -> "FeatureEncoder":
        return cls(
            config,
            Vocab.from_json(data["words"]),
            Vocab.from_json(data["chars"]) if data.get("chars") else None,
            Vocab.from_json(data["bigrams"]) if data.get("bigrams") else None,
            Vocab.from_json(data["tags"], specials=False),
            Vocab.from_json(data["segments"]) if data.get("segments") else None,
        )
