"""Distillation (``nertag train --teacher``): the teacher's posteriors are soft targets per token,
the loss mixes them with the gold path's likelihood, and a student learns from a teacher alone."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from cli import main
from nertag.config import TrainConfig
from nertag.conll import read_conll
from nertag.crf import CRF
from nertag.distill import teacher_posteriors
from nertag.schemes import Scheme, allowed_transitions, tag_set
from nertag.serialize import load
from nertag.train import train

from .conftest import tiny_config


def _crf(tags: list[str]) -> CRF:
    torch.manual_seed(0)
    return CRF(len(tags), allowed_transitions(tags, Scheme.BIOES))


def test_weight_zero_is_the_gold_likelihood_and_weight_one_the_posterior_cross_entropy() -> None:
    tags = tag_set({"PER", "LOC"}, Scheme.BIOES)
    crf = _crf(tags)
    emissions = torch.randn(3, 5, len(tags))
    mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0], [1, 0, 0, 0, 0]], dtype=torch.bool)
    gold = torch.zeros(3, 5, dtype=torch.long)
    targets = crf.marginals(emissions, mask)
    alone = crf.distillation_loss(emissions, gold, mask, targets, 0.0)
    assert torch.allclose(alone, -crf.log_likelihood(emissions, gold, mask), atol=1e-4)
    # Matching its own posteriors, the loss is their entropy: the smallest cross-entropy there is.
    entropy = -(targets * targets.clamp_min(1e-30).log()).sum(2).sum(1)
    own = crf.distillation_loss(emissions, gold, mask, targets, 1.0)
    assert torch.allclose(own, entropy, atol=1e-3)
    other = crf.distillation_loss(emissions + torch.randn_like(emissions), gold, mask, targets, 1.0)
    assert bool((other > own).all())


def test_the_cross_entropy_pulls_a_student_towards_the_teacher() -> None:
    tags = tag_set({"PER"}, Scheme.BIOES)
    crf = _crf(tags)
    mask = torch.ones(2, 6, dtype=torch.bool)
    with torch.no_grad():
        targets = crf.marginals(torch.randn(2, 6, len(tags)) * 3, mask)
    emissions = torch.zeros(2, 6, len(tags), requires_grad=True)
    optimizer = torch.optim.Adam([emissions], lr=0.1)
    first = None
    for _ in range(200):
        loss = crf.distillation_loss(emissions, torch.zeros(2, 6, dtype=torch.long), mask, targets, 1.0).sum()
        first = first if first is not None else float(loss.detach())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    reached = crf.marginals(emissions.detach(), mask)
    assert (reached - targets).abs().max() < 0.05
    assert float(loss.detach()) < first


def test_teacher_posteriors_are_distributions_in_the_students_tag_order(zh_model_dir: Path, zh_path: Path) -> None:
    teacher = load(zh_model_dir)
    sentences = [s.tokens for s in read_conll(zh_path)]
    with_empty = [sentences[0], [], *sentences[1:]]
    student_tags = list(reversed(teacher.tags))
    posteriors = teacher_posteriors(teacher, with_empty, student_tags, max_tokens=64)
    assert posteriors.shape == (sum(map(len, sentences)), len(student_tags))
    assert torch.allclose(posteriors.sum(1), torch.ones(len(posteriors)), atol=1e-4)
    # The teacher memorised its fixture: its most likely tag is its own decoded tag, token by token.
    decoded = [tag for row in teacher.predict(sentences) for tag in row]
    best = [student_tags[i] for i in posteriors.argmax(1).tolist()]
    agree = sum(a.split("-")[-1] == b.split("-")[-1] for a, b in zip(decoded, best)) / len(decoded)
    assert agree > 0.95
    with pytest.raises(ValueError, match="teacher decodes tags"):
        teacher_posteriors(teacher, sentences, tag_set({"PER"}, Scheme.BIOES))


def test_a_student_trained_on_the_teachers_posteriors_alone_learns_its_tags(zh_model_dir: Path, zh_path: Path) -> None:
    teacher = load(zh_model_dir)
    sentences = read_conll(zh_path)
    # No gold tags at all: whatever the student finds, it learned from the teacher (its labels
    # come from the teacher too).
    blank = [type(s)(s.tokens, tuple("O" for _ in s.tokens)) for s in sentences]
    taught = [s.tokens for s in sentences]
    config = tiny_config(sentences, bigram_dim=8, segment_dim=8, dropout=0.1, word_dropout=0.0)
    settings = TrainConfig(epochs=60, patience=60, lr=0.01, ema_decay=0.0, threads=1, teacher_weight=1.0)
    student, _ = train(blank, sentences, config, settings, teacher=teacher)
    expected = teacher.predict(taught)
    assert sum(tag != "O" for row in expected for tag in row) > 10

    def agreement(tagger: object) -> float:
        found = tagger.predict(taught)  # type: ignore[attr-defined]
        return sum(a == b for x, y in zip(expected, found) for a, b in zip(x, y)) / sum(map(len, expected))

    assert agreement(student) > 0.95
    assert sorted(student.tags) == sorted(teacher.tags)
    # Without the teacher the same run knows no label and tags everything O (under 60% of the tokens).
    alone, _ = train(blank, sentences, config, TrainConfig(epochs=60, patience=60, lr=0.01, ema_decay=0.0, threads=1))
    assert agreement(alone) < 0.6
    with pytest.raises(ValueError, match="needs a teacher"):
        train(blank, sentences, config, settings)
    with pytest.raises(ValueError, match="teaches nothing"):
        train(blank, sentences, config, TrainConfig(epochs=1, teacher_weight=0.0), teacher=teacher)
    with pytest.raises(ValueError, match="decodes in BIOES"):
        train(sentences, sentences, tiny_config(sentences, scheme="BIO"), settings, teacher=teacher)


def test_cli_teacher_options(zh_model_dir: Path, zh_path: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "student"
    result = runner.invoke(main, ["train", "--train", str(zh_path), "--dev", str(zh_path), "--out", str(out),
                                  "--teacher", str(zh_model_dir), "--hidden-size", "8", "--epochs", "1", "--threads", "1"])
    assert result.exit_code == 0, result.output
    training = json.loads((out / "config.json").read_text(encoding="utf-8"))["training"]
    assert training["teacher"] == zh_model_dir.name and training["settings"]["teacher_weight"] == 0.5
    result = runner.invoke(main, ["train", "--train", str(zh_path), "--dev", str(zh_path), "--out", str(tmp_path / "x"),
                                  "--teacher-weight", "0.3"])
    assert result.exit_code == 2 and "--teacher-weight needs --teacher" in result.output
    before = {p.name: p.read_bytes() for p in zh_model_dir.iterdir()}
    result = runner.invoke(main, ["train", "--train", str(zh_path), "--dev", str(zh_path), "--out", str(zh_model_dir),
                                  "--teacher", str(zh_model_dir), "--epochs", "1"])
    assert result.exit_code != 0 and "teacher" in result.output
    assert {p.name: p.read_bytes() for p in zh_model_dir.iterdir()} == before


def test_fit_takes_a_teacher(zh_model_dir: Path, zh_path: Path, tmp_path: Path) -> None:
    from nertag.api import fit

    student = fit(zh_path, zh_path, out=tmp_path / "student", teacher=zh_model_dir, hidden_size=8,
                  settings=TrainConfig(epochs=1, threads=1))
    assert student.tags == load(zh_model_dir).tags
    training = json.loads((tmp_path / "student" / "config.json").read_text(encoding="utf-8"))["training"]
    assert training["teacher"] == zh_model_dir.name and training["settings"]["teacher_weight"] == 0.5
    with pytest.raises(Exception, match="teacher"):
        fit(zh_path, zh_path, out=zh_model_dir, teacher=zh_model_dir, settings=TrainConfig(epochs=1))


def test_a_bad_teacher_weight_is_one_line_and_writes_nothing(zh_model_dir: Path, zh_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "student"
    result = CliRunner().invoke(main, ["train", "--train", str(zh_path), "--dev", str(zh_path), "--out", str(out),
                                       "--teacher", str(zh_model_dir), "--teacher-weight", "1.5"])
    assert result.exit_code == 1
    assert result.stderr.strip() == "nertag: error: teacher_weight: expected a number in [0, 1], got 1.5"
    assert not out.exists()
