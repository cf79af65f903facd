"""A user's dictionary and rules merged with a model's entities, under a named policy.

Policies, for a match that overlaps entities of the model:

- ``dictionary``: the match wins; the model's overlapping entities go.
- ``model``: the model's entity wins when it is confident (probability at least ``confident``,
  0.5 by default); a match may replace only entities the model itself doubts.
- ``gaps``: the match is added only where the model found nothing; every overlap keeps the model's.

Matches that do not overlap a model entity are added under every policy. A match must begin and
end on the model's token boundaries (an English phrase inside a longer word is no match). A
dictionary match must also begin and end on the segmenter's (jieba's) word boundaries wherever a
letter, digit or Chinese character meets another: in Chinese, where every character is a token,
北大 is no match in 华北大部, nor 高通 in 高通胀, nor Google in Googles (a rule's pattern says
where its own matches end, so rules are not checked); matches
overlapping one another keep the leftmost-longest, a dictionary match before a rule match of the
same place. Every match left out is kept with its reason, for ``--explain``.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Mapping, Sequence

from .dictionary import SOURCE as DICTIONARY
from .records import Dropped, Entity, Sentences, TaggedText

if TYPE_CHECKING:
    from .dictionary import PhraseDictionary
    from .rules import Rules

POLICIES = ("dictionary", "model", "gaps")


class ExtraEntities:
    """Finds dictionary and rule matches in a tagged text and merges them with its entities."""

    def __init__(
        self,
        dictionary: "PhraseDictionary | None" = None,
        rules: "Rules | None" = None,
        policy: str = "dictionary",
        confident: float = 0.5,
    ) -> None:
        if policy not in POLICIES:
            raise ValueError(f"policy: expected one of {', '.join(POLICIES)}, got {policy!r}")
        if not 0.0 <= confident <= 1.0:
            raise ValueError(f"confident: expected a probability in [0, 1], got {confident}")
        self.dictionary, self.rules, self.policy, self.confident = dictionary, rules, policy, confident

    def labels(self) -> list[str]:
        """Every label the dictionary and the rules can give."""
        found = set(self.dictionary.labels) if self.dictionary is not None else set()
        if self.rules is not None:
            found.update(p.label for p in self.rules.patterns)
        return sorted(found)

    def apply(self, tagged: TaggedText) -> TaggedText:
        """``tagged`` with the matches merged into its entities, and the matches left out."""
        text = tagged.text
        candidates = [(*found, DICTIONARY) for found in self.dictionary.occurrences(text)] if self.dictionary else []
        if self.rules is not None:
            candidates += [(e.start, e.end, e.label, e.source or "rules") for e in self.rules.matches(text)]
        if not candidates:
            return tagged
        refused: list[tuple[Candidate, str]] = []
        aligned = _on_word_edges(_on_token_boundaries(candidates, tagged, refused), text, refused)
        dropped: list[Dropped] = []
        chosen = _leftmost_longest(aligned, text, dropped)
        # A phrase inside a longer phrase that was chosen is part of it, not a match left out.
        dropped += _outside_chosen_phrases(refused, chosen, text)
        # The model's entities in text order, so that those a match overlaps are found by
        # bisection: a scan of them all for each match took minutes on one long line.
        order = sorted(range(len(tagged.entities)), key=lambda i: (tagged.entities[i].start, tagged.entities[i].end))
        model = [tagged.entities[i] for i in order]
        starts = [e.start for e in model]
        longest = max((e.end - e.start for e in model), default=0)
        removed = [False] * len(model)
        added: list[Entity] = []
        for match in chosen:
            # An entity overlapping the match starts before its end, and less than `longest` before its start.
            near = range(bisect_left(starts, match.start - longest + 1), bisect_left(starts, match.end))
            overlapping = sorted((i for i in near if not removed[i] and model[i].end > match.start), key=order.__getitem__)
            reason = self._reason_to_keep_model([model[i] for i in overlapping])
            if reason:
                dropped.append(Dropped(match, reason))
                continue
            for i in overlapping:
                removed[i] = True
            added.append(match)
        entities = [e for e, gone in zip(model, removed) if not gone] + added
        entities.sort(key=lambda e: (e.start, e.end))
        dropped.sort(key=lambda d: (d.entity.start, d.entity.end))
        return TaggedText(tagged.text, entities, tagged.sentences, [*tagged.dropped, *dropped])

    def _reason_to_keep_model(self, overlapping: list[Entity]) -> str | None:
        """Why the model's overlapping entities stay and the match goes; None when the match wins."""
        if not overlapping or self.policy == "dictionary":
            return None
        if self.policy == "gaps":
            return f"overlaps the model's {_describe(overlapping[0])}; policy 'gaps' adds matches only where the model found nothing"
        sure = [e for e in overlapping if e.confidence is None or e.confidence >= self.confident]
        if sure:
            return (
                f"overlaps the model's {_describe(sure[0])}; policy 'model' keeps the model's entities "
                f"of confidence {self.confident:g} or more"
            )
        return None


def _describe(entity: Entity) -> str:
    confidence = f", confidence {entity.confidence:.2f}" if entity.confidence is not None else ""
    origin = f" from the {entity.source}" if entity.source else ""
    return f"'{entity.text}' ({entity.label}{confidence}{origin})"


# A match before it is merged: (start, end, label, source). Plain tuples, because a large
# dictionary finds several times as many phrases as it keeps.
Candidate = tuple[int, int, str, str]


