"""nertag inside the engines users run: datasets (map with num_proc), Ray Data, spaCy, and corpora
as Datasets for training. Each test runs the real library on a small slice."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

import nertag
from nertag.config import TrainConfig
from nertag.conll import read_conll
from nertag.corpus_dataset import read_sentences, to_dataset
from nertag.dataset_tagger import DatasetTagger
from nertag.errors import InputError

from .conftest import SHARED_CORPORA

datasets = pytest.importorskip("datasets")

TEXTS = [
    "姚明（30）年1月2日出生于河南省郑州市，祖籍浙江宁波，中国职业篮球运动员。",
    "Peter Blackburn works for the European Commission in Brussels.",
    "",
    "123 456",
    "王小明在北京大学读书。\n李华去了上海。",
]


def msra_texts(count: int) -> list[str]:
    path = SHARED_CORPORA / "msra" / "test.bioes"
    if not path.exists():
        pytest.skip("../shared/corpora is not beside the repository")
    return ["".join(s.tokens) for s in read_conll(path)[:count]]


def records(texts: list[str], model: str | None = None) -> list[list[dict]]:
    """What tag() gives, as DatasetTagger's records."""
    return [
        [{"start": e.start, "end": e.end, "label": e.label, "text": e.text, "confidence": e.confidence} for e in found]
        for found in nertag.tag(texts, model)
    ]


def assert_same(got: list[list[dict]], expected: list[list[dict]]) -> None:
    """Same entities; confidences equal up to float sums in another order (thread counts differ)."""
    assert len(got) == len(expected)
    for row, (mine, theirs) in enumerate(zip(got, expected)):
        key = [(e["start"], e["end"], e["label"], e["text"]) for e in mine]
        assert key == [(e["start"], e["end"], e["label"], e["text"]) for e in theirs], row
        assert [e["confidence"] for e in mine] == pytest.approx([e["confidence"] for e in theirs], abs=1e-4), row


def test_dataset_tagger_pickles_without_a_model_and_matches_tag() -> None:
    tagger = DatasetTagger(batch_size=2)
    out = tagger({"text": TEXTS, "id": list(range(len(TEXTS)))})
    assert out["id"] == list(range(len(TEXTS)))
    assert out["entities"] == records(TEXTS)
    assert any(e["text"] == "姚明" and e["label"] == "PER" for e in out["entities"][0])
    for text, found in zip(TEXTS, out["entities"]):
        assert all(text[e["start"] : e["end"]] == e["text"] for e in found)
    copy = pickle.loads(pickle.dumps(tagger))  # the loaded model is not pickled
    assert copy._choice is None and len(pickle.dumps(tagger)) < 1000
    assert copy({"text": TEXTS})["entities"] == out["entities"]


def test_dataset_tagger_reads_numpy_and_pandas_batches() -> None:
    numpy = pytest.importorskip("numpy")
    pandas = pytest.importorskip("pandas")
    tagger = DatasetTagger("zh-general", column="body")
    expected = records(TEXTS[:2], "zh-general")
    assert tagger({"body": numpy.array(TEXTS[:2], dtype=object)})["entities"] == expected
    frame = tagger(pandas.DataFrame({"body": TEXTS[:2]}))
    assert list(frame.columns) == ["body", "entities"] and list(frame["entities"]) == expected


def test_dataset_tagger_names_the_column_and_row_of_bad_input() -> None:
    tagger = DatasetTagger()
    with pytest.raises(KeyError, match="no column 'text'.*sentence"):
        tagger({"sentence": ["x"]})
    with pytest.raises(TypeError, match="row 1: expected a string, got NoneType"):
        tagger({"text": ["好", None]})
    with pytest.raises(ValueError, match="batch_size"):
        DatasetTagger(batch_size=0)


def test_datasets_map_with_two_processes_equals_one() -> None:
    texts = msra_texts(60) + TEXTS
    dataset = datasets.Dataset.from_dict({"text": texts})
    one = dataset.map(DatasetTagger(), batched=True, batch_size=16)
    two = dataset.map(DatasetTagger(), batched=True, batch_size=16, num_proc=2)
    assert_same(two["entities"], one["entities"])
    assert_same(one["entities"], records(texts))
    assert sum(map(len, one["entities"])) > 15


def test_a_first_batch_without_entities_does_not_fix_the_column_type() -> None:
    dataset = datasets.Dataset.from_dict({"text": ["今天天气很好。"] * 4 + ["张三在北京工作。"] * 4})
    tagger = DatasetTagger("zh-general")
    typed = dataset.map(tagger, batched=True, batch_size=4, features=tagger.features(dataset.features))
    assert typed[0]["entities"] == [] and [e["text"] for e in typed[5]["entities"]] == ["张三", "北京"]
    arrow = dataset.with_format("arrow").map(tagger, batched=True, batch_size=4).with_format(None)
    assert arrow["entities"] == typed["entities"]


