"""The scorer against figures worked out by hand the way conlleval counts them."""

from __future__ import annotations

import pytest

from nertag.scoring import score


def test_known_conlleval_figures() -> None:
    gold = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "I-ORG", "I-ORG", "O"]]
    pred = [["B-PER", "I-PER", "O", "B-ORG"], ["B-ORG", "I-ORG", "O", "O"]]
    report = score(gold, pred)
    # gold: PER, LOC, ORG; predicted: PER (right), ORG at LOC (wrong), ORG too short (wrong).
    assert report.micro.precision == pytest.approx(1 / 3)
    assert report.micro.recall == pytest.approx(1 / 3)
    assert report.micro.f1 == pytest.approx(1 / 3)
    assert report.per_type["PER"].f1 == 1.0 and report.per_type["LOC"].recall == 0.0
    assert report.per_type["ORG"].precision == 0.0
    assert report.macro.f1 == pytest.approx((1.0 + 0.0 + 0.0) / 3)


def test_orphan_inside_counts_in_conlleval_mode_not_in_strict() -> None:
    gold = [["B-PER", "I-PER", "O"]]
    pred = [["I-PER", "I-PER", "O"]]
    assert score(gold, pred, "conlleval").micro.f1 == 1.0
    assert score(gold, pred, "strict").micro.f1 == 0.0


def test_bmes_gold_scores_against_bio_predictions() -> None:
    gold = [["B-NAME", "M-NAME", "E-NAME", "O", "S-LOC"]]
    pred = [["B-NAME", "I-NAME", "I-NAME", "O", "B-LOC"]]
    assert score(gold, pred, "conlleval").micro.f1 == 1.0
    assert score(gold, pred, "strict").micro.f1 == 1.0


def test_misaligned_input_is_refused() -> None:
    with pytest.raises(ValueError, match="same sentences"):
        score([["O", "O"]], [["O"]])
