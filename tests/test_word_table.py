"""The shipped word table: built from a jieba-format dictionary, read back intact, equal to jieba's."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save_file

from nertag import word_table
from nertag.word_table import WordTable, build, read, save


def test_words_prefixes_counts_and_name_classes(tmp_path: Path) -> None:
    dictionary = tmp_path / "dict.txt"
    dictionary.write_text("郑州市 120 ns\n郑州 300 ns\n出生 50 v\n姚明 40 nr\n一二三四五六七八九 3 i\n出生 60\n中 9 f\n", encoding="utf-8")
    table = build(dictionary)
    assert table.total == 120 + 300 + 50 + 40 + 3 + 60 + 9
    assert WordTable.count(table.values["郑州市"]) == 120
    assert WordTable.name_class(table.values["郑州市"]) == word_table.NAME_CLASSES["ns"]
    assert WordTable.name_class(table.values["姚明"]) == word_table.NAME_CLASSES["nr"]
    assert WordTable.count(table.values["出生"]) == 60  # listed twice: the last count, as in jieba
    assert WordTable.name_class(table.values["出生"]) == -1
    # A word over eight characters is not kept, but its prefixes are (a scan must not stop early).
    assert "一二三四五六七八九" not in table.values
    assert table.values["一二三四五六七八"] == 0
    assert table.values["一二"] == 0
    assert "中" not in table.values  # one character: never looked up
    save(table, tmp_path / "table.bin", source="test")
    again = read(tmp_path / "table.bin")
    assert again.values == table.values and again.total == table.total


def test_a_damaged_or_foreign_table_is_refused(tmp_path: Path) -> None:
    save(WordTable({"郑州": 8 * 3 + 2}, 3), tmp_path / "table.safetensors", source="test")
    content = (tmp_path / "table.safetensors").read_bytes()
    (tmp_path / "cut.safetensors").write_bytes(content[:-2])
    with pytest.raises(ValueError, match="damaged"):
        read(tmp_path / "cut.safetensors")
    keys = np.frombuffer("郑州".encode("utf-8"), dtype=np.uint8)
    save_file({"keys": keys, "values": np.array([26], dtype=np.uint32)}, str(tmp_path / "future.safetensors"),
              metadata={"format": "9", "source": "test", "total": "3", "keys": "1"})
    with pytest.raises(ValueError, match="format '9'"):
        read(tmp_path / "future.safetensors")


def test_the_table_is_written_as_nertag_writes_files(tmp_path: Path) -> None:
    """Through a symlink (the link stays), with the umask's permissions, never half-written."""
    target = tmp_path / "real.safetensors"
    target.write_bytes(b"old")
    link = tmp_path / "link.safetensors"
    link.symlink_to(target)
    table = WordTable({"郑州": 8 * 3 + 2, "郑州市": 8 * 5 + 2}, 8)
    old_umask = os.umask(0o027)
    try:
        save(table, link, source="test")
        save(table, tmp_path / "new.safetensors", source="test")
    finally:
        os.umask(old_umask)
    assert link.is_symlink() and read(target).values == table.values
    assert stat.S_IMODE((tmp_path / "new.safetensors").stat().st_mode) == 0o640


def test_bad_dictionary_lines_are_named(tmp_path: Path) -> None:
    dictionary = tmp_path / "dict.txt"
    dictionary.write_text("郑州 300 ns\n郑州市\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"dict.txt:2"):
        build(dictionary)


def test_the_shipped_table_is_jiebas_dictionary() -> None:
    jieba = pytest.importorskip("jieba")
    source = Path(jieba.__file__).with_name("dict.txt")
    expected = build(source)
    shipped = word_table.shipped()
    assert shipped.total == expected.total
    assert shipped.values == expected.values


def test_lac_classes_keep_jiebas_words_and_counts_and_change_only_classes() -> None:
    jieba_table, lac_table = word_table.shipped("jieba"), word_table.shipped("lac")
    assert word_table.shipped() is jieba_table  # loaded once, however it is asked for
    assert lac_table.keys == jieba_table.keys and lac_table.total == jieba_table.total
    assert np.array_equal(lac_table.packed >> 3, jieba_table.packed >> 3)
    assert not lac_table.packed[jieba_table.packed < 8].any()  # bare prefixes stay prefixes
    organisation = word_table.NAME_CLASSES["nt"]
    values = lac_table.values
    # jieba calls 华为 a person and 微软 an adjective; LAC, tagging each word alone, organisations.
    assert WordTable.name_class(jieba_table.values["华为"]) == word_table.NAME_CLASSES["nr"]
    assert WordTable.name_class(values["华为"]) == organisation
    assert WordTable.name_class(values["微软"]) == organisation
    assert WordTable.name_class(values["郑州"]) == word_table.NAME_CLASSES["ns"]
    assert WordTable.name_class(values["出生"]) == -1
    with pytest.raises(ValueError, match="word classes must be one of jieba, lac"):
        word_table.shipped("hanlp")


def test_class_files_are_made_for_one_table_and_refused_for_another(tmp_path: Path) -> None:
    dictionary = tmp_path / "dict.txt"
    dictionary.write_text("郑州市 120 ns\n华为 300 nr\n出生 50 v\n", encoding="utf-8")
    base = build(dictionary)
    classed_dictionary = tmp_path / "classed.txt"
    classed_dictionary.write_text("郑州市 120 ns\n华为 300 nt\n出生 50\n", encoding="utf-8")
    classes = word_table.class_bytes(build(classed_dictionary), base)
    word_table.save_classes(classes, base, tmp_path / "classes.safetensors", source="test")
    table = word_table.with_classes(base, tmp_path / "classes.safetensors")
    assert WordTable.name_class(table.values["华为"]) == word_table.NAME_CLASSES["nt"]
    assert WordTable.count(table.values["华为"]) == 300
    assert WordTable.name_class(table.values["出生"]) == -1 and table.values["郑州"] == 0
    other_dictionary = tmp_path / "other.txt"
    other_dictionary.write_text("郑州市 120 ns\n华为 300 nr\n出生 51 v\n", encoding="utf-8")
    with pytest.raises(ValueError, match="same words and counts"):
        word_table.class_bytes(build(other_dictionary), base)
    with pytest.raises(ValueError, match="made for another word table"):
        word_table.with_classes(WordTable({"郑州": 8}, 1), tmp_path / "classes.safetensors")


@pytest.mark.parametrize("damage", ["class 5", "format", "missing"])
def test_a_damaged_or_missing_class_file_is_named_in_one_line(tmp_path: Path, damage: str) -> None:
    base = WordTable({"郑州": 8 * 3, "华为": 8 * 5}, 8)
    path = tmp_path / "classes.safetensors"
    word_table.save_classes(np.array([1, 5 if damage == "class 5" else 3], dtype=np.uint8), base, path, source="test")
    if damage == "format":
        metadata = {"format": "9", "source": "test", "keys_sha256": word_table.keys_digest(base)}
        save_file({"classes": np.array([1, 3], dtype=np.uint8)}, str(path), metadata=metadata)
    if damage == "missing":
        path.unlink()
    with pytest.raises(ValueError, match=str(path)) as refused:
        word_table.with_classes(base, path)
    assert "\n" not in str(refused.value)
