"""Where a tagger's entities go wrong: each predicted entity put in one kind of error, each gold
entity no prediction touches counted as missed, and a table of which type is taken for which.

An F1 says how often; this says how. A predicted entity is, in this order of precedence:

- ``exact``: the span and type of a gold entity;
- ``wrong_type``: the span of a gold entity, another type;
- ``wrong_span``: not a gold span, but overlapping a gold entity of its type;
- ``wrong_both``: not a gold span, overlapping only gold entities of other types;
- ``spurious``: overlapping no gold entity.

A gold entity is ``missed`` when no predicted entity overlaps it. Entities are read as
:func:`nertag.scoring.score` reads them in the same mode, so ``exact`` is its count of true positives.
Returns data; :meth:`Breakdown.to_text` lays it out as tables.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, fields
from typing import Sequence

from .schemes import Span
from .scoring import entities

# The kinds of error, in the order they are tested and shown.
PREDICTED_KINDS = ("exact", "wrong_type", "wrong_span", "wrong_both", "spurious")


@dataclass(frozen=True)
class Counts:
    """Entity counts for one type (or all): predicted entities by kind, gold entities missed."""

    gold: int = 0
    predicted: int = 0
    exact: int = 0
    wrong_type: int = 0
    wrong_span: int = 0
    wrong_both: int = 0
    spurious: int = 0
    missed: int = 0

    def to_json(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class Breakdown:
    """Error counts per type and in total, and the type confusion of entities.

    ``per_type`` counts predicted entities under their predicted type and gold entities (``gold``,
    ``missed``) under their gold type. ``confusion`` maps (gold type, predicted type) to how many
    predictions have a gold entity's exact span; a gold type of None counts spurious predictions,
    a predicted type of None missed gold entities. Overlaps with other boundaries are in
    ``wrong_span`` and ``wrong_both`` only.
    """

    per_type: dict[str, Counts]
    total: Counts
    confusion: dict[tuple[str | None, str | None], int]

    def to_json(self) -> dict[str, object]:
        cells = sorted(self.confusion.items(), key=lambda cell: (cell[0][0] is None, cell[0][0] or "", cell[0][1] is None, cell[0][1] or ""))
        return {
            "per_type": {label: counts.to_json() for label, counts in sorted(self.per_type.items())},
            "total": self.total.to_json(),
            "confusion": [{"gold": gold, "predicted": predicted, "count": count} for (gold, predicted), count in cells],
        }

    def to_text(self) -> str:
        """The counts and the confusion as aligned text tables, with a line saying what the columns mean."""
        return f"{_counts_table(self)}\n\n{_confusion_table(self)}\n"


def breakdown(gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]], mode: str = "conlleval") -> Breakdown:
    """Sort the predicted entities of tag sequences (sentence for sentence) into kinds of error
    against gold; ``mode`` reads entities as :func:`nertag.scoring.score` does."""
    if len(gold) != len(predicted) or any(len(g) != len(p) for g, p in zip(gold, predicted)):
        raise ValueError("gold and predicted tags must have the same sentences and lengths")
    counts: Counter[tuple[str, str]] = Counter()  # (label, kind or "gold"/"predicted")
    confusion: Counter[tuple[str | None, str | None]] = Counter()
    for gold_spans, predicted_spans in zip(entities(gold, gold, mode), entities(predicted, gold, mode)):
        for g in gold_spans:
            counts[g.label, "gold"] += 1
            if not any(_overlap(g, p) for p in predicted_spans):
                counts[g.label, "missed"] += 1
                confusion[g.label, None] += 1
        for p in predicted_spans:
            counts[p.label, "predicted"] += 1
            kind, same_span = _kind(p, gold_spans)
            counts[p.label, kind] += 1
            if same_span is not None:
                confusion[same_span.label, p.label] += 1
            elif kind == "spurious":
                confusion[None, p.label] += 1
    labels = sorted({label for label, _ in counts})
    per_type = {label: Counts(**{f.name: counts[label, f.name] for f in fields(Counts)}) for label in labels}
    total = Counts(**{f.name: sum(getattr(c, f.name) for c in per_type.values()) for f in fields(Counts)})
    return Breakdown(per_type, total, dict(confusion))


def _overlap(a: Span, b: Span) -> bool:
    return a.start < b.end and b.start < a.end


def _kind(predicted: Span, gold: Sequence[Span]) -> tuple[str, Span | None]:
    """The kind of a predicted entity and the gold entity with its exact span, if any."""
    same_span = next((g for g in gold if (g.start, g.end) == (predicted.start, predicted.end)), None)
    if same_span is not None:
        return ("exact" if same_span.label == predicted.label else "wrong_type"), same_span
    touched = [g for g in gold if _overlap(g, predicted)]
    if any(g.label == predicted.label for g in touched):
        return "wrong_span", None
    return ("wrong_both" if touched else "spurious"), None


_HEADERS = {"wrong_type": "wrong-type", "wrong_span": "wrong-span", "wrong_both": "wrong-both"}


def _counts_table(result: Breakdown) -> str:
    names = [f.name for f in fields(Counts)]
    rows = [(label, result.per_type[label]) for label in sorted(result.per_type)] + [("total", result.total)]
    first = max(len("type"), *(len(label) for label, _ in rows))
    widths = [max(len(_HEADERS.get(n, n)), 5) for n in names]
    lines = [
        "predicted entities by kind of error (under their predicted type); missed: gold entities no prediction overlaps",
        f"{'type':<{first}}" + "".join(f"  {_HEADERS.get(n, n):>{w}}" for n, w in zip(names, widths)),
    ]
    for label, counts in rows:
        lines.append(f"{label:<{first}}" + "".join(f"  {getattr(counts, n):>{w}d}" for n, w in zip(names, widths)))
    return "\n".join(lines)


def _confusion_table(result: Breakdown) -> str:
    gold_labels = sorted({g for g, _ in result.confusion if g is not None} | set(result.per_type))
    predicted_labels = sorted({p for _, p in result.confusion if p is not None} | set(result.per_type))
    rows: list[str | None] = [*gold_labels, None]
    columns: list[str | None] = [*predicted_labels, None]
    corner = "gold \\ predicted"
    first = max(len(corner), len("spurious"), *(len(label) for label in gold_labels))
    widths = [max(len(label or "missed"), 5) for label in columns]
    lines = [
        "type confusion of entities with a gold entity's exact span; spurious and missed as in the table above",
        f"{corner:<{first}}" + "".join(f"  {label or 'missed':>{w}}" for label, w in zip(columns, widths)),
    ]
    for row in rows:
        cells = []
        for column, width in zip(columns, widths):
            cell = "-" if row is None and column is None else str(result.confusion.get((row, column), 0))
            cells.append(f"  {cell:>{width}}")
        lines.append(f"{row or 'spurious':<{first}}" + "".join(cells))
    return "\n".join(lines)
