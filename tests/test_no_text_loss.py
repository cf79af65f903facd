"""Whatever the text, tagging writes one record per line whose text is the line, with valid offsets."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nertag import load
from nertag.commands.tag import read_lines, tag_lines

ODD = ["\t", " ", "\u200b", "\u200d", "\u0301", "\x00", "\x07", "\x0b", "\x0c", "\x85", "\u2028", "\ufeff", "😀", "👩‍👩‍👧",
       "姚明", "河南省", "。", "！", "…", "Ｊｏｈｎ", "John", "Smith", "New", "York", ".", "\r"]
line_text = st.lists(st.one_of(st.sampled_from(ODD), st.text(max_size=5)), max_size=30).map("".join).map(
    lambda s: s.replace("\n", "").rstrip("\r")
)


@pytest.fixture(scope="module")
def taggers(en_model_dir: Path, zh_model_dir: Path):
    return [load(en_model_dir), load(zh_model_dir)]


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(line_text, min_size=1, max_size=4), crlf=st.booleans())
def test_every_line_comes_back_whole(taggers, lines: list[str], crlf: bool) -> None:
    data = ("\r\n" if crlf else "\n").join(lines) + ("\r\n" if crlf else "\n")
    assert read_lines(data) == lines
    for tagger in taggers:
        out = io.StringIO()
        tag_lines(tagger, read_lines(data), out, "jsonl")
        records = [json.loads(r) for r in out.getvalue().split("\n")[:-1]]
        assert [r["text"] for r in records] == lines
        for record in records:
            for entity in record["entities"]:
                assert 0 <= entity["start"] < entity["end"] <= len(record["text"])
                assert record["text"][entity["start"] : entity["end"]] == entity["text"]


def test_a_million_character_line_keeps_its_length(en_model_dir: Path) -> None:
    line = ("John Smith visited New York . " * 40000)[:1_000_000]
    out = io.StringIO()
    tag_lines(load(en_model_dir), [line], out, "jsonl")
    assert json.loads(out.getvalue())["text"] == line
