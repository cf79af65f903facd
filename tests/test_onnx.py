"""ONNX export and the onnxruntime backend: same emissions, entities and confidences as torch."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

import nertag
from cli import main
from nertag.builtin import builtin_models
from nertag.config import TrainConfig
from nertag.conll import read_conll
from nertag.errors import ModelError, OutputError
from nertag.onnx_export import export_onnx
from nertag.serialize import load as load_torch
from nertag.serialize import save
from nertag.tagger import Tagger
from nertag.train import train

from .conftest import SHARED_CORPORA, tiny_config

pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

MSRA_TEST = SHARED_CORPORA / "msra" / "test.bioes"
TOLERANCE = 1e-4  # on emission scores: onnxruntime's LSTM kernels are not oneDNN's
# On confidences: the CRF sums log scores of a few thousand in float32 (a unit in the last place
# is 2.4e-4 there), so on long MSRA sentences noise of 1e-5 on zh-general's emissions, fed to the
# torch CRF alone, moved confidences by up to 2.7e-4; the ONNX emissions moved them by 1.2e-4.
CONFIDENCE_TOLERANCE = 5e-4


@pytest.fixture(scope="module")
def gru_model_dir(tmp_path_factory: pytest.TempPathFactory, zh_path: Path) -> Path:
    """The features the fixture models lack: a two-layer GRU, shapes, lexicon and Latin runs,
    stored as int8 (loaded dequantized); two epochs, since only the arithmetic is compared."""
    sentences = read_conll(zh_path)
    config = tiny_config(
        sentences, cell="gru", layers=2, shape_dim=4, lexicon=True, latin_runs=True, bigram_dim=8, segment_dim=8,
    )
    tagger, _ = train(sentences, sentences, config, TrainConfig(epochs=2, patience=2, lr=0.01, ema_decay=0.0))
    return save(tagger, tmp_path_factory.mktemp("models") / "gru", weights_dtype="int8")


@pytest.fixture(params=["zh", "en", "gru"])
def model_dir(request: pytest.FixtureRequest) -> Path:
    return request.getfixturevalue(f"{request.param}_model_dir")


def _padded_batch(tagger: Tagger, token_lists: list[list[str]]):
    return tagger.features.encode(token_lists).batch(torch.arange(len(token_lists)))


def _sentences_of(path: Path) -> list[list[str]]:
    return [list(s.tokens) for s in read_conll(path)]


def _assert_same_emissions(torch_tagger: Tagger, onnx_tagger: Tagger, token_lists: list[list[str]]) -> None:
    batch = _padded_batch(torch_tagger, token_lists)
    assert len(set(batch.lengths.tolist())) > 2, "the batch should mix lengths"
    with torch.inference_mode():
        expected = torch_tagger._emissions(batch)
        found = onnx_tagger._emissions(batch)
    assert found.shape == expected.shape and found.dtype == torch.float32
    assert torch.allclose(found[batch.mask], expected[batch.mask], atol=TOLERANCE, rtol=0)


def _assert_same_entities(torch_tagger: Tagger, onnx_tagger: Tagger, texts: list[str]) -> None:
    expected, found = torch_tagger.tag_many(texts), onnx_tagger.tag_many(texts)
    assert [[(e.start, e.end, e.label) for e in row] for row in found] == [[(e.start, e.end, e.label) for e in row] for row in expected]
    for row_found, row_expected in zip(found, expected):
        for a, b in zip(row_found, row_expected):
            assert a.confidence == pytest.approx(b.confidence, abs=CONFIDENCE_TOLERANCE)


def test_export_folder_gives_the_same_emissions_and_entities(model_dir: Path, tmp_path: Path, zh_path: Path, en_path: Path) -> None:
    out = export_onnx(model_dir, tmp_path / "export")
    assert sorted(p.name for p in out.iterdir()) == ["config.json", "crf.safetensors", "emissions.onnx", "vocab.json"]
    assert json.loads((out / "config.json").read_text())["export"]["format"] == "onnx"
    assert (out / "vocab.json").read_bytes() == (model_dir / "vocab.json").read_bytes()
    torch_tagger, onnx_tagger = load_torch(model_dir), nertag.load(out)
    assert (torch_tagger.backend, onnx_tagger.backend, onnx_tagger.net) == ("torch", "onnx", None)
    sentences = _sentences_of(en_path if torch_tagger.config.token_unit == "word" else zh_path)
    _assert_same_emissions(torch_tagger, onnx_tagger, sentences[:7])  # not the exported example's batch size
    _assert_same_emissions(torch_tagger, onnx_tagger, sentences)
    texts = [("" if torch_tagger.config.token_unit == "char" else " ").join(tokens) for tokens in sentences]
    _assert_same_entities(torch_tagger, onnx_tagger, texts + ["iPhone6和Google在北京", ""])
    assert onnx_tagger.predict(sentences) == torch_tagger.predict(sentences)
    assert onnx_tagger.nbest(sentences[:3], 2)[0][0][0] == torch_tagger.nbest(sentences[:3], 2)[0][0][0]


def test_backend_onnx_exports_in_memory(zh_model_dir: Path, zh_path: Path) -> None:
    tagger = nertag.load(zh_model_dir, backend="onnx")
    assert tagger.backend == "onnx" and tagger.precision == "float32"
    assert not any(p.name.endswith(".onnx") for p in zh_model_dir.iterdir())  # nothing written beside the model
    torch_tagger = nertag.load(zh_model_dir)
    assert torch_tagger.backend == "torch"
    _assert_same_entities(torch_tagger, tagger, ["".join(tokens) for tokens in _sentences_of(zh_path)])


@pytest.mark.skipif(not MSRA_TEST.is_file(), reason="../shared/corpora/msra is not beside the checkout")
@pytest.mark.skipif("zh-general" not in builtin_models(), reason="zh-general is not shipped")
def test_builtin_model_parity_on_msra_test(tmp_path: Path) -> None:
    sentences = _sentences_of(MSRA_TEST)[:300]
    out = export_onnx(builtin_models()["zh-general"].path, tmp_path / "zh-general")
    torch_tagger, onnx_tagger = nertag.load("zh-general"), nertag.load(out)
    _assert_same_entities(torch_tagger, onnx_tagger, ["".join(tokens) for tokens in sentences])
    ordered = sorted(sentences[:40], key=len)[::4]  # ten sentences, short to long
    _assert_same_emissions(torch_tagger, onnx_tagger, ordered)


def test_export_folder_rules(zh_model_dir: Path, en_model_dir: Path, tmp_path: Path) -> None:
    out = export_onnx(zh_model_dir, tmp_path / "export")
    export_onnx(en_model_dir, out)  # an earlier export is replaced whole
    assert nertag.load(out).config.token_unit == "word"
    with pytest.raises(OutputError, match="holds a nertag model; nertag writes a new export only over an earlier export"):
        export_onnx(zh_model_dir, en_model_dir)  # a torch model is not an export
    assert (en_model_dir / "weights.safetensors").is_file()
    empty = tmp_path / "empty"
    empty.mkdir()
    assert export_onnx(zh_model_dir, empty) == empty.resolve() and (empty / "emissions.onnx").is_file()


def test_damaged_or_mismatched_exports_raise_model_error(zh_model_dir: Path, tmp_path: Path) -> None:
    out = export_onnx(zh_model_dir, tmp_path / "export")
    with pytest.raises(ModelError, match="no torch weights"):
        nertag.load(out, backend="torch")
    graph = (out / "emissions.onnx").read_bytes()
    (out / "emissions.onnx").write_bytes(graph[: len(graph) // 2])
    with pytest.raises(ModelError, match="do not match the checksum"):
        nertag.load(out)
    config = json.loads((out / "config.json").read_text())
    del config["sha256"]["emissions.onnx"]
    (out / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelError, match="onnxruntime cannot read it") as caught:
        nertag.load(out)
    assert "\n" not in str(caught.value)
    (out / "crf.safetensors").unlink()
    with pytest.raises(ModelError, match="crf.safetensors is missing"):
        nertag.load(out)


def test_another_models_graph_is_refused(zh_model_dir: Path, en_model_dir: Path, tmp_path: Path) -> None:
    """A graph swapped in from another model's export (its checksum updated too) is refused when it
    scores another number of tags, and is one clear error when its tables do not fit the vocabulary."""
    zh = export_onnx(zh_model_dir, tmp_path / "zh")
    en = export_onnx(en_model_dir, tmp_path / "en")
    config = json.loads((zh / "config.json").read_text())
    del config["sha256"]["emissions.onnx"]
    (zh / "config.json").write_text(json.dumps(config))
    (zh / "emissions.onnx").write_bytes((en / "emissions.onnx").read_bytes())
    with pytest.raises(ModelError):
        nertag.load(zh).tag("张三在北京工作。")


def test_missing_onnxruntime_is_one_clear_error(zh_model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with pytest.raises(ModelError, match=r"needs onnxruntime.*nertag\[onnx\]"):
        nertag.load(zh_model_dir, backend="onnx")


def test_onnx_backend_settings_are_checked(zh_model_dir: Path) -> None:
    with pytest.raises(ValueError, match="bfloat16"):
        nertag.load(zh_model_dir, backend="onnx", precision="bfloat16")
    with pytest.raises(ValueError, match="backend"):
        nertag.load(zh_model_dir, backend="tensorrt")
    assert nertag.load(zh_model_dir, backend="onnx", precision="auto").precision == "float32"


def test_cli_export_then_tag(zh_model_dir: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "export"
    result = runner.invoke(main, ["export", str(zh_model_dir), "--format", "onnx", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "emissions.onnx").is_file()
    text = "张三在北京工作。\n李四去了上海。\n"
    expected = runner.invoke(main, ["tag", "--model", str(zh_model_dir), "--precision", "float32"], input=text)
    for args in (["--model", str(out)], ["--model", str(zh_model_dir), "--backend", "onnx"]):
        tagged = runner.invoke(main, ["tag", *args], input=text)
        assert tagged.exit_code == 0, tagged.output
        rows = [json.loads(line) for line in tagged.stdout.splitlines()]
        reference = [json.loads(line) for line in expected.stdout.splitlines()]
        assert [[(e["start"], e["end"], e["label"]) for e in r["entities"]] for r in rows] == [
            [(e["start"], e["end"], e["label"]) for e in r["entities"]] for r in reference
        ]
    refused = runner.invoke(main, ["tag", "--model", str(out), "--backend", "torch"], input=text)
    assert refused.exit_code == 1 and "no torch weights" in refused.stderr


def test_cli_export_refuses_a_folder_with_a_users_file(zh_model_dir: Path, tmp_path: Path) -> None:
    target = tmp_path / "mine"
    target.mkdir()
    (target / "notes.txt").write_text("keep me")
    result = CliRunner().invoke(main, ["export", str(zh_model_dir), "-o", str(target)])
    assert result.exit_code == 1
    assert "holds files nertag did not write (notes.txt)" in result.stderr and "Traceback" not in result.output
    assert [p.name for p in target.iterdir()] == ["notes.txt"] and (target / "notes.txt").read_text() == "keep me"
