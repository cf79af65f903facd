from __future__ import annotations

import io
from pathlib import Path

import pytest

from nertag.conll import (
    InputError,
    Sentence,
    corpus_scheme,
    parse_conll,
    read_conll,
    write_conll,
)
from nertag.corpus_dataset import to_dataset
from nertag.schemes import Scheme


def write(tmp_path: Path, data: bytes | str, name: str = "train.txt") -> Path:
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return path


@pytest.mark.parametrize(
    ("text", "scheme"),
    [
        ("a B-X\nb I-X\nc O\n", Scheme.BIO),
        ("a I-X\nb B-X\nc O\n", Scheme.IOB1),
        ("a B-X\nb I-X\nc E-X\nd S-Y\n", Scheme.BIOES),
        ("a B-X\nb M-X\nc E-X\nd S-Y\n", Scheme.BMES),
        ("a B-X\nb I-X\nc L-X\nd U-Y\n", Scheme.BILOU),
    ],
)
def test_reads_and_detects_every_scheme(tmp_path: Path, text: str, scheme: Scheme) -> None:
    sentences = read_conll(write(tmp_path, text))
    assert sentences[0].tokens == ("a", "b", "c") + (("d",) if len(sentences[0].tokens) == 4 else ())
    assert corpus_scheme(sentences) is scheme


def test_bom_crlf_tabs_docstart_and_columns(tmp_path: Path) -> None:
    data = "\ufeff-DOCSTART- -X- O\r\n\r\nEU\tNNP\tB-ORG\r\nrejects VBZ O\r\n\r\n\r\nPeter NNP B-PER\r\n".encode("utf-8")
    sentences = read_conll(write(tmp_path, data))
    assert [s.tokens for s in sentences] == [("EU", "rejects"), ("Peter",)]
    assert [s.tags for s in sentences] == [("B-ORG", "O"), ("B-PER",)]
    assert [s.line for s in sentences] == [3, 7]


def test_lines_may_end_in_a_lone_carriage_return(tmp_path: Path) -> None:
    """Old Mac files end lines in CR alone; read as padding, the whole file was one line."""
    sentences = read_conll(write(tmp_path, "张 B-PER\r三 I-PER\r在 O\r\r李 B-PER\r四 I-PER\r"))
    assert [s.tokens for s in sentences] == [("张", "三", "在"), ("李", "四")]
    assert [s.line for s in sentences] == [1, 5]
    with pytest.raises(InputError, match=r"train\.txt:2: expected a token and a tag, got 1 column"):
        read_conll(write(tmp_path, "张 B-PER\r三\r"))
    # A CRLF file saved again in text mode ends lines in CR CR LF: still one line each.
    again = read_conll(write(tmp_path, "John B-PER\r\r\nSmith I-PER\r\r\n\r\r\nParis B-LOC\r\r\n"))
    assert [s.tokens for s in again] == [("John", "Smith"), ("Paris",)]


# Whitespace that is not ASCII is text: ideographic space (common in Chinese corpora), no-break space,
# em space, line separator, NEL, and the information separators that str.split() also breaks on.
UNICODE_SPACES = ["\u3000", "\xa0", "\u2003", "\u2028", "\x85", "\x1f"]


@pytest.mark.parametrize("space", UNICODE_SPACES)
def test_tab_separated_lines_keep_whitespace_tokens(space: str) -> None:
    text = f"\u5f20\tB-PER\n{space}\tO\n{space} \t O \r\n  \u4e09\tNR\tI-PER\t\r\n"
    [sentence] = parse_conll(text)
    assert sentence.tokens == ("\u5f20", space, space, "\u4e09")
    assert sentence.tags == ("B-PER", "O", "O", "I-PER")


@pytest.mark.parametrize("space", UNICODE_SPACES)
def test_space_separated_lines_keep_whitespace_tokens(space: str) -> None:
    text = f"\u5f20 B-PER\n{space} O\n  {space}{space}   O\r\n\u4e09 NR I-PER\n"
    [sentence] = parse_conll(text)
    assert sentence.tokens == ("\u5f20", space, space + space, "\u4e09")
    assert sentence.tags == ("B-PER", "O", "O", "I-PER")


