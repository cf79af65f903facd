"""Corpus styles: a model trained on several corpora learns each one's conventions, and tags in
the one it is told to (nertag train --style-dim / --tag-style, tag and score --style, load(style=))."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from cli import main
from nertag.config import ModelConfig
from nertag.conll import Sentence

PLACES = ["北京", "上海", "广州", "深圳", "南京"]
VERBS = ["在", "去了", "来到", "离开"]


def _corpus(path: Path, brand_tag: str) -> Path:
    """Sentences "苹果在北京" and the like; the two corpora disagree on whether 苹果 is an ORG."""
    lines = []
    for place in PLACES:
        for verb in VERBS:
            brand = ["B-ORG", "I-ORG"] if brand_tag == "ORG" else ["O", "O"]
            for char, tag in zip(f"苹果{verb}{place}", brand + ["O"] * len(verb) + ["B-LOC", "I-LOC"]):
                lines.append(f"{char} {tag}")
            lines.append("")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def style_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("styles")
    brands = _corpus(folder / "brands.bio", "ORG")
    plain = _corpus(folder / "plain.bio", "O")
    out = folder / "model"
    result = CliRunner().invoke(main, [
        "train", "--train", str(brands), "--train", str(plain), "--dev", str(brands), "--out", str(out),
        "--epochs", "12", "--patience", "12", "--lr", "0.02", "--hidden-size", "16", "--word-dim", "16",
        "--bigram-dim", "8", "--segment-dim", "0", "--style-dim", "4", "--tag-style", "brands.bio",
    ])
    assert result.exit_code == 0, result.output
    return out


def _labels(model: Path, style: str | None) -> list[str]:
    from nertag import load

    return [entity.label for entity in load(model, style=style).tag("苹果来到上海")]


def test_each_style_follows_its_corpus(style_model: Path) -> None:
    model = json.loads((style_model / "config.json").read_text(encoding="utf-8"))["model"]
    assert model["styles"] == ["brands.bio", "plain.bio"] and model["tag_style"] == "brands.bio"
    assert _labels(style_model, None) == ["ORG", "LOC"]  # the model's own tag style
    assert _labels(style_model, "plain.bio") == ["LOC"]
    assert "LOC" in _labels(style_model, "")  # the mixture still finds what both agree on


def test_blended_styles_move_between_the_corpora(style_model: Path) -> None:
    from nertag import load

    tagger = load(style_model, style="brands.bio=0.75,plain.bio=0.25")
    assert tagger.style == "brands.bio=0.75,plain.bio=0.25"
    assert tagger.net is not None
    vectors = tagger.net.style_embedding.weight
    assert torch.allclose(tagger.net.tag_style_vector(), 0.75 * vectors[1] + 0.25 * vectors[2])
    assert _labels(style_model, "brands.bio=3,plain.bio=1") == [e.label for e in tagger.tag("苹果来到上海")]


def test_unknown_styles_are_refused(style_model: Path, zh_model_dir: Path) -> None:
    from nertag import load

    with pytest.raises(ValueError, match="brands.bio, plain.bio"):
        load(style_model, style="news.txt")
    with pytest.raises(ValueError, match="without --style-dim"):
        load(zh_model_dir, style="plain.bio")
    tagger = load(style_model)
    tagger.style = "plain.bio"
    assert tagger.style == tagger.config.tag_style == "plain.bio"  # and so saved with it
    for odd in ("brands.bio=1e39", "brands.bio=1e-50,plain.bio=1e-50"):
        tagger.style = odd  # proportions: no overflow, no 0/0
        assert tagger.net is not None and torch.isfinite(tagger.net.tag_style_vector()).all()
    for bad in (",", "brands.bio=0", "brands.bio=inf", "brands.bio=1e308,plain.bio=1e308"):
        with pytest.raises(ValueError, match="style"):
            tagger.style = bad


def test_tag_and_score_take_a_style(style_model: Path, tmp_path: Path) -> None:
    tagged = CliRunner().invoke(main, ["tag", "--model", str(style_model), "--style", "plain.bio"], input="苹果来到上海\n")
    assert tagged.exit_code == 0, tagged.output
    assert [e["label"] for e in json.loads(tagged.stdout)["entities"]] == ["LOC"]
    refused = CliRunner().invoke(main, ["tag", "--style", "plain.bio"], input="苹果\n")
    assert refused.exit_code == 2 and "--model" in refused.output
    gold = _corpus(tmp_path / "gold.bio", "O")
    scored = CliRunner().invoke(main, ["score", str(gold), "--model", str(style_model), "--style", "plain.bio", "--json"])
    assert scored.exit_code == 0, scored.output
    assert json.loads(scored.stdout)["micro"]["f1"] == pytest.approx(1.0)


def test_the_onnx_backend_computes_in_the_chosen_style(style_model: Path) -> None:
    pytest.importorskip("onnxruntime")
    from nertag import load

    tagger = load(style_model, backend="onnx", style="plain.bio")
    assert tagger.style == "plain.bio"
    assert [e.label for e in tagger.tag("苹果来到上海")] == ["LOC"]
    blend = "brands.bio=0.6,plain.bio=0.4"
    onnx, torch_tagger = load(style_model, backend="onnx", style=blend), load(style_model, style=blend)
    texts = ["苹果来到上海", "苹果离开北京，去了深圳"]
    def found(tagger) -> list[list[tuple[int, int, str]]]:
        return [[(e.start, e.end, e.label) for e in r.entities] for r in tagger.tag_texts(texts)]

    assert found(onnx) == found(torch_tagger)
    with pytest.raises(ValueError, match="exported"):
        tagger.style = "brands.bio"
    tagger.style = "plain.bio=2"  # the same style, written another way


def test_an_export_keeps_the_style_it_was_made_in(style_model: Path, tmp_path: Path) -> None:
    pytest.importorskip("onnxruntime")
    from nertag import load

    out = tmp_path / "export"
    result = CliRunner().invoke(main, ["export", str(style_model), "--out", str(out), "--style", "plain.bio"])
    assert result.exit_code == 0, result.output
    exported = load(out)
    assert exported.style == "plain.bio" and [e.label for e in exported.tag("苹果来到上海")] == ["LOC"]
    bad = CliRunner().invoke(main, ["export", str(style_model), "--out", str(tmp_path / "bad"), "--style", "news.bio"])
    assert bad.exit_code != 0 and "news.bio" in bad.output and not (tmp_path / "bad").exists()


def test_spacy_and_datasets_tag_in_the_style_they_are_given(style_model: Path) -> None:
    spacy = pytest.importorskip("spacy")
    from nertag.dataset_tagger import DatasetTagger

    nlp = spacy.blank("zh")
    nlp.add_pipe("nertag", config={"model": str(style_model), "style": "plain.bio"})
    assert [span.label_ for span in nlp("苹果来到上海").ents] == ["LOC"]
    batch = DatasetTagger(str(style_model), style="plain.bio")({"text": ["苹果来到上海"]})
    assert [entity["label"] for entity in batch["entities"][0]] == ["LOC"]
    own = DatasetTagger(str(style_model))({"text": ["苹果来到上海"]})
    assert [entity["label"] for entity in own["entities"][0]] == ["ORG", "LOC"]
    with pytest.raises(ValueError, match="give the model"):
        DatasetTagger(style="plain.bio")
    with pytest.raises(ValueError, match="give the model"):
        spacy.blank("zh").add_pipe("nertag", config={"style": "plain.bio"})
    # A style the model lacks is refused when the engine is set up, not in each worker at first use.
    with pytest.raises(ValueError, match="style 'other.bio': the model's styles are"):
        DatasetTagger(str(style_model), style="other.bio")
    with pytest.raises(ValueError, match="style 'other.bio': the model's styles are"):
        spacy.blank("zh").add_pipe("nertag", config={"model": str(style_model), "style": "other.bio"})
    with pytest.raises(ValueError, match="trained without --style-dim"):
        DatasetTagger("zh-msra", style="plain.bio")



def test_an_export_is_refused_another_style_at_setup(style_model: Path, tmp_path: Path) -> None:
    """An exported network computes in the one style it was exported with; the early check reads
    that from config.json, as the loader would."""
    from nertag.dataset_tagger import DatasetTagger

    meta = json.loads((style_model / "config.json").read_text(encoding="utf-8"))
    meta["export"] = {"format": "onnx"}
    (tmp_path / "config.json").write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(ValueError, match="exported with"):
        DatasetTagger(str(tmp_path), style="plain.bio")
    DatasetTagger(str(tmp_path), style="brands.bio")  # its own style is fine


def test_serve_tags_in_the_style_it_is_given(style_model: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from starlette.testclient import TestClient

    import nertag.serve

    answers = []

    def answer_one_request(app, sock, model) -> None:  # instead of running uvicorn on the socket
        with TestClient(app) as client:
            answers.append(client.post("/tag", json={"text": "苹果来到上海"}).json())

    monkeypatch.setattr(nertag.serve, "run", answer_one_request)
    result = CliRunner().invoke(main, ["serve", "--model", str(style_model), "--port", "0", "--style", "plain.bio"])
    assert result.exit_code == 0, result.output
    assert [entity["label"] for entity in answers[0]["entities"]] == ["LOC"]
    refused = CliRunner().invoke(main, ["serve", "--style", "plain.bio"])
    assert refused.exit_code == 2 and "--model" in refused.output


def test_style_corpora_need_distinct_names(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first, second = _corpus(tmp_path / "a" / "train.bio", "ORG"), _corpus(tmp_path / "b" / "train.bio", "O")
    result = CliRunner().invoke(main, [
        "train", "--train", str(first), "--train", str(second), "--dev", str(first), "--out", str(tmp_path / "m"),
        "--epochs", "1", "--hidden-size", "8", "--style-dim", "4",
    ])
    assert result.exit_code != 0 and "train.bio" in result.output and "distinct" in result.output
    assert not (tmp_path / "m").exists()


def test_style_settings_are_checked() -> None:
    assert ModelConfig.from_json(ModelConfig(style_dim=4, styles=("a", "b")).to_json()).styles == ("a", "b")
    for bad, message in [
        (dict(styles=("a",)), "style_dim"),
        (dict(tag_style="a"), "style_dim"),
        (dict(style_dim=4, styles=("a", "a")), "distinct"),
        (dict(style_dim=4, styles=("a,b.bio",)), "rename a,b.bio"),
        (dict(style_dim=4, styles=("v=2.bio",)), "rename v=2.bio"),
        (dict(style_dim=4, styles=("a", "")), "corpus names"),
        (dict(style_dim=4, styles=("a",), tag_style="b"), "not one of"),
        (dict(style_dim=4, styles="ab"), "corpus names"),
        (dict(style_dim=4, styles=("a",), tag_style="a=0"), "positive weights"),
        (dict(style_dim=4, styles=("a",), tag_style="a=x"), "positive weights"),
        (dict(style_dim=4, styles=("a", "b"), tag_style="a=1,a=2"), "positive weights"),
        (dict(style_dim=4, styles=("a", "b"), tag_style="a=0.5,c=0.5"), "not one of"),
    ]:
        with pytest.raises(ValueError, match=message):
            ModelConfig(**bad)


def test_a_sentence_source_is_not_part_of_its_value() -> None:
    first = Sentence(("a",), ("O",), 1, source=1)
    assert first == Sentence(("a",), ("O",), 1, source=2)
    assert first.with_tags(["B-X"]).source == 1


def test_corpora_are_named_as_styles_and_fine_tuning_keeps_them() -> None:
    from nertag.commands.train import named_styles

    fresh, rows = named_styles(ModelConfig(style_dim=4), ["data/a.bio", "other/b.bio/"])
    assert fresh.styles == ("a.bio", "b.bio") and rows == [1, 2]
    assert named_styles(ModelConfig(), ["a.bio", "a.bio"]) == (ModelConfig(), [0, 0])  # no styles: anything goes
    # Fine-tuning: a corpus named as a style trains it; another trains the style the model tags in.
    initial = ModelConfig(style_dim=4, styles=("a.bio", "b.bio"), tag_style="b.bio")
    assert named_styles(initial, ["mine.bio", "a.bio"]) == (initial, [2, 1])
    blended = ModelConfig(style_dim=4, styles=("a.bio", "b.bio"), tag_style="a.bio=0.3,b.bio=0.7")
    assert named_styles(blended, ["mine.bio"]) == (blended, [2])
    mixture = ModelConfig(style_dim=4, styles=("a.bio", "b.bio"))
    assert named_styles(mixture, ["mine.bio"]) == (mixture, [0])


def test_a_style_model_fine_tunes_on_a_corpus_of_another_name(style_model: Path, tmp_path: Path) -> None:
    mine = _corpus(tmp_path / "mine.bio", "O")
    out = tmp_path / "tuned"
    result = CliRunner().invoke(main, [
        "train", "--init", str(style_model), "--train", str(mine), "--dev", str(mine), "--out", str(out), "--epochs", "1",
    ])
    assert result.exit_code == 0, result.output
    model = json.loads((out / "config.json").read_text(encoding="utf-8"))["model"]
    assert model["styles"] == ["brands.bio", "plain.bio"] and model["tag_style"] == "brands.bio"
    # The tag style is no part of the architecture: a fine-tuning run may choose another.
    reblended = tmp_path / "reblended"
    result = CliRunner().invoke(main, [
        "train", "--init", str(style_model), "--train", str(mine), "--dev", str(mine), "--out", str(reblended),
        "--epochs", "1", "--tag-style", "brands.bio=0.5,plain.bio=0.5",
    ])
    assert result.exit_code == 0, result.output
    assert json.loads((reblended / "config.json").read_text(encoding="utf-8"))["model"]["tag_style"] == "brands.bio=0.5,plain.bio=0.5"


def test_fit_trains_a_style_model_named_by_its_files(tmp_path: Path) -> None:
    import nertag
    from nertag.config import TrainConfig

    brands, plain = _corpus(tmp_path / "brands.bio", "ORG"), _corpus(tmp_path / "plain.bio", "O")
    tagger = nertag.fit(
        [brands, plain], brands, settings=TrainConfig(epochs=1), style_dim=4, tag_style="plain.bio", hidden_size=8,
    )
    assert tagger.config.styles == ("brands.bio", "plain.bio") and tagger.style == "plain.bio"


def test_datasets_of_one_size_are_styles_by_their_place(tmp_path: Path) -> None:
    import nertag
    from nertag.config import TrainConfig

    brands = nertag.read_corpus(_corpus(tmp_path / "brands.bio", "ORG"))
    plain = nertag.read_corpus(_corpus(tmp_path / "plain.bio", "O"))
    assert len(brands) == len(plain)
    tagger = nertag.fit(
        [brands, plain], brands, settings=TrainConfig(epochs=1), style_dim=4, tag_style="<Dataset 2>", hidden_size=8,
        out=tmp_path / "m",
    )
    assert tagger.config.styles == ("<Dataset 1>", "<Dataset 2>") and tagger.style == "<Dataset 2>"
    recorded = json.loads((tmp_path / "m" / "config.json").read_text(encoding="utf-8"))["training"]["train"]
    assert recorded == "<Dataset 1>, <Dataset 2>"  # the record names them as the styles do
    from nertag.commands.train import named_styles

    assert named_styles(tagger.config, [plain])[1] == [2]  # fine-tuning on a Dataset refines the tag style


def test_tag_style_without_style_dim_is_refused_before_reading(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, [
        "train", "--train", str(tmp_path / "absent.bio"), "--dev-fraction", "0.1", "--out", str(tmp_path / "m"),
        "--tag-style", "absent.bio",
    ])
    assert result.exit_code == 2 and "--style-dim" in result.output
