"""Entity dropout (``nertag train --entity-dropout``): whole gold entities read <unk> for their own
ids in a training batch; everything else in the batch is left as it was."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from cli import main
from nertag.batch import Batch
from nertag.config import TrainConfig
from nertag.entity_dropout import EntityDropout
from nertag.model import UNK_ID

BIOES = ["O", "B-LOC", "E-LOC", "I-LOC", "S-LOC", "B-PER", "E-PER", "I-PER", "S-PER"]
BIO = ["O", "B-LOC", "I-LOC", "B-PER", "I-PER"]


def _batch(tags: list[list[int]], lengths: list[int]) -> Batch:
    rows, width = len(tags), max(lengths)
    ids = torch.arange(10, 10 + rows * width).view(rows, width)
    mask = torch.arange(width).expand(rows, width) < torch.tensor(lengths).unsqueeze(1)
    ids = ids.masked_fill(~mask, 0)
    padded = torch.tensor([row + [0] * (width - len(row)) for row in tags])
    positions = torch.tensor([[1 + t % 4 for t in range(width)]] * rows).masked_fill(~mask, 0)
    return Batch(
        words=ids, mask=mask, lengths=torch.tensor(lengths), bigrams=torch.stack([ids + 1000, ids + 2000], dim=-1),
        segments=torch.stack([ids + 3000, positions], dim=-1), shapes=torch.ones(rows, width, 1, dtype=torch.long),
        tags=padded,
    )


def test_every_drawn_entity_token_reads_unk_in_each_id_feature_and_nothing_else_changes() -> None:
    # O B-PER E-PER O S-LOC | I-LOC (a stray continuation opens an entity) B-LOC I-LOC E-LOC, then padding
    batch = _batch([[0, 5, 6, 0, 4], [3, 1, 3, 2]], [5, 4])
    hidden = EntityDropout(BIOES, 0.999999)(batch)
    entity = batch.mask & (batch.tags != 0)
    for name in ("words", "bigrams", "segments"):
        before, after = getattr(batch, name), getattr(hidden, name)
        ids_before = before if name == "words" else before[..., 0] if name == "segments" else before
        ids_after = after if name == "words" else after[..., 0] if name == "segments" else after
        place = entity if name != "bigrams" else entity.unsqueeze(-1).expand_as(after)
        assert (ids_after[place] == UNK_ID).all(), name
        assert torch.equal(ids_after[~place], ids_before[~place]), name
    assert torch.equal(hidden.segments[..., 1], batch.segments[..., 1])  # the place in the word stays
    assert hidden.shapes is batch.shapes and hidden.tags is batch.tags and hidden.mask is batch.mask


def test_an_entity_is_hidden_whole_or_not_at_all() -> None:
    torch.manual_seed(3)
    # Twenty sentences of four entities each, of one, two and three tokens (BIO).
    row = [1, 0, 3, 4, 0, 1, 2, 2, 0, 3]
    batch = _batch([row] * 20, [len(row)] * 20)
    hidden = EntityDropout(BIO, 0.5)(batch).words == UNK_ID
    for start, end in [(0, 1), (2, 4), (5, 8), (9, 10)]:
        parts = hidden[:, start:end]
        assert (parts.all(dim=1) | ~parts.any(dim=1)).all()
    share = float(hidden[:, [0, 2, 5, 9]].float().mean())
    assert 0.3 < share < 0.7
    assert not hidden[:, [1, 4, 8]].any()  # tokens outside entities are never hidden


def test_two_entities_side_by_side_are_drawn_apart() -> None:
    torch.manual_seed(0)
    batch = _batch([[1, 2, 1, 2]] * 200, [4] * 200)  # B-LOC I-LOC B-LOC I-LOC
    hidden = EntityDropout(BIO, 0.5)(batch).words == UNK_ID
    assert bool((hidden[:, 0] != hidden[:, 2]).any())


def test_rate_zero_leaves_the_batch_and_the_random_stream_alone() -> None:
    batch = _batch([[0, 5, 6]], [3])
    state = torch.get_rng_state()
    assert EntityDropout(BIOES, 0.0)(batch) is batch
    assert torch.equal(torch.get_rng_state(), state)  # a seed trains as it did before the option


def test_a_rate_outside_zero_to_one_is_refused() -> None:
    for rate in (1.0, -0.1):
        with pytest.raises(ValueError, match="entity_dropout"):
            EntityDropout(BIO, rate)
        with pytest.raises(ValueError, match=r"entity_dropout: expected a number in \[0, 1\)"):
            TrainConfig(entity_dropout=rate)


def test_cli_trains_with_it_and_records_it(zh_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "model"
    result = CliRunner().invoke(main, ["train", "--train", str(zh_path), "--dev", str(zh_path), "--out", str(out),
                                       "--entity-dropout", "0.3", "--hidden-size", "8", "--epochs", "1", "--threads", "1"])
    assert result.exit_code == 0, result.output
    training = json.loads((out / "config.json").read_text(encoding="utf-8"))["training"]
    assert training["settings"]["entity_dropout"] == 0.3
    result = CliRunner().invoke(main, ["train", "--train", str(zh_path), "--dev", str(zh_path), "--out", str(tmp_path / "m2"),
                                       "--entity-dropout", "1", "--epochs", "1"])
    assert result.exit_code == 1
    assert result.stderr.strip() == "nertag: error: entity_dropout: expected a number in [0, 1), got 1.0"
    assert not (tmp_path / "m2").exists()