def test_a_tab_column_of_only_ascii_spaces_is_a_token_not_padding() -> None:
    [sentence] = parse_conll("a\tO\n \tO\nb\tO\n")
    assert sentence.tokens == ("a", " ", "b")


def test_only_ascii_whitespace_makes_a_blank_line() -> None:
    text = "a O\n \t\r\f\v\nb O\n\r\nc O\n\t\nd O\n"
    assert [s.tokens for s in parse_conll(text)] == [("a",), ("b",), ("c",), ("d",)]
    untagged = parse_conll("a\n\u3000\nb\n\xa0\u2028\nc\n", require_tags=False)
    assert [s.tokens for s in untagged] == [("a", "\u3000", "b", "\xa0\u2028", "c")]


def test_whitespace_tokens_survive_writing_and_reading_back() -> None:
    sentences = [Sentence(("\u5f20", "\u3000", "\xa0", "\u4e09"), ("B-PER", "O", "O", "S-LOC"), 1)]
    out = io.StringIO()
    write_conll(sentences, out)
    assert parse_conll(out.getvalue()) == sentences


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a\tO\n\tB-ORG\n", r"corpus.tsv:2: no token: the line starts with a tab"),
        ("a\tO\n\t\u3000\tO\n", r"corpus.tsv:2: no token"),
        ("a O\n B-ORG\n", r"corpus.tsv:2: expected a token and a tag, got 1 column"),
        ("a O\n\u3000\nb O\n", r"corpus.tsv:2: expected a token and a tag, got 1 column"),
    ],
)
def test_lines_without_a_token_are_refused_not_dropped(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_conll(text, "corpus.tsv")


def test_an_untagged_line_starting_with_a_tab_is_refused() -> None:
    with pytest.raises(InputError, match=r"<input>:1: no token"):
        parse_conll("\tx\n", require_tags=False)


def test_tag_column_option(tmp_path: Path) -> None:
    path = write(tmp_path, "EU B-ORG NNP\nsays O VBZ\n")
    assert read_conll(path, tag_column=1)[0].tags == ("B-ORG", "O")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("EU B-ORG\nrejects\n", r"train.txt:2: expected a token and a tag, got 1 column"),
        ("EU B-ORG\nrejects X-ORG\n", r"train.txt:2: unknown tag 'X-ORG'"),
        ("", r"train.txt: no sentences"),
        ("\n\n  \n", r"train.txt: no sentences"),
        (b"EU B-ORG\n\xff\xfe O\n", r"train.txt:2: not UTF-8 text \(byte 0xff at offset 9\)"),
    ],
)
def test_malformed_files_are_refused_with_file_and_line(tmp_path: Path, data: str | bytes, message: str) -> None:
    with pytest.raises(InputError, match=message):
        read_conll(write(tmp_path, data))


def test_missing_tag_column_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"train.txt:1: no tag column 5"):
        read_conll(write(tmp_path, "EU B-ORG\n"), tag_column=5)
    with pytest.raises(InputError, match="no such file"):
        read_conll(tmp_path / "absent.txt")


def test_untagged_input_is_allowed_when_asked(tmp_path: Path) -> None:
    sentences = read_conll(write(tmp_path, "EU\nrejects\n\nPeter\n"), require_tags=False)
    assert [s.tokens for s in sentences] == [("EU", "rejects"), ("Peter",)]


def test_dataset_view(zh_path: Path) -> None:
    dataset = to_dataset(read_conll(zh_path))
    assert dataset.column_names == ["tokens", "tags"]
    assert len(dataset) == 8
    assert dataset[0]["tokens"][:2] == ["张", "三"]
    assert dataset[0]["tags"][:2] == ["B-NAME", "E-NAME"]


def test_tab_after_the_token_and_spaces_between_other_columns_read_alike() -> None:
    sentences = parse_conll("EU\tNNP B-ORG\n\u3000\tO\t\nrejects \t VBZ\t\tO\n", "mixed.tsv")
    assert sentences[0].tokens == ("EU", "\u3000", "rejects") and sentences[0].tags == ("B-ORG", "O", "O")
