"""Tag schemes as small rule tables: detection, span extraction, conversion, legal transitions.

Every scheme is reduced to half-open token spans ``Span(start, end, label)`` and rebuilt from
them, so converting between any two schemes is ``to_tags(spans(tags, src), length, dst)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Iterable, Sequence

from .errors import TagError


class Scheme(str, Enum):
    BIO = "BIO"  # IOB2: every entity opens with B-
    IOB1 = "IOB1"  # B- only where two same-type entities touch
    BIOES = "BIOES"
    BMES = "BMES"  # BIOES with M- for inside
    BILOU = "BILOU"

    @classmethod
    def parse(cls, name: str) -> "Scheme":
        try:
            return cls(name.upper().replace("IOB2", "BIO"))
        except ValueError:
            known = ", ".join(s.value for s in cls)
            raise ValueError(f"unknown tag scheme {name!r}; expected one of {known}") from None


# The schemes a CRF decodes in (training converts every corpus to one of them; users get BIO).
DECODING_SCHEMES = (Scheme.BIO, Scheme.BIOES)

# What each scheme writes for: the first, inside and last token of a longer entity, and a
# one-token entity.
_WRITE_PREFIXES: dict[Scheme, tuple[str, str, str, str]] = {
    Scheme.BIO: ("B", "I", "I", "B"),
    Scheme.IOB1: ("I", "I", "I", "I"),  # the B- case is handled when writing
    Scheme.BIOES: ("B", "I", "E", "S"),
    Scheme.BMES: ("B", "M", "E", "S"),
    Scheme.BILOU: ("B", "I", "L", "U"),
}

# Prefix letters mapped to their role: begin, inside, end, single.
_ROLE = {"B": "B", "I": "I", "M": "I", "E": "E", "L": "E", "S": "S", "U": "S"}
KNOWN_PREFIXES = frozenset(_ROLE)

# The prefix letters each scheme writes, O aside (IOB1 writes B- where same-type entities touch).
_LETTERS: dict[Scheme, frozenset[str]] = {
    Scheme.BIO: frozenset("BI"),
    Scheme.IOB1: frozenset("BI"),
    Scheme.BIOES: frozenset("BIES"),
    Scheme.BMES: frozenset("BMES"),
    Scheme.BILOU: frozenset("BILU"),
}


def prefixes(scheme: Scheme) -> frozenset[str]:
    """The prefix letters ``scheme`` writes (``O`` aside): a tag with any other letter is not one of its tags."""
    return _LETTERS[scheme]


@dataclass(frozen=True, order=True)
class Span:
    """A half-open span ``[start, end)`` of tokens (or characters) with its label."""

    start: int
    end: int
    label: str


def split_tag(tag: str) -> tuple[str, str]:
    """``"B-PER" -> ("B", "PER")``, ``"O" -> ("O", "")``; labels may contain hyphens."""
    if tag == "O":
        return "O", ""
    prefix, sep, label = tag.partition("-")
    if not sep or prefix not in KNOWN_PREFIXES or not label:
        raise TagError(f"unknown tag {tag!r}: expected O or a prefix B, I, M, E, S, L, U and a label, like B-PER")
    return prefix, label


def label_of(tag: str) -> str:
    """The entity label of a tag, "" for O: ``"B-PER" -> "PER"``."""
    return split_tag(tag)[1]


def labels_of(tags: Iterable[str]) -> list[str]:
    """The distinct entity labels of some tags, sorted."""
    return sorted({label_of(tag) for tag in tags} - {""})


def detect_scheme(tag_sequences: Iterable[Sequence[str]]) -> Scheme:
    """Guess the scheme of a corpus from the prefixes it uses.

    E/S mean BIOES (BMES if inside is written M), L/U mean BILOU.  With only B/I/O, a corpus
    where some entity opens with I- is IOB1, otherwise BIO.
    """
    prefixes: set[str] = set()
    opens_with_inside = False
    for tags in tag_sequences:
        previous = "O"
        for tag in tags:
            prefix, label = split_tag(tag)
            prefixes.add(prefix)
            if prefix == "I" and (previous == "O" or split_tag(previous)[1] != label):
                opens_with_inside = True
            previous = tag
    if prefixes & {"L", "U"}:
        return Scheme.BILOU
    if prefixes & {"E", "S", "M"}:
        return Scheme.BMES if "M" in prefixes and "I" not in prefixes else Scheme.BIOES
    return Scheme.IOB1 if opens_with_inside else Scheme.BIO


def spans(tags: Sequence[str]) -> list[Span]:
    """Extract entity spans from tags of any scheme, leniently.

    The rules, one per role: B opens an entity; S is a whole entity; I/M continue an open entity of
    the same label and otherwise open one (as conlleval does for an orphan I-); E closes the open
    entity of its label, or is a one-token entity if none is open.
    """
    found: list[Span] = []
    start, label = -1, ""

    def close(end: int) -> None:
        nonlocal start, label
        if start >= 0:
            found.append(Span(start, end, label))
        start, label = -1, ""

    for i, tag in enumerate(tags):
        prefix, tag_label = split_tag(tag)
        role = _ROLE.get(prefix, "O")
        if role == "O":
            close(i)
        elif role == "B":
            close(i)
            start, label = i, tag_label
        elif role == "S":
            close(i)
            found.append(Span(i, i + 1, tag_label))
        elif role == "I":
            if start < 0 or label != tag_label:
                close(i)
                start, label = i, tag_label
        else:  # E
            if start < 0 or label != tag_label:
                close(i)
                start, label = i, tag_label
            close(i + 1)
    close(len(tags))
    return found


def to_tags(entity_spans: Iterable[Span], length: int, scheme: Scheme) -> list[str]:
    """Write spans over ``length`` tokens in ``scheme``; spans must not overlap."""
    tags = ["O"] * length
    first, inside, last, single = _WRITE_PREFIXES[scheme]
    previous_end, previous_label = -1, ""
    for span in sorted(entity_spans):
        if span.start < previous_end or span.end > length or span.start >= span.end:
            raise ValueError(f"span {span} overlaps another or lies outside {length} tokens")
        if span.end - span.start == 1:
            tags[span.start] = f"{single}-{span.label}"
        else:
            tags[span.start] = f"{first}-{span.label}"
            for i in range(span.start + 1, span.end - 1):
                tags[i] = f"{inside}-{span.label}"
            tags[span.end - 1] = f"{last}-{span.label}"
        if scheme is Scheme.IOB1 and span.start == previous_end and span.label == previous_label:
            tags[span.start] = f"B-{span.label}"
        previous_end, previous_label = span.end, span.label
    return tags


def convert(tags: Sequence[str], target: Scheme) -> list[str]:
    """Convert one sentence's tags from any scheme to ``target``."""
    return to_tags(spans(tags), len(tags), target)


