"""Kinds of error, counted on hand-made gold and predictions where every count is known."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from cli import main
from nertag.breakdown import Counts, breakdown
from nertag.schemes import Scheme, Span, to_tags
from nertag.scoring import score


def tags(found: list[Span], length: int, scheme: Scheme = Scheme.BIO) -> list[str]:
    return to_tags(found, length, scheme)


# Sentence by sentence, what each prediction is (see the comments); 8 tokens each.
GOLD = [
    tags([Span(0, 2, "PER"), Span(3, 5, "LOC"), Span(6, 7, "ORG")], 8),
    tags([Span(0, 2, "PER"), Span(4, 6, "LOC")], 8),
    tags([], 8),
    tags([Span(0, 1, "LOC")], 8),
]
PRED = [
    tags([Span(0, 2, "PER"),  # exact
          Span(3, 5, "ORG"),  # LOC's span, ORG: wrong type
          Span(5, 7, "ORG")], 8),  # overlaps gold ORG [6, 7): wrong span
    tags([Span(1, 3, "LOC"),  # overlaps only gold PER: wrong both
          Span(7, 8, "MISC")], 8),  # overlaps nothing: spurious; gold LOC [4, 6) is missed
    tags([], 8),
    tags([Span(0, 1, "LOC")], 8),  # exact
]


def test_every_kind_is_counted() -> None:
    result = breakdown(GOLD, PRED)
    assert result.total == Counts(gold=6, predicted=6, exact=2, wrong_type=1, wrong_span=1, wrong_both=1, spurious=1, missed=1)
    assert result.per_type == {
        "LOC": Counts(gold=3, predicted=2, exact=1, wrong_both=1, missed=1),
        "MISC": Counts(predicted=1, spurious=1),
        "ORG": Counts(gold=1, predicted=2, wrong_type=1, wrong_span=1),
        "PER": Counts(gold=2, predicted=1, exact=1),
    }
    assert result.confusion == {("PER", "PER"): 1, ("LOC", "LOC"): 1, ("LOC", "ORG"): 1, (None, "MISC"): 1, ("LOC", None): 1}


def test_exact_matches_are_the_scorer_true_positives() -> None:
    result = breakdown(GOLD, PRED)
    report = score(GOLD, PRED)
    assert report.micro.precision == pytest.approx(result.total.exact / result.total.predicted)
    assert report.micro.recall == pytest.approx(result.total.exact / result.total.gold)


def test_strict_mode_reads_entities_as_the_scorer_does() -> None:
    gold = [["B-PER", "E-PER", "O", "S-LOC"]]
    pred = [["I-PER", "I-PER", "O", "S-LOC"]]  # no entity in BIOES, PER in conlleval's reading
    lenient, strict = breakdown(gold, pred), breakdown(gold, pred, "strict")
    assert (lenient.total.exact, lenient.total.missed) == (2, 0)
    assert (strict.total.exact, strict.total.missed, strict.total.predicted) == (1, 1, 1)
    assert score(gold, pred, "strict").micro.precision == strict.total.exact / strict.total.predicted


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="same sentences and lengths"):
        breakdown([["O"]], [["O", "O"]])
    with pytest.raises(ValueError, match="mode must be"):
        breakdown([["O"]], [["O"]], "lenient")


_LABELS = st.sampled_from(["PER", "LOC", "ORG"])


@st.composite
def _sentence(draw: st.DrawFn) -> list[str]:
    length = draw(st.integers(1, 8))
    found, position = [], 0
    while position < length:
        width = draw(st.integers(1, 3))
        if draw(st.booleans()) and position + width <= length:
            found.append(Span(position, position + width, draw(_LABELS)))
        position += width
    return to_tags(found, length, Scheme.BIO)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(_sentence(), _sentence()), min_size=1, max_size=4))
def test_every_prediction_has_one_kind(pairs: list[tuple[list[str], list[str]]]) -> None:
    pairs = [(g, p[: len(g)] + ["O"] * (len(g) - len(p))) for g, p in pairs]  # same lengths
    gold, pred = [g for g, _ in pairs], [p for _, p in pairs]
    total = breakdown(gold, pred).total
    assert total.exact + total.wrong_type + total.wrong_span + total.wrong_both + total.spurious == total.predicted
    if total.predicted:  # seqeval warns on corpora without any entity
        assert score(gold, pred).micro.precision == pytest.approx(total.exact / total.predicted)


def _write(path: Path, sentences: list[list[str]]) -> Path:
    path.write_text("".join("".join(f"w{i} {t}\n" for i, t in enumerate(s)) + "\n" for s in sentences), encoding="utf-8")
    return path


def test_cli_prints_tables_after_the_scores(tmp_path: Path) -> None:
    gold, pred = _write(tmp_path / "gold.bio", GOLD), _write(tmp_path / "pred.bio", PRED)
    result = CliRunner().invoke(main, ["score", str(gold), str(pred), "--breakdown"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["type", "precision", "recall", "f1", "support"]
    header = next(line for line in lines if line.startswith("type ") and "exact" in line)
    assert header.split() == ["type", "gold", "predicted", "exact", "wrong-type", "wrong-span", "wrong-both", "spurious", "missed"]
    assert next(line for line in lines if line.startswith("total")).split() == ["total", "6", "6", "2", "1", "1", "1", "1", "1"]
    corner = next(line for line in lines if line.startswith("gold \\ predicted"))
    assert corner.split()[3:] == ["LOC", "MISC", "ORG", "PER", "missed"]
    assert next(line for line in lines if line.startswith("LOC ") and line in lines[lines.index(corner):]).split() == ["LOC", "1", "0", "1", "0", "1"]
    assert next(line for line in lines if line.startswith("spurious")).split() == ["spurious", "0", "1", "0", "0", "-"]
    plain = CliRunner().invoke(main, ["score", str(gold), str(pred)])
    assert "wrong-type" not in plain.stdout


def test_cli_json_has_a_breakdown_key(tmp_path: Path) -> None:
    gold, pred = _write(tmp_path / "gold.bio", GOLD), _write(tmp_path / "pred.bio", PRED)
    result = CliRunner().invoke(main, ["score", str(gold), str(pred), "--breakdown", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["breakdown"]["total"] == Counts(6, 6, 2, 1, 1, 1, 1, 1).to_json()
    assert report["breakdown"]["per_type"]["ORG"]["wrong_span"] == 1
    assert {"gold": None, "predicted": "MISC", "count": 1} in report["breakdown"]["confusion"]
    assert {"gold": "LOC", "predicted": "ORG", "count": 1} in report["breakdown"]["confusion"]
    without = json.loads(CliRunner().invoke(main, ["score", str(gold), str(pred), "--json"]).stdout)
    assert "breakdown" not in without


def test_cli_breakdown_of_a_model(en_model_dir: Path, en_path: Path) -> None:
    result = CliRunner().invoke(main, ["score", str(en_path), "--model", str(en_model_dir), "--breakdown", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    total = report["breakdown"]["total"]
    assert total["gold"] == report["micro"]["support"]
    assert total["predicted"] == 0 or report["micro"]["precision"] == pytest.approx(total["exact"] / total["predicted"])
