from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from nertag.segment import BEGIN, END, SINGLE, segment
from nertag.tokenize import char_tokens, looks_chinese, sentences, word_tokens


def test_word_tokens_keep_offsets_and_abbreviations() -> None:
    text = "U.S. troops met O'Neil in New-York on 1996-08-22, didn't they?"
    tokens = [text[s:e] for s, e in word_tokens(text)]
    assert tokens[:4] == ["U.S.", "troops", "met", "O'Neil"]
    assert "New-York" in tokens and "1996-08-22" in tokens and tokens[-1] == "?"


def test_char_tokens_skip_spaces_only() -> None:
    text = "姚明 （30）\t年"
    assert [text[s:e] for s, e in char_tokens(text)] == ["姚", "明", "（", "3", "0", "）", "年"]


@given(st.text(max_size=200))
def test_offsets_always_index_the_text(text: str) -> None:
    for tokenizer in (char_tokens, word_tokens):
        offsets = tokenizer(text)
        assert all(0 <= s < e <= len(text) for s, e in offsets)
        assert all(a[1] <= b[0] for a, b in zip(offsets, offsets[1:]))
        assert all(not text[s:e].isspace() for s, e in offsets)
        groups = sentences(text, offsets, 7, "char")
        assert [t for g in groups for t in g] == offsets and all(len(g) <= 7 for g in groups)


def test_sentences_end_at_punctuation() -> None:
    text = "我来了。你呢？好"
    groups = sentences(text, char_tokens(text), 100, "char")
    assert ["".join(text[s:e] for s, e in g) for g in groups] == ["我来了。", "你呢？", "好"]


def test_language_guess() -> None:
    assert looks_chinese("姚明出生于河南省郑州市")
    assert not looks_chinese("John Smith visited New York")


def test_segment_gives_one_word_per_token() -> None:
    tokens = list("出生于河南省郑州市")
    found = segment(tokens)
    assert len(found) == len(tokens)
    assert found[3] == ("河南省", BEGIN) and found[5] == ("河南省", END)
    multi = segment(["ab", "c", "省"])
    assert len(multi) == 3 and all(place in (BEGIN, 2, END, SINGLE) for _, place in multi)


def test_char_tokens_agree_with_the_plain_definition_on_every_code_point() -> None:
    import sys
    import unicodedata

    text = "".join(chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF)
    expected = [(i, i + 1) for i, c in enumerate(text) if not c.isspace() and unicodedata.category(c) != "Cc"]
    assert char_tokens(text) == expected