def test_spacy_confidences_survive_serialisation() -> None:
    spacy = pytest.importorskip("spacy")
    from spacy.tokens import Doc

    nlp = spacy.blank("zh")
    nlp.add_pipe("nertag", config={"model": "zh-general"})
    doc = nlp("姚明出生于河南省郑州市。")
    again = Doc(nlp.vocab).from_bytes(doc.to_bytes())
    assert [(e.text, e._.nertag_confidence) for e in again.ents] == [(e.text, e._.nertag_confidence) for e in doc.ents]
    assert all(0.5 < e._.nertag_confidence <= 1.0 for e in doc.ents)


def test_spacy_pipe_in_two_processes_equals_one() -> None:
    spacy = pytest.importorskip("spacy")

    nlp = spacy.blank("zh")
    nlp.add_pipe("nertag", config={"model": "zh-general"})
    texts = ["姚明出生于河南省郑州市。", "李雷在北京工作。"] * 3
    one = [[(e.text, e.label_, e._.nertag_confidence) for e in doc.ents] for doc in nlp.pipe(texts)]
    two = [[(e.text, e.label_) for e in doc.ents] for doc in nlp.pipe(texts, n_process=2, batch_size=2)]
    assert two == [[(text, label) for text, label, _ in row] for row in one] and one[0][0][:2] == ("姚明", "PER")


def test_dataset_tagger_adds_dictionary_and_rule_matches_in_every_process(tmp_path: Path) -> None:
    phrases = tmp_path / "brands.tsv"
    phrases.write_text("腾讯\tORG\n迪士尼\tORG\n", encoding="utf-8")
    texts = ["腾讯和迪士尼在2019年3月5日签约。", "姚明出生于河南省郑州市。", ""]
    tagger = DatasetTagger("zh-general", dictionary=phrases, rules="time", policy="dictionary")
    expected = [
        [{"start": e.start, "end": e.end, "label": e.label, "text": e.text, "confidence": e.confidence, "source": e.source}
         for e in found]
        for found in nertag.load("zh-general", dictionary=phrases, rules="time").tag(texts)
    ]
    out = tagger({"text": texts})["entities"]
    assert out == expected
    assert {(e["text"], e["source"]) for e in out[0]} >= {("腾讯", "dictionary"), ("迪士尼", "dictionary"), ("2019年3月5日", "rules")}
    assert all(e["source"] is None for e in out[1])  # the model's own entities
    mapped = datasets.Dataset.from_dict({"text": texts * 4}).map(tagger, batched=True, batch_size=3, num_proc=2)
    assert [[(e["text"], e["source"]) for e in row] for row in mapped["entities"]] == [
        [(e["text"], e["source"]) for e in row] for row in out * 4
    ]
    in_memory = DatasetTagger("zh-general", dictionary={"腾讯": "ORG"})
    assert pickle.loads(pickle.dumps(in_memory))({"text": texts[:1]})["entities"][0][0]["source"] == "dictionary"
    with pytest.raises(ValueError, match="policy"):
        DatasetTagger(dictionary={"腾讯": "ORG"}, policy="loudest")
    with pytest.raises(ValueError, match="rule"):
        DatasetTagger(rules="weather")


def test_read_corpus_gives_bio_and_training_takes_datasets(tmp_path: Path, zh_path: Path) -> None:
    dataset = nertag.read_corpus(zh_path)  # BMES on disk
    assert dataset.column_names == ["tokens", "tags"]
    assert {t[:2] for row in dataset["tags"] for t in row if t != "O"} <= {"B-", "I-"}
    assert [s.tags for s in read_sentences(dataset)] == [tuple(t) for t in dataset["tags"]]
    dataset.save_to_disk(tmp_path / "saved")
    assert [s.tokens for s in read_sentences(tmp_path / "saved")] == [tuple(t) for t in dataset["tokens"]]
    tagger = nertag.fit(
        [dataset.select(range(4)), tmp_path / "saved"], dataset, out=tmp_path / "model",
        settings=TrainConfig(epochs=2, lr=0.01), word_dim=8, hidden_size=8, bigram_dim=4, segment_dim=4,
    )
    assert tagger.labels == sorted({t[2:] for row in dataset["tags"] for t in row if t != "O"})
    assert nertag.load(tmp_path / "model").labels == tagger.labels


def test_hugging_face_class_label_tags_are_read_by_name() -> None:
    names = ["O", "B-PER", "I-PER"]
    features = datasets.Features({
        "tokens": datasets.Sequence(datasets.Value("string")),
        "ner_tags": datasets.Sequence(datasets.ClassLabel(names=names)),
    })
    dataset = datasets.Dataset.from_dict({"tokens": [["王", "五", "来"]], "ner_tags": [[1, 2, 0]]}, features=features)
    assert read_sentences(dataset)[0].tags == ("B-PER", "I-PER", "O")
    broken = to_dataset(read_conll(Path(__file__).parent / "fixtures" / "zh.bmes")).map(
        lambda row, i: {"tags": row["tags"][:-1] if i == 3 else row["tags"]}, with_indices=True
    )
    with pytest.raises(InputError, match=r"<dataset>:3: \d+ tokens but \d+ tags"):
        read_sentences(broken)