def relabel(tags: Sequence[str], mapping: dict[str, str], scheme: Scheme) -> list[str]:
    """``tags`` with each entity's label mapped (labels not in ``mapping`` stay), written in
    ``scheme``; an entity mapped to ``O`` is dropped. Entities stay whole: a mapped entity keeps
    its boundaries, so two neighbours mapped to one label remain two entities."""
    kept = [Span(s.start, s.end, mapping.get(s.label, s.label)) for s in spans(tags)]
    return to_tags([s for s in kept if s.label != "O"], len(tags), scheme)


def label_problem(label: str, spaces_allowed: bool = False) -> str | None:
    """Why ``label`` cannot name an entity type, or None when it can: not empty, one word unless
    ``spaces_allowed`` (CoNLL columns split at spaces; JSON holds any), not O (no entity), not a
    tag (B-PER would be written B-B-PER; E-mail may be a label), and valid Unicode."""
    if not label:
        return "is empty"
    if not spaces_allowed and any(c.isspace() for c in label):
        return "holds a space; labels are single words (CoNLL columns are split at spaces)"
    if label == "O":
        return "means no entity"
    if label[:2] in ("B-", "I-") and len(label) > 2:  # the prefixes every scheme uses
        return f"is a tag; its label is {label[2:]}"
    try:
        label.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid Unicode (a lone surrogate)"
    return None