def _entity(candidate: Candidate, text: str) -> Entity:
    start, end, label, source = candidate
    return Entity(start, end, label, text[start:end], None, source)


def _on_token_boundaries(candidates: list[Candidate], tagged: TaggedText, refused: list[tuple[Candidate, str]]) -> list[Candidate]:
    """The candidates that begin and end on the model's tokens; the others go to ``refused``, with why."""
    tokens = tagged.sentences
    if not isinstance(tokens, Sentences):  # built by hand: put its tokens in text order for the lookups
        tokens = Sentences.of([sorted(chain.from_iterable(tokens))])
    if len(tokens.starts) == len(tagged.text):  # one character a token, every one: every candidate sits on tokens
        return candidates
    kept = []
    for candidate in candidates:
        start, end = candidate[0], candidate[1]
        if tokens.starts_token(start) and tokens.ends_token(end):
            kept.append(candidate)
        else:
            cut = tokens.token_around(start) or tokens.token_around(end)
            where = f"cuts through the token '{tagged.text[cut[0]:cut[1]]}'" if cut else "does not begin and end on tokens"
            refused.append((candidate, f"{where} of the model's tokenization"))
    return kept


def _on_word_edges(candidates: list[Candidate], text: str, refused: list[tuple[Candidate, str]]) -> list[Candidate]:
    """The candidates, less the dictionary phrases that begin or end inside one of jieba's words
    where two letters, digits or Chinese characters meet (the segmenter keeps runs of Latin letters
    and digits whole); those go to ``refused``, with the word they cut."""
    edges = {place for candidate in candidates if candidate[3] == DICTIONARY for place in candidate[:2]}
    if not edges:
        return candidates
    cuts = _places_inside_words(text, edges)
    kept = []
    for candidate in candidates:
        word = (cuts.get(candidate[0]) or cuts.get(candidate[1])) if candidate[3] == DICTIONARY else None
        if word is None:
            kept.append(candidate)
        else:
            refused.append((candidate, f"cuts through the word '{text[word[0]:word[1]]}' of the segmenter"))
    return kept


def _places_inside_words(text: str, asked: set[int]) -> dict[int, tuple[int, int]]:
    """The ``asked`` places that lie strictly inside one of jieba's words of ``text`` where two
    letters, digits or Chinese characters meet, with that word's offsets: a phrase may not begin
    or end there. Only asked places are kept, so a huge line holds no entry per character."""
    from .segment import cut

    places: dict[int, tuple[int, int]] = {}
    begin = 0
    for word in cut(text):
        end = begin + len(word)
        for place in asked.intersection(range(begin + 1, end)) if end - begin > 1 else ():
            if text[place - 1].isalnum() and text[place].isalnum():
                places[place] = (begin, end)
        begin = end
    return places


def _leftmost_longest(candidates: list[Candidate], text: str, dropped: list[Dropped]) -> list[Entity]:
    """Non-overlapping matches: earliest first, then longest, dictionary before rules on a tie.
    A dictionary phrase inside a chosen longer one is left out silently: it is part of that one."""
    order = sorted(candidates, key=lambda c: (c[0], c[0] - c[1], c[3] != DICTIONARY))
    chosen: list[Entity] = []
    for candidate in order:
        if not chosen or candidate[0] >= chosen[-1].end:
            chosen.append(_entity(candidate, text))
        elif not _within_phrase(candidate, chosen[-1]):
            dropped.append(Dropped(_entity(candidate, text), f"overlaps {_describe(chosen[-1])}, which starts earlier or is longer"))
    return chosen


def _within_phrase(candidate: Candidate, phrase: Entity) -> bool:
    """Whether ``candidate`` is a dictionary phrase lying within the dictionary match ``phrase``."""
    start, end, _, source = candidate
    return source == phrase.source == DICTIONARY and phrase.start <= start and end <= phrase.end


def _outside_chosen_phrases(refused: list[tuple[Candidate, str]], chosen: list[Entity], text: str) -> list[Dropped]:
    """The refused candidates as dropped matches, but those within a chosen dictionary phrase
    (``chosen``: non-overlapping, in text order)."""
    starts = [c.start for c in chosen]
    dropped = []
    for candidate, reason in refused:
        holder = bisect_right(starts, candidate[0]) - 1
        if holder < 0 or not _within_phrase(candidate, chosen[holder]):
            dropped.append(Dropped(_entity(candidate, text), reason))
    return dropped


def extra_entities(
    dictionary: "str | Path | PhraseDictionary | Mapping[str, str] | None" = None,
    rules: "str | Sequence[str] | None" = None,
    patterns: str | Path | None = None,
    policy: str = "dictionary",
) -> "ExtraEntities | None":
    """What :func:`load` merges into a model's entities; None when nothing is asked for."""
    from .dictionary import PhraseDictionary
    from .rules import Rules

    if isinstance(dictionary, (str, Path)):
        dictionary = PhraseDictionary.read(dictionary)
    elif dictionary is not None and not isinstance(dictionary, PhraseDictionary):
        dictionary = PhraseDictionary(dict(dictionary).items())
    groups = rules.split(",") if isinstance(rules, str) else list(rules or [])
    found_rules = Rules.of(groups, patterns) if groups or patterns is not None else None
    if dictionary is None and found_rules is None:
        if policy not in POLICIES:
            raise ValueError(f"policy: expected one of {', '.join(POLICIES)}, got {policy!r}")
        return None
    return ExtraEntities(dictionary, found_rules, policy)
