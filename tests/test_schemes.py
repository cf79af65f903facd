from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nertag.schemes import (
    Scheme,
    Span,
    TagError,
    allowed_transitions,
    continuation_tags,
    convert,
    detect_scheme,
    prefixes,
    spans,
    tag_set,
    to_tags,
)


def test_spans_of_each_scheme_agree() -> None:
    expected = [Span(0, 2, "PER"), Span(2, 3, "PER"), Span(4, 7, "LOC")]
    written = {
        Scheme.BIO: "B-PER I-PER B-PER O B-LOC I-LOC I-LOC",
        Scheme.IOB1: "I-PER I-PER B-PER O I-LOC I-LOC I-LOC",
        Scheme.BIOES: "B-PER E-PER S-PER O B-LOC I-LOC E-LOC",
        Scheme.BMES: "B-PER E-PER S-PER O B-LOC M-LOC E-LOC",
        Scheme.BILOU: "B-PER L-PER U-PER O B-LOC I-LOC L-LOC",
    }
    for scheme, tags in written.items():
        assert spans(tags.split()) == expected, scheme
        assert to_tags(expected, 7, scheme) == tags.split(), scheme
        assert detect_scheme([tags.split()]) is scheme


def test_orphan_inside_opens_an_entity_like_conlleval() -> None:
    assert spans(["O", "I-PER", "I-PER", "I-LOC"]) == [Span(1, 3, "PER"), Span(3, 4, "LOC")]


def test_labels_may_contain_hyphens() -> None:
    assert spans(["B-GPE-LOC", "I-GPE-LOC"]) == [Span(0, 2, "GPE-LOC")]


@pytest.mark.parametrize("tag", ["X-PER", "B", "B-", "PER", "o"])
def test_unknown_tags_are_refused(tag: str) -> None:
    with pytest.raises(TagError, match="unknown tag"):
        spans([tag])


@st.composite
def span_lists(draw: st.DrawFn) -> tuple[list[Span], int]:
    length = draw(st.integers(0, 12))
    cuts = sorted(draw(st.sets(st.integers(0, length), max_size=8)))
    found = []
    for start, end in zip(cuts, cuts[1:]):
        if draw(st.booleans()):
            found.append(Span(start, end, draw(st.sampled_from(["PER", "LOC", "ORG"]))))
    return found, length


@given(span_lists(), st.sampled_from(list(Scheme)), st.sampled_from(list(Scheme)))
def test_conversion_round_trips(case: tuple[list[Span], int], first: Scheme, second: Scheme) -> None:
    found, length = case
    tags = to_tags(found, length, first)
    assert spans(tags) == found
    assert spans(convert(tags, second)) == found
    assert convert(convert(tags, second), first) == tags


@given(span_lists(), st.sampled_from([Scheme.BIO, Scheme.BIOES]))
def test_written_tags_obey_allowed_transitions(case: tuple[list[Span], int], scheme: Scheme) -> None:
    found, length = case
    tags = to_tags(found, length, scheme)
    vocabulary = tag_set(["PER", "LOC", "ORG"], scheme)
    pairs, starts, ends = allowed_transitions(vocabulary, scheme)
    ids = [vocabulary.index(t) for t in tags]
    if ids:
        assert ids[0] in starts and ids[-1] in ends
    assert all((a, b) in pairs for a, b in zip(ids, ids[1:]))


def test_bioes_rules_forbid_unclosed_entities() -> None:
    vocabulary = tag_set(["PER", "LOC"], Scheme.BIOES)
    pairs, starts, ends = allowed_transitions(vocabulary, Scheme.BIOES)
    index = vocabulary.index
    assert (index("B-PER"), index("O")) not in pairs
    assert (index("B-PER"), index("E-LOC")) not in pairs
    assert (index("B-PER"), index("E-PER")) in pairs
    assert index("I-PER") not in starts and index("B-PER") not in ends


def test_continuation_tags_of_the_decoding_schemes() -> None:
    bio = tag_set(["PER", "LOC"], Scheme.BIO)
    named = {bio[i]: sorted(bio[j] for j in following) for i, following in enumerate(continuation_tags(bio, Scheme.BIO))}
    assert named == {"O": [], "B-LOC": ["I-LOC"], "I-LOC": ["I-LOC"], "B-PER": ["I-PER"], "I-PER": ["I-PER"]}
    bioes = tag_set(["PER"], Scheme.BIOES)
    named = {bioes[i]: sorted(bioes[j] for j in following) for i, following in enumerate(continuation_tags(bioes, Scheme.BIOES))}
    assert named == {"O": [], "B-PER": ["E-PER", "I-PER"], "I-PER": ["E-PER", "I-PER"], "E-PER": [], "S-PER": []}


def test_continuation_tags_refuse_tags_of_another_scheme() -> None:
    with pytest.raises(ValueError, match="'E-PER' is not a BIO tag: expected O or prefixes B, I"):
        continuation_tags(["O", "B-PER", "E-PER"], Scheme.BIO)


@given(span_lists(), st.sampled_from(list(Scheme)))
def test_continuation_tags_agree_with_spans(case: tuple[list[Span], int], scheme: Scheme) -> None:
    # A tag continues the one before it exactly where both lie in the same entity.
    found, length = case
    tags = to_tags(found, length, scheme)
    vocabulary = ["O"] + [f"{p}-{label}" for label in ("PER", "LOC", "ORG") for p in sorted(prefixes(scheme))]
    following = continuation_tags(vocabulary, scheme)
    ids = [vocabulary.index(t) for t in tags]
    for t in range(length - 1):
        together = any(span.start <= t and t + 1 < span.end for span in found)
        assert (ids[t + 1] in following[ids[t]]) == together, (tags, t)
