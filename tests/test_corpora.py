"""The corpora the project ships in corpora/: reproducible from their script, and readable by nertag."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from nertag.conll import corpus_scheme, read_conll
from nertag.schemes import Scheme, spans, split_tag

CORPORA = Path(__file__).resolve().parents[1] / "corpora"
BIOGRAPHIES = CORPORA / "zh-biographies"
SPLITS = ("train.bio", "dev.bio")


def test_committed_biographies_equal_a_fresh_run_of_the_script(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, str(CORPORA / "make_zh_biographies.py"), "--out", str(tmp_path)],
        check=True, capture_output=True,
    )
    for name in SPLITS:
        assert (tmp_path / name).read_bytes() == (BIOGRAPHIES / name).read_bytes(), f"{name}: rerun the script"


@pytest.mark.parametrize(("name", "count"), [("train.bio", 400), ("dev.bio", 100)])
def test_biographies_are_small_bio_files_of_per_loc_org(name: str, count: int) -> None:
    path = BIOGRAPHIES / name
    assert path.stat().st_size < 150_000
    sentences = read_conll(path)
    assert len(sentences) == count
    assert corpus_scheme(sentences) is Scheme.BIO
    assert all(len(token) == 1 for sentence in sentences for token in sentence.tokens)
    labels = {split_tag(tag)[1] for sentence in sentences for tag in sentence.tags} - {""}
    assert labels == {"PER", "LOC", "ORG"}


def test_train_and_dev_share_no_sentence() -> None:
    train, dev = ({"".join(s.tokens) for s in read_conll(BIOGRAPHIES / name)} for name in SPLITS)
    assert not train & dev


def test_adjacent_places_are_separate_entities() -> None:
    """The README's convention: a province then its city is two LOC entities, not one."""
    sentences = read_conll(BIOGRAPHIES / "train.bio")
    text_and_tags = [("".join(s.tokens), s.tags) for s in sentences]
    text, tags = next((t, g) for t, g in text_and_tags if "美国纽约" in t)
    start = text.index("美国纽约")
    assert tags[start : start + 4] == ("B-LOC", "I-LOC", "B-LOC", "I-LOC")


@pytest.mark.parametrize("name", ["zh-web-handcheck", "zh-news-handcheck"])
def test_the_hand_checked_sentences_are_what_their_script_writes(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    corpora = Path(__file__).resolve().parents[1] / "corpora"
    monkeypatch.syspath_prepend(str(corpora))  # the news script imports bio_lines from the web one, as when run
    module_name = "make_" + name.replace("-", "_")
    spec = importlib.util.spec_from_file_location(module_name, corpora / f"{module_name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    committed = corpora / name / "test.bio"
    expected = "\n".join("\n".join(module.bio_lines(text, entities)) + "\n" for text, entities in module.SENTENCES)
    assert committed.read_text(encoding="utf-8") == expected
    sentences = read_conll(committed)
    assert ["".join(s.tokens) for s in sentences] == [text for text, _ in module.SENTENCES]
    found = [[("".join(s.tokens[span.start : span.end]), span.label) for span in spans(s.tags)] for s in sentences]
    assert found == [entities for _, entities in module.SENTENCES]


def test_the_organisation_names_are_a_clean_swap_list() -> None:
    from nertag.dictionary import read_entries
    from nertag.name_swap import read_names

    path = CORPORA / "zh-org-names" / "names.tsv"
    entries = list(read_entries(path))
    names = [name for name, _ in entries]
    assert {label for _, label in entries} == {"ORG"}
    assert len(names) == len(set(names)) > 1000
    assert all(name == name.strip() and 2 <= len(name) <= 12 for name in names)
    assert read_names(path, char_unit=True) == {"ORG": names}  # no name lost to spaces
    assert not {"抖音", "TikTok", "欧冠"} & set(names)  # products, apps and tournaments are not organisations
