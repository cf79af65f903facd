"""Narrowing a trained encoder (``nertag train --init WIDE --hidden-size N``): the units kept are the
most used ones, and a network whose dropped units were unused computes exactly what the wide one did."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from cli import main
from nertag.config import ModelConfig
from nertag.conll import read_conll
from nertag.finetune import finetune_config
from nertag.model import build_network
from nertag.narrow import kept_units, narrowed_state
from nertag.serialize import load
from nertag.features import FeatureEncoder
from nertag.schemes import Scheme, tag_set

from .conftest import tiny_config


def _network(zh_path: Path, cell: str, layers: int, hidden: int):
    sentences = read_conll(zh_path)
    config = dataclasses.replace(tiny_config(sentences, bigram_dim=8), cell=cell, layers=layers, hidden_size=hidden)
    tags = tag_set(sorted({t.split("-", 1)[1] for s in sentences for t in s.tags if t != "O"}), Scheme(config.scheme))
    features = FeatureEncoder.fit([s.tokens for s in sentences], tags, config)
    torch.manual_seed(0)
    net = build_network(config, tags, features.table_sizes()).eval()
    return config, tags, features, net, sentences


def _silence(net: torch.nn.Module, hidden: int, layers: int, dead: list[torch.Tensor]) -> None:
    """Zero every weight that reads the ``dead`` units (per layer and direction), so they change nothing."""
    state = net.state_dict(keep_vars=True)
    with torch.no_grad():
        for layer in range(layers):
            for direction, suffix in enumerate(("", "_reverse")):
                units = dead[2 * layer + direction]
                state[f"encoder.weight_hh_l{layer}{suffix}"][:, units] = 0
                readers = ["emission.weight"] if layer + 1 == layers else [
                    f"encoder.weight_ih_l{layer + 1}", f"encoder.weight_ih_l{layer + 1}_reverse"
                ]
                for name in readers:
                    state[name][:, direction * hidden + units] = 0


@pytest.mark.parametrize("cell,layers", [("lstm", 1), ("lstm", 2), ("gru", 1)])
def test_a_network_narrowed_past_its_unused_units_computes_the_same(zh_path: Path, cell: str, layers: int) -> None:
    hidden, width = 12, 8
    config, tags, features, wide, sentences = _network(zh_path, cell, layers, hidden)
    generator = torch.Generator().manual_seed(1)
    dead = [torch.randperm(hidden, generator=generator)[: hidden - width].sort().values for _ in range(2 * layers)]
    _silence(wide, hidden, layers, dead)
    state = wide.state_dict()
    kept = kept_units(state, hidden, layers, width)
    for units, gone in zip(kept, dead):
        assert not set(units.tolist()) & set(gone.tolist())  # the unused units are the ones dropped
    narrow = build_network(dataclasses.replace(config, hidden_size=width), tags, features.table_sizes()).eval()
    narrow.load_state_dict(narrowed_state(state, wide.encoder, width))
    batch = features.encode([s.tokens for s in sentences]).batch(torch.arange(len(sentences)))
    with torch.inference_mode():
        wide_scores, narrow_scores = wide.emissions(batch), narrow.emissions(batch)
    assert torch.allclose(wide_scores[batch.mask], narrow_scores[batch.mask], atol=1e-5)


def test_narrowing_to_the_same_width_changes_nothing_and_wider_is_refused(zh_path: Path) -> None:
    _, _, _, net, _ = _network(zh_path, "lstm", 1, 12)
    state = net.state_dict()
    same = narrowed_state(state, net.encoder, 12)
    assert all(torch.equal(same[name], value) for name, value in state.items())
    with pytest.raises(ValueError, match="1-12 units, not 13"):
        narrowed_state(state, net.encoder, 13)


def test_fine_tuning_may_lower_hidden_size_only(zh_model_dir: Path) -> None:
    initial = load(zh_model_dir).config
    narrower = finetune_config(initial, "zh", {"hidden_size": initial.hidden_size - 4})
    assert isinstance(narrower, ModelConfig) and narrower.hidden_size == initial.hidden_size - 4
    with pytest.raises(ValueError, match="hidden_size may shrink"):
        finetune_config(initial, "zh", {"hidden_size": initial.hidden_size + 4})
    for bad in (0, -3, True):
        with pytest.raises(ValueError, match="must be a positive number of units"):
            finetune_config(initial, "zh", {"hidden_size": bad})


def test_cli_narrows_a_model_and_records_the_initial_width(zh_model_dir: Path, zh_path: Path, tmp_path: Path) -> None:
    wide = load(zh_model_dir)
    width = wide.config.hidden_size // 2
    out = tmp_path / "narrow"
    result = CliRunner().invoke(main, [
        "train", "--init", str(zh_model_dir), "--train", str(zh_path), "--dev", str(zh_path), "--out", str(out),
        "--hidden-size", str(width), "--epochs", "3", "--threads", "1", "--ema-decay", "0",
    ])
    assert result.exit_code == 0, result.output
    narrow = load(out)
    assert narrow.config.hidden_size == width and narrow.net is not None
    assert narrow.net.encoder.weight_hh_l0.shape == (4 * width, width)
    facts = json.loads((out / "config.json").read_text(encoding="utf-8"))["training"]["init"]
    assert facts["hidden_size"] == wide.config.hidden_size
    # Started from the wide model's embeddings and most used units, three epochs keep what it knew.
    text = "".join(read_conll(zh_path)[0].tokens)
    assert [e.text for e in narrow.tag(text)] == [e.text for e in wide.tag(text)]


def test_cli_refuses_a_wider_encoder_in_one_line(zh_model_dir: Path, zh_path: Path, tmp_path: Path) -> None:
    wider = load(zh_model_dir).config.hidden_size + 8
    result = CliRunner().invoke(main, [
        "train", "--init", str(zh_model_dir), "--train", str(zh_path), "--dev", str(zh_path), "--out", str(tmp_path / "m"),
        "--hidden-size", str(wider),
    ])
    assert result.exit_code == 1
    assert f"--hidden-size {wider} conflicts with" in result.stderr and "give a smaller one" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "m").exists()


def test_fit_narrows_too(zh_model_dir: Path, zh_path: Path) -> None:
    import nertag
    from nertag.config import TrainConfig

    width = load(zh_model_dir).config.hidden_size // 2
    tagger = nertag.fit(str(zh_path), str(zh_path), init=str(zh_model_dir), hidden_size=width,
                        settings=TrainConfig(epochs=1, threads=1, ema_decay=0.0))
    assert tagger.config.hidden_size == width and tagger.net is not None
    assert tagger.net.encoder.weight_hh_l0_reverse.shape == (4 * width, width)