def parse_label_map(specs: Iterable[str]) -> dict[str, str]:
    """``["NAME=PER,ADDRESS=LOC", "POSITION=O"]`` -> ``{"NAME": "PER", "ADDRESS": "LOC", "POSITION": "O"}``;
    ``O`` drops a label."""
    mapping: dict[str, str] = {}
    for spec in specs:
        for pair in filter(None, (part.strip() for part in spec.split(","))):
            source, sep, target = (side.strip() for side in pair.partition("="))
            if not sep or not source or not target:
                raise ValueError(f"label map: expected LABEL=NEW pairs such as NAME=PER or POSITION=O, got {pair!r}")
            if any(c.isspace() for c in source + target):
                raise ValueError(f"label map: labels are single words (CoNLL columns are split at spaces), got {pair!r}")
            if source == "O":
                raise ValueError(f"label map: {pair!r}: O is no label (tokens outside entities), so it cannot be mapped")
            problem = None if target == "O" else label_problem(target)  # O drops the label
            if problem is None and ("=" in target or "," in target):
                problem = "holds = or \",\", which a label map uses between labels"
            if problem is not None:
                raise ValueError(f"label map: {pair!r}: label {target!r} {problem}")
            if source in mapping and mapping[source] != target:
                raise ValueError(f"label map: {source} is mapped twice ({mapping[source]} and {target})")
            mapping[source] = target
    return mapping


def tag_set(labels: Iterable[str], scheme: Scheme) -> list[str]:
    """All tags of ``scheme`` over ``labels``, ``O`` first, in a stable order."""
    if scheme not in DECODING_SCHEMES:
        raise ValueError(f"models decode in {' or '.join(s.value for s in DECODING_SCHEMES)}, not {scheme.value}")
    prefixes = "BI" if scheme is Scheme.BIO else "BIES"
    return ["O"] + [f"{p}-{label}" for label in sorted(set(labels)) for p in prefixes]


def allowed_transitions(tags: Sequence[str], scheme: Scheme) -> tuple[set[tuple[int, int]], set[int], set[int]]:
    """Legal ``(from, to)`` tag-index pairs and the tags that may start and end a sentence.

    Only BIO and BIOES are used for decoding, so only they have rules.
    """
    parsed = [split_tag(t) for t in tags]
    pairs: set[tuple[int, int]] = set()
    if scheme is Scheme.BIO:
        # I-X only after B-X or I-X; everything else may follow anything.
        for i, (_, from_label) in enumerate(parsed):
            for j, (to_prefix, to_label) in enumerate(parsed):
                if to_prefix != "I" or (parsed[i][0] in "BI" and from_label == to_label):
                    pairs.add((i, j))
        starts = {j for j, (p, _) in enumerate(parsed) if p != "I"}
        ends = set(range(len(tags)))
    elif scheme is Scheme.BIOES:
        for i, (from_prefix, from_label) in enumerate(parsed):
            open_entity = from_prefix in "BI"
            for j, (to_prefix, to_label) in enumerate(parsed):
                if open_entity:
                    # An open entity must continue (I) or close (E) with its own label.
                    legal = to_prefix in "IE" and to_label == from_label
                else:
                    # After O, E or S only a new entity (B, S) or O may come.
                    legal = to_prefix in ("O", "B", "S")
                if legal:
                    pairs.add((i, j))
        starts = {j for j, (p, _) in enumerate(parsed) if p in ("O", "B", "S")}
        ends = {j for j, (p, _) in enumerate(parsed) if p in ("O", "E", "S")}
    else:
        raise ValueError(f"no transition rules for {scheme.value}; decode in {' or '.join(s.value for s in DECODING_SCHEMES)}")
    return pairs, starts, ends


def continuation_tags(tags: Sequence[str], scheme: Scheme) -> list[frozenset[int]]:
    """For each tag, the indices of the tags that, written right after it, would lengthen an entity
    ending on it.

    An entity's probability depends on its right edge: in BIO, ``B-PER I-PER`` is the entity PER only
    if no ``I-PER`` follows.  The rule is the one :func:`spans` reads by: after B or I (M) the entity
    is still open, and an inside or closing tag of its label continues it; after E, S (L, U) or O
    nothing does.  So in BIOES, where entities end on E or S, no tag continues one.
    """
    letters = prefixes(scheme)
    parsed = [split_tag(t) for t in tags]
    for tag, (prefix, _) in zip(tags, parsed):
        if prefix != "O" and prefix not in letters:
            raise ValueError(
                f"tag {tag!r} is not a {scheme.value} tag: expected O or prefixes {', '.join(sorted(letters))}"
            )
    continuing = {
        label: frozenset(j for j, (p, lab) in enumerate(parsed) if lab == label and _ROLE.get(p) in ("I", "E"))
        for prefix, label in parsed
        if prefix != "O"
    }
    return [
        continuing[label] if _ROLE.get(prefix) in ("B", "I") else frozenset()
        for prefix, label in parsed
    ]