def test_spacy_component_sets_entities_for_chinese_and_english() -> None:
    spacy = pytest.importorskip("spacy")
    zh = spacy.blank("zh")
    component = zh.add_pipe("nertag", config={"model": "zh-general"})
    doc = zh(TEXTS[0])
    assert [(e.text, e.label_) for e in doc.ents][:1] == [("姚明", "PER")]
    assert {"河南省", "郑州市"} <= {e.text for e in doc.ents if e.label_ == "LOC"}
    assert doc.user_data["nertag_misaligned"] == 0 and component.misaligned == 0
    piped = list(zh.pipe(msra_texts(20), batch_size=8))
    expected = records(msra_texts(20), "zh-general")
    assert [[(e.start_char, e.end_char, e.label_) for e in d.ents] for d in piped] == [
        [(r["start"], r["end"], r["label"]) for r in found] for found in expected
    ]

    en = spacy.blank("en")
    en.add_pipe("nertag")  # no model: the default of each doc's language
    doc = en(TEXTS[1])
    assert ("Peter Blackburn", "PER") in [(e.text, e.label_) for e in doc.ents]


def test_spacy_component_counts_misaligned_spans_and_can_keep_existing_ones() -> None:
    spacy = pytest.importorskip("spacy")
    from spacy.tokens import Span

    # An English tokenizer keeps an unspaced Chinese clause as one token: all three entities
    # grow to it, one survives, and all three are counted as misaligned.
    nlp = spacy.blank("en")
    component = nlp.add_pipe("nertag")
    doc = nlp("姚明出生于河南省郑州市。")
    assert [e.text for e in nertag.tag(doc.text)] == ["姚明", "河南省", "郑州市"]
    assert doc[0].text == "姚明出生于河南省郑州市" and [(e.start, e.end) for e in doc.ents] == [(0, 1)]
    assert doc.user_data["nertag_misaligned"] == 3 and component.misaligned == 3

    nlp = spacy.blank("en")
    component = nlp.add_pipe("nertag", config={"model": "en-conll03", "keep_existing": True})
    doc = nlp.make_doc("Peter Blackburn works in Brussels today.")
    doc.ents = [Span(doc, 4, 5, label="GPE"), Span(doc, 5, 6, label="DAY")]  # Brussels, today
    doc = component(doc)
    assert [(e.text, e.label_) for e in doc.ents] == [("Peter Blackburn", "PER"), ("Brussels", "GPE"), ("today", "DAY")]
    assert doc.user_data["nertag_misaligned"] == 1  # nertag's Brussels LOC gave way to the doc's own


def test_ray_data_map_batches_with_two_actors() -> None:
    ray = pytest.importorskip("ray")
    texts = msra_texts(40) + TEXTS
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        dataset = ray.data.from_items([{"text": t, "row": i} for i, t in enumerate(texts)])
        tagged = dataset.map_batches(
            DatasetTagger, fn_constructor_kwargs={"model": None}, batch_size=8,
            compute=ray.data.ActorPoolStrategy(size=2),
        ).take_all()
    finally:
        ray.shutdown()
    by_row = {row["row"]: row for row in tagged}
    assert sorted(by_row) == list(range(len(texts)))
    assert_same([[dict(e) for e in by_row[i]["entities"]] for i in range(len(texts))], records(texts))


def test_cli_trains_on_a_saved_dataset_folder_and_refuses_other_folders(tmp_path: Path, zh_path: Path) -> None:
    import subprocess
    import sys

    dataset = nertag.read_corpus(zh_path)
    dataset.save_to_disk(tmp_path / "train")
    (tmp_path / "plain").mkdir()
    base = [sys.executable, "-m", "nertag", "train", "--dev", str(zh_path), "--epochs", "1", "--threads", "1",
            "--hidden-size", "8", "--word-dim", "8", "--bigram-dim", "4", "--segment-dim", "4"]
    done = subprocess.run([*base, "--train", str(tmp_path / "train"), "--out", str(tmp_path / "model")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    labels = sorted({t[2:] for row in dataset["tags"] for t in row if t != "O"})
    assert nertag.load(tmp_path / "model").labels == labels
    refused = subprocess.run([*base, "--train", str(tmp_path / "plain"), "--out", str(tmp_path / "m2")], capture_output=True, text=True)
    assert refused.returncode != 0
    assert refused.stderr.strip().splitlines()[-1] == f"nertag: error: {tmp_path / 'plain'}: a folder, but not a Dataset saved by save_to_disk; give a column file"
    assert not (tmp_path / "m2").exists()
