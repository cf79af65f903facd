"""Entity-level precision, recall and F1 through seqeval, always with the scheme made explicit.

``conlleval`` mode reads every sequence as the CoNLL script does (an orphan ``I-`` opens an entity);
``strict`` mode reads gold and prediction, as given, in the gold file's own scheme and hands seqeval
that scheme, since seqeval silently falls back to lenient matching when none is given.  Strict mode
never rewrites a prediction: one written with prefix letters the gold scheme lacks is refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Sequence

from .schemes import Scheme, Span, convert, detect_scheme, prefixes, spans, split_tag

if TYPE_CHECKING:  # breakdown builds on this module
    from .breakdown import Breakdown

# seqeval's scheme class for each of ours (BMES is IOBES with M- written as I-).
_SEQEVAL_SCHEMES = {
    Scheme.BIO: "IOB2",
    Scheme.IOB1: "IOB1",
    Scheme.BIOES: "IOBES",
    Scheme.BMES: "IOBES",
    Scheme.BILOU: "BILOU",
}


@dataclass(frozen=True)
class Scores:
    precision: float
    recall: float
    f1: float
    support: int = 0

    def to_json(self) -> dict[str, float | int]:
        return {"precision": self.precision, "recall": self.recall, "f1": self.f1, "support": self.support}


@dataclass(frozen=True)
class Report:
    micro: Scores
    macro: Scores
    per_type: dict[str, Scores] = field(default_factory=dict)
    breakdown: Breakdown | None = None  # kinds of error, when asked for (nertag.breakdown)

    def to_json(self) -> dict[str, object]:
        report: dict[str, object] = {
            "micro": self.micro.to_json(),
            "macro": self.macro.to_json(),
            "per_type": {label: s.to_json() for label, s in sorted(self.per_type.items())},
        }
        if self.breakdown is not None:
            report["breakdown"] = self.breakdown.to_json()
        return report


def _letters(tags: Sequence[Sequence[str]]) -> set[str]:
    return {split_tag(tag)[0] for sentence in tags for tag in sentence} - {"O"}


def strict_scheme(gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]]) -> Scheme:
    """The scheme strict scoring reads both files in: gold's, as detected.

    Gold's letters leave two cases open, settled by the prediction: gold with E-/S- but neither I-
    nor M- is BIOES or BMES alike, and gold without any entity fixes no scheme at all.  Raises
    ``ValueError`` when the prediction uses a prefix letter that scheme lacks, since reading it
    would mean rewriting it.
    """
    gold_letters, predicted_letters = _letters(gold), _letters(predicted)
    scheme = detect_scheme(gold) if gold_letters else detect_scheme(predicted)
    if scheme is Scheme.BIOES and not gold_letters & {"I", "M"} and "M" in predicted_letters:
        scheme = Scheme.BMES
    foreign = predicted_letters - prefixes(scheme)
    if foreign:
        written = detect_scheme(predicted)
        source = f"written in {written.value}" if written is not scheme else "written in a mix of schemes"
        raise ValueError(
            f"strict scoring reads both files in the gold file's scheme, {scheme.value}, but the prediction is "
            f"{source}, with {', '.join(f'{p}-' for p in sorted(foreign))} tags that {scheme.value} lacks: "
            f"convert the prediction to {scheme.value}, or use --mode conlleval"
        )
    return scheme


def _strict_tags(tags: Sequence[Sequence[str]], scheme: Scheme) -> list[list[str]]:
    # seqeval's IOBES knows I- for inside; BMES writes M-.
    if scheme is Scheme.BMES:
        return [[("I" + t[1:]) if t.startswith("M-") else t for t in s] for s in tags]
    return [list(s) for s in tags]


def entities(tags: Sequence[Sequence[str]], gold: Sequence[Sequence[str]], mode: str = "conlleval") -> list[list[Span]]:
    """The entities of each sentence of ``tags`` as :func:`score` reads them: leniently in
    ``conlleval`` mode, by seqeval's strict rules in ``gold``'s scheme in ``strict`` mode."""
    if mode == "conlleval":
        return [spans(sentence) for sentence in tags]
    if mode != "strict":
        raise ValueError(f"mode must be 'conlleval' or 'strict', got {mode!r}")
    from seqeval import scheme as seqeval_scheme

    scheme = strict_scheme(gold, tags)
    read = seqeval_scheme.Entities(_strict_tags(tags, scheme), getattr(seqeval_scheme, _SEQEVAL_SCHEMES[scheme]))
    return [[Span(e.start, e.end, e.tag) for e in sentence] for sentence in read.entities]


def score(gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]], mode: str = "conlleval") -> Report:
    """Score predicted against gold tag sequences (sentence for sentence, token for token)."""
    # Imported here: seqeval pulls in scikit-learn, which would add a second to every `nertag tag`.
    from seqeval import metrics
    from seqeval import scheme as seqeval_scheme

    if len(gold) != len(predicted) or any(len(g) != len(p) for g, p in zip(gold, predicted)):
        raise ValueError("gold and predicted tags must have the same sentences and lengths")
    if mode == "conlleval":
        gold_tags = [convert(s, Scheme.BIO) for s in gold]
        pred_tags = [convert(s, Scheme.BIO) for s in predicted]
        options: dict[str, object] = {}
    elif mode == "strict":
        # Tags are compared as written: a prediction ill-formed in gold's scheme (I-PER I-PER, or a
        # lone B-LOC, against BIOES gold) finds no entity there, rather than being repaired.
        gold_scheme = strict_scheme(gold, predicted)
        gold_tags, pred_tags = _strict_tags(gold, gold_scheme), _strict_tags(predicted, gold_scheme)
        options = {"mode": "strict", "scheme": getattr(seqeval_scheme, _SEQEVAL_SCHEMES[gold_scheme])}
    else:
        raise ValueError(f"mode must be 'conlleval' or 'strict', got {mode!r}")
    table = metrics.classification_report(gold_tags, pred_tags, output_dict=True, zero_division=0, **options)

    def scores(row: dict[str, float]) -> Scores:
        return Scores(float(row["precision"]), float(row["recall"]), float(row["f1-score"]), int(row["support"]))

    per_type = {k: scores(v) for k, v in table.items() if not k.endswith(" avg")}
    if not per_type:  # nothing to find and nothing found
        empty = Scores(0.0, 0.0, 0.0, 0)
        return Report(empty, empty, {})
    return Report(scores(table["micro avg"]), scores(table["macro avg"]), per_type)
