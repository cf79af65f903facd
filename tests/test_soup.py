"""``nertag average``: the weight mean of models that share config and vocabularies, refused in one
line for models that do not, and never written over one of its ingredients."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from cli import main
from nertag.errors import ModelError
from nertag.serialize import load, save
from nertag.soup import averaged_weights


def _shifted_copy(model_dir: Path, out: Path, seed: int) -> Path:
    """The model with every weight moved by noise: another run from the same start, as far as averaging knows."""
    tagger = load(model_dir)
    assert tagger.net is not None
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for value in tagger.net.state_dict().values():
            if value.is_floating_point():
                value.add_(torch.randn(value.shape, generator=generator) * 0.01)
    return save(tagger, out)


def test_the_average_holds_the_mean_of_each_weight_and_names_its_ingredients(zh_model_dir: Path, tmp_path: Path) -> None:
    first, second = _shifted_copy(zh_model_dir, tmp_path / "a", 1), _shifted_copy(zh_model_dir, tmp_path / "b", 2)
    result = CliRunner().invoke(main, ["average", str(first), str(second), "--out", str(tmp_path / "soup")])
    assert result.exit_code == 0, result.output
    soup, a, b = load(tmp_path / "soup"), load(first), load(second)
    assert soup.net is not None and a.net is not None and b.net is not None
    for name, value in soup.net.state_dict().items():
        torch.testing.assert_close(value, (a.net.state_dict()[name] + b.net.state_dict()[name]) / 2)
    assert soup.config == a.config and soup.features.to_json() == a.features.to_json()
    recorded = json.loads((tmp_path / "soup" / "config.json").read_text(encoding="utf-8"))["averaged"]
    assert [entry["model"] for entry in recorded] == ["a", "b"]
    # The two copies differ from the trained model by noise only, so their mean still tags like it.
    text = "张三在北京工作。"
    assert [e.text for e in soup.tag(text)] == [e.text for e in load(zh_model_dir).tag(text)]


def test_models_of_another_config_are_refused_in_one_line_and_nothing_is_written(
    zh_model_dir: Path, en_model_dir: Path, tmp_path: Path
) -> None:
    result = CliRunner().invoke(main, ["average", str(zh_model_dir), str(en_model_dir), "--out", str(tmp_path / "soup")])
    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and "its config differs" in result.output and str(en_model_dir) in result.output
    assert not (tmp_path / "soup").exists()


def test_runs_that_differ_only_in_settings_that_shape_no_weight_are_averaged(zh_model_dir: Path, tmp_path: Path) -> None:
    tagger = load(zh_model_dir)
    tagger.config = dataclasses.replace(tagger.config, dropout=tagger.config.dropout / 2)
    other = save(tagger, tmp_path / "other")
    result = CliRunner().invoke(main, ["average", str(zh_model_dir), str(other), "--out", str(tmp_path / "soup")])
    assert result.exit_code == 0, result.output
    assert load(tmp_path / "soup").config == load(zh_model_dir).config  # the first model's settings are kept


def test_the_average_is_not_written_over_an_ingredient(zh_model_dir: Path, tmp_path: Path) -> None:
    copy = _shifted_copy(zh_model_dir, tmp_path / "a", 1)
    before = (copy / "weights.safetensors").read_bytes()
    result = CliRunner().invoke(main, ["average", str(zh_model_dir), str(copy), "--out", str(copy)])
    assert result.exit_code == 1 and "is the folder of the averaged model" in result.output
    assert (copy / "weights.safetensors").read_bytes() == before


def test_the_average_is_not_written_inside_an_ingredient(zh_model_dir: Path, tmp_path: Path) -> None:
    copy = _shifted_copy(zh_model_dir, tmp_path / "a", 1)
    result = CliRunner().invoke(main, ["average", str(zh_model_dir), str(copy), "--out", str(copy / "soup")])
    assert result.exit_code == 1 and "lies inside the folder of the averaged model" in result.output
    assert sorted(p.name for p in copy.iterdir()) == ["config.json", "vocab.json", "weights.safetensors"]


def test_one_model_is_not_an_average(zh_model_dir: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["average", str(zh_model_dir), "--out", str(tmp_path / "soup")])
    assert result.exit_code == 2 and "at least two models" in result.output


def test_whole_number_tensors_must_agree() -> None:
    same = averaged_weights([{"w": torch.tensor([1.0, 3.0]), "n": torch.tensor([2])}, {"w": torch.tensor([3.0, 5.0]), "n": torch.tensor([2])}])
    assert torch.equal(same["w"], torch.tensor([2.0, 4.0])) and torch.equal(same["n"], torch.tensor([2]))
    with pytest.raises(ModelError, match="n differ"):
        averaged_weights([{"n": torch.tensor([2])}, {"n": torch.tensor([3])}])


def test_models_reading_other_lexicon_classes_are_not_averaged() -> None:
    from types import SimpleNamespace

    from nertag.config import ModelConfig
    from nertag.soup import _same_model

    jieba = SimpleNamespace(config=ModelConfig(token_unit="char", lexicon=True), features=None)
    lac = SimpleNamespace(config=ModelConfig(token_unit="char", lexicon=True, lexicon_classes="lac"), features=None)
    for first, other in ((jieba, lac), (lac, jieba)):  # config.json omits jieba's: both orders must be caught
        with pytest.raises(ModelError, match="lexicon_classes"):
            _same_model(first, other, "b", "a")  # type: ignore[arg-type]
