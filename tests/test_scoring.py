"""The scorer against figures worked out by hand the way conlleval counts them."""

from __future__ import annotations

import pytest

from nertag.schemes import Scheme, Span, to_tags
from nertag.scoring import score, strict_scheme


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
    # Strict mode reads the prediction in BMES, which has no I-: it refuses rather than rewrite it.
    with pytest.raises(ValueError, match="convert the prediction to BMES, or use --mode conlleval"):
        score(gold, pred, "strict")


def test_strict_mode_reads_the_prediction_as_given() -> None:
    # Both use letters of BIOES, so the prediction is read as BIOES: I-PER I-PER and a lone B-LOC
    # are no entities there, however well they read as BIO.
    gold = [["B-PER", "E-PER", "O", "S-LOC"]]
    pred = [["I-PER", "I-PER", "O", "B-LOC"]]
    report = score(gold, pred, "strict")
    assert report.micro.f1 == 0.0 and report.micro.precision == 0.0 and report.micro.recall == 0.0
    assert score(gold, pred, "conlleval").micro.f1 == 1.0


@pytest.mark.parametrize("scheme", list(Scheme))
def test_identical_files_score_one_in_strict_mode(scheme: Scheme) -> None:
    found = [[Span(0, 2, "PER"), Span(2, 3, "PER"), Span(4, 7, "LOC")], [Span(1, 2, "ORG")], []]
    tags = [to_tags(spans, 7, scheme) for spans in found]
    assert strict_scheme(tags, tags) is scheme
    report = score(tags, tags, "strict")
    assert (report.micro.precision, report.micro.recall, report.micro.f1) == (1.0, 1.0, 1.0)
    assert report.micro.support == 4


@pytest.mark.parametrize(
    ("gold", "pred", "gold_scheme", "pred_scheme"),
    [
        (Scheme.BIOES, Scheme.BMES, "BIOES", "BMES"),  # M- against BIOES gold
        (Scheme.BMES, Scheme.BIOES, "BMES", "BIOES"),  # I- against BMES gold
        (Scheme.BIO, Scheme.BIOES, "BIO", "BIOES"),  # E-, S- against BIO gold
        (Scheme.BIO, Scheme.BILOU, "BIO", "BILOU"),  # L-, U- against BIO gold
        (Scheme.BMES, Scheme.BIO, "BMES", "BIO"),
    ],
)
def test_strict_mode_refuses_a_prediction_in_other_letters(gold: Scheme, pred: Scheme, gold_scheme: str, pred_scheme: str) -> None:
    found = [Span(0, 3, "PER"), Span(4, 5, "LOC")]
    with pytest.raises(ValueError) as refused:
        score([to_tags(found, 6, gold)], [to_tags(found, 6, pred)], "strict")
    message = str(refused.value)
    assert f"gold file's scheme, {gold_scheme}" in message and f"written in {pred_scheme}" in message
    assert f"convert the prediction to {gold_scheme}, or use --mode conlleval" in message


def test_strict_mode_lets_the_prediction_settle_what_gold_leaves_open() -> None:
    # Gold without I- or M- reads the same in BIOES and BMES; gold without entities in any scheme.
    gold = [["B-PER", "E-PER", "O", "S-LOC", "O"]]
    pred = [["B-PER", "M-PER", "E-PER", "S-LOC", "O"]]
    assert strict_scheme(gold, pred) is Scheme.BMES
    assert score(gold, pred, "strict").micro.f1 == 0.5
    empty = [["O"] * 5]
    assert strict_scheme(empty, pred) is Scheme.BMES
    assert score(empty, pred, "strict").micro.precision == 0.0


def test_misaligned_input_is_refused() -> None:
    with pytest.raises(ValueError, match="same sentences"):
        score([["O", "O"]], [["O"]])


def test_a_label_map_applies_to_the_model_as_to_the_gold(tmp_path) -> None:
    """Scoring with --model and scoring the same model's tagging from a file give one figure."""
    from click.testing import CliRunner

    from cli import main

    from .conftest import SHARED_CORPORA

    blocks = (SHARED_CORPORA / "cluener/train.bio").read_text(encoding="utf-8").split("\n\n")
    gold = tmp_path / "gold.bio"
    gold.write_text("\n\n".join([b for b in blocks if "POSITION" in b][:20]) + "\n\n", encoding="utf-8")
    runner = CliRunner()
    tagged = runner.invoke(main, ["tag", str(gold), "--model", "zh-cluener", "--input-format", "conll", "--format", "conll",
                                  "-o", str(tmp_path / "pred.bio")])
    assert tagged.exit_code == 0, tagged.stderr
    by_model = runner.invoke(main, ["score", str(gold), "--model", "zh-cluener", "--label-map", "POSITION=O", "--json"])
    by_file = runner.invoke(main, ["score", str(gold), str(tmp_path / "pred.bio"), "--label-map", "POSITION=O", "--json"])
    assert by_model.exit_code == 0 and by_file.exit_code == 0, by_model.stderr + by_file.stderr
    assert by_model.stdout == by_file.stdout
