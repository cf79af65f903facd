"""Train -> save -> load -> tag gives identical output; batched equals one at a time; seeds repeat."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from nertag import load, tag
from nertag.config import TrainConfig
from nertag.conll import read_conll
from nertag.errors import ModelError
from nertag.serialize import CONFIG, save
from nertag.train import train

from .conftest import tiny_config


def test_memorises_fixture_and_round_trips(zh_model_dir: Path, zh_path: Path) -> None:
    sentences = read_conll(zh_path)
    tagger = load(zh_model_dir)
    predicted = tagger.predict([s.tokens for s in sentences])
    from nertag.schemes import Scheme, convert

    gold = [convert(s.tags, Scheme.BIO) for s in sentences]
    correct = sum(p == g for p, g in zip(predicted, gold))
    assert correct >= 6, f"only {correct}/8 fixture sentences memorised"
    resaved = save(tagger, zh_model_dir.parent / "resaved")
    assert load(resaved).predict([s.tokens for s in sentences]) == predicted


def test_saved_model_is_json_and_safetensors(zh_model_dir: Path) -> None:
    assert sorted(p.name for p in zh_model_dir.iterdir()) == ["config.json", "vocab.json", "weights.safetensors"]
    config = json.loads((zh_model_dir / CONFIG).read_text(encoding="utf-8"))
    assert config["model"]["token_unit"] == "char"
    assert config["labels"] == ["CONT", "EDU", "LOC", "NAME", "ORG", "RACE", "TITLE"]


def test_batched_equals_one_at_a_time(en_model_dir: Path, en_path: Path) -> None:
    tagger = load(en_model_dir)
    token_lists = [s.tokens for s in read_conll(en_path)] + [("Peter",), ("German", "lamb", "from", "EU")]
    together = tagger.predict(token_lists)
    alone = [tagger.predict([tokens])[0] for tokens in token_lists]
    assert together == alone
    texts = ["John Smith visited New York.", "", "EU rejects German call . Peter Blackburn"]
    together_entities = tagger.tag(texts)
    alone_entities = [tagger.tag(t) for t in texts]

    def spans_of(results):
        return [[(e.start, e.end, e.label, e.text) for e in found] for found in results]

    assert spans_of(together_entities) == spans_of(alone_entities)
    # Confidences agree up to float summation order, which depends on the batch.
    for a, b in zip(together_entities, alone_entities):
        assert [e.confidence for e in a] == pytest.approx([e.confidence for e in b], abs=1e-5)


def test_network_batches_smaller_than_a_crf_pass_tag_the_same(zh_model_dir: Path, zh_path: Path) -> None:
    """With room for two short sentences a network batch, one CRF pass decodes several batches of
    different widths padded together; entities and confidences are those of one big batch."""
    tagger = load(zh_model_dir)
    token_lists = [s.tokens for s in read_conll(zh_path)]
    small = tagger.predict_spans(token_lists, max_tokens=2 * min(map(len, token_lists)))
    big = tagger.predict_spans(token_lists, max_tokens=100_000)
    assert [[span for span, _ in row] for row in small] == [[span for span, _ in row] for row in big]
    assert [p for row in small for _, p in row] == pytest.approx([p for row in big for _, p in row], abs=1e-5)
    assert any(small)


@pytest.mark.parametrize("which", ["zh", "en"])
@pytest.mark.parametrize("precision", ["float32", "bfloat16"])
def test_time_major_emissions_equal_batch_first_ones(
    which: str, precision: str, zh_model_dir: Path, zh_path: Path, en_model_dir: Path, en_path: Path
) -> None:
    """Tagging computes time-major, training batch-first: the numbers must not depend on it."""
    model_dir, path = (zh_model_dir, zh_path) if which == "zh" else (en_model_dir, en_path)
    tagger = load(model_dir)
    token_lists = [s.tokens for s in read_conll(path)]
    batch = tagger.features.encode(token_lists).batch(torch.arange(len(token_lists)))
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bfloat16"):
        time_major = tagger.net.emissions(batch)  # a network in eval mode: time-major by default
        batch_first = tagger.net.emissions(batch, time_major=False)
    assert len(set(batch.lengths.tolist())) > 1  # padding is part of what is checked
    assert time_major.shape == batch_first.shape
    assert torch.equal(time_major[batch.mask], batch_first[batch.mask])


def test_tagging_leaves_the_garbage_collector_as_it_found_it(zh_model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import gc

    tagger = load(zh_model_dir)
    tagger.tag("张三在北京")
    assert gc.isenabled()

    def broken(batch):
        raise RuntimeError("out of memory")

    monkeypatch.setattr(tagger, "_emissions", broken)
    with pytest.raises(RuntimeError):
        tagger.tag("张三在北京")
    assert gc.isenabled()
    monkeypatch.undo()
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(4) as pool:  # taggings in threads share one count: the last one turns it on
        list(pool.map(lambda _: tagger.tag_many(["张三在北京"] * 20), range(16)))
    assert gc.isenabled()
    gc.disable()
    try:
        tagger.tag("张三在北京")
        tagger.predict_spans([["张", "三"]])
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_tag_gives_offsets_into_the_input(zh_model_dir: Path) -> None:
    text = "  张三出生于北京市。\t李四毕业于清华大学，任工程师。"
    entities = tag(text, model=zh_model_dir)
    assert entities, "the memorised names should be found"
    for entity in entities:
        assert text[entity.start : entity.end] == entity.text
    assert ("张三", "NAME") in {(e.text, e.label) for e in entities}
    assert tag([text, text], model=zh_model_dir) == [entities, entities]


def test_same_seed_same_model(en_path: Path) -> None:
    sentences = read_conll(en_path)
    settings = TrainConfig(epochs=3, patience=3, seed=7)
    first, _ = train(sentences, sentences, tiny_config(sentences), settings)
    second, _ = train(sentences, sentences, tiny_config(sentences), settings)
    a, b = first.net.state_dict(), second.net.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_models_load_only_through_safe_formats(zh_model_dir: Path, tmp_path: Path) -> None:
    import shutil

    from nertag.serialize import ModelError

    broken = tmp_path / "broken"
    shutil.copytree(zh_model_dir, broken)
    data = (broken / "weights.safetensors").read_bytes()
    (broken / "weights.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelError, match="truncated or corrupted"):
        load(broken)
    (broken / "weights.safetensors").unlink()
    with pytest.raises(ModelError, match="weights.safetensors is missing"):
        load(broken)
    with pytest.raises(ModelError, match="neither a built-in model .*zh-general.* nor a model directory"):
        load(tmp_path / "nowhere")
    config = json.loads((zh_model_dir / CONFIG).read_text(encoding="utf-8"))
    config["format_version"] = 99
    shutil.copytree(zh_model_dir, tmp_path / "future")
    (tmp_path / "future" / CONFIG).write_text(json.dumps(config), encoding="utf-8")
    with pytest.raises(ModelError, match="model format 99"):
        load(tmp_path / "future")


def test_altered_weights_are_refused_by_checksum(zh_model_dir: Path, tmp_path: Path) -> None:
    import shutil

    from safetensors.torch import load_file, save_file

    from nertag.serialize import ModelError

    altered = tmp_path / "altered"
    shutil.copytree(zh_model_dir, altered)
    weights = load_file(str(altered / "weights.safetensors"))
    weights["emission.bias"] = weights["emission.bias"] + 1.0  # still a valid file, different model
    save_file(weights, str(altered / "weights.safetensors"))
    with pytest.raises(ModelError, match="do not match the checksum"):
        load(altered)


@pytest.mark.parametrize("change", [
    {"model": {"hidden_size": 200000}}, {"model": {"char_dim": -3}}, {"model": {"word_dim": 100.5}},
    {"model": {"lexicon": "yes"}}, {"sha256": "x"}, {"sha256": {"/etc/hostname": "0"}}, {"sha256": {"../x": "0"}},
])
def test_a_hostile_config_is_refused_before_anything_is_built_or_read(
    zh_model_dir: Path, tmp_path: Path, change: dict
) -> None:
    import json
    import shutil

    folder = tmp_path / "m"
    shutil.copytree(zh_model_dir, folder)
    meta = json.loads((folder / "config.json").read_text())
    for key, value in change.items():
        if isinstance(value, dict) and key == "model":
            meta[key].update(value)
        else:
            meta[key] = value
    (folder / "config.json").write_text(json.dumps(meta))
    with pytest.raises(ModelError):
        load(folder)


def test_config_that_is_a_folder_or_nested_too_deeply_is_refused(zh_model_dir: Path, tmp_path: Path) -> None:
    import shutil

    folder = tmp_path / "m"
    shutil.copytree(zh_model_dir, folder)
    (folder / "config.json").write_text("[" * 100000 + "]" * 100000)
    with pytest.raises(ModelError, match="nested too deeply"):
        load(folder)
    (folder / "config.json").unlink()
    (folder / "config.json").mkdir()
    with pytest.raises(ModelError, match="unreadable"):
        load(folder)


def test_int8_file_is_smaller_and_tags_the_same(zh_model_dir: Path, zh_path: Path, tmp_path: Path) -> None:
    tagger = load(zh_model_dir)
    tokens = [s.tokens for s in read_conll(zh_path)]
    half = save(tagger, tmp_path / "f16", weights_dtype="float16")
    small = save(tagger, tmp_path / "int8", weights_dtype="int8")
    assert (small / "weights.safetensors").stat().st_size < (half / "weights.safetensors").stat().st_size
    from safetensors.torch import load_file

    stored = load_file(str(small / "weights.safetensors"))
    assert stored["word_embedding.weight"].dtype == torch.int8
    restored = load(small)
    for name, value in tagger.net.state_dict().items():
        back = restored.net.state_dict()[name]
        assert back.dtype == value.dtype
        # Embedding rows lose at most half a step of their int8 grid; other tensors only float16 rounding.
        step = value.abs().amax(dim=-1, keepdim=True) / 127 if name.endswith("embedding.weight") else 1e-3 * value.abs()
        assert bool(((back - value).abs() <= step / 2 + 1e-3 * value.abs() + 1e-6).all()), name
    assert restored.predict(tokens) == tagger.predict(tokens)


def test_int8_table_without_scales_is_refused(zh_model_dir: Path, tmp_path: Path) -> None:
    from safetensors.torch import load_file, save_file

    from nertag.serialize import ROW_SCALE, ModelError

    small = save(load(zh_model_dir), tmp_path / "int8", weights_dtype="int8")
    weights = load_file(str(small / "weights.safetensors"))
    dropped = next(name for name in weights if name.endswith(ROW_SCALE))
    del weights[dropped]
    save_file(weights, str(small / "weights.safetensors"))
    with pytest.raises(ModelError, match="lacks matching row scales"):
        load(small)


def test_tag_reloads_a_model_saved_again_at_the_same_path(
    zh_model_dir: Path, en_model_dir: Path, zh_path: Path, tmp_path: Path
) -> None:
    text = "".join(read_conll(zh_path)[0].tokens)
    target = tmp_path / "retrained"
    english = load(en_model_dir)
    save(english, target)
    assert tag(text, model=target) == english.tag(text)
    chinese = load(zh_model_dir)
    save(chinese, target)
    assert chinese.tag(text) != english.tag(text)
    assert tag(text, model=target) == chinese.tag(text)


def test_a_scheme_that_does_not_fit_the_tags_names_the_folder(zh_model_dir: Path, tmp_path: Path) -> None:
    import json
    import shutil

    folder = tmp_path / "m"
    shutil.copytree(zh_model_dir, folder)
    meta = json.loads((folder / "config.json").read_text())
    meta["model"]["scheme"] = "BIO" if meta["model"]["scheme"] != "BIO" else "BIOES"
    (folder / "config.json").write_text(json.dumps(meta))
    tags = json.loads((folder / "vocab.json").read_text())["tags"]
    if all(t == "O" or t[:2] in ("B-", "I-") for t in tags):
        pytest.skip("the fixture's tags fit either scheme")
    with pytest.raises(ModelError, match=f"{folder}: inconsistent config.json"):
        load(folder)
