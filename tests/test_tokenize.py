from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nertag.segment import BEGIN, END, SINGLE, segment
from nertag.tokenize import char_sentences, char_tokens, looks_chinese, markup_spans, outside_markup, sentences, word_tokens


def test_word_tokens_keep_offsets_and_abbreviations() -> None:
    text = "U.S. troops met O'Neil in New-York on 1996-08-22, didn't they?"
    tokens = [text[s:e] for s, e in word_tokens(text)]
    assert tokens[:4] == ["U.S.", "troops", "met", "O'Neil"]
    assert "New-York" in tokens and "1996-08-22" in tokens and tokens[-1] == "?"
    assert tokens[-4:-1] == ["did", "n't", "they"]


def test_char_tokens_skip_spaces_only() -> None:
    text = "姚明 （30）\t年"
    assert [text[s:e] for s, e in char_tokens(text)] == ["姚", "明", "（", "3", "0", "）", "年"]


def words(text: str) -> list[str]:
    return [text[s:e] for s, e in word_tokens(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Musk's car", ["Musk", "'s", "car"]),
        ("It doesn't work", ["It", "does", "n't", "work"]),
        ("We can't, WON'T", ["We", "ca", "n't", ",", "WO", "N'T"]),
        ("they're we've I'll he'd I'm", ["they", "'re", "we", "'ve", "I", "'ll", "he", "'d", "I", "'m"]),
        ("Musk\u2019s THEY\u2019RE isn\u2019t", ["Musk", "\u2019s", "THEY", "\u2019RE", "is", "n\u2019t"]),
        ("SATURDAY'S O'Neil's shouldn't've", ["SATURDAY", "'S", "O'Neil", "'s", "should", "n't", "'ve"]),
        ("O'Neil D'Amato o'clock gov't d'Italia", ["O'Neil", "D'Amato", "o'clock", "gov't", "d'Italia"]),
        ("the players' club", ["the", "players", "'", "club"]),
    ],
)
def test_clitics_are_split_as_conll_does(text: str, expected: list[str]) -> None:
    assert words(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("U.S. and U.N. troops", ["U.S.", "and", "U.N.", "troops"]),
        ("Apple Inc. and Foo Corp. met Acme Co. Ltd. staff", ["Apple", "Inc.", "and", "Foo", "Corp.", "met", "Acme", "Co.", "Ltd.", "staff"]),
        ("Mr. and Mrs. Smith, Dr. Who Jr. of St. Louis", ["Mr.", "and", "Mrs.", "Smith", ",", "Dr.", "Who", "Jr.", "of", "St.", "Louis"]),
        ("on Jan. 5 and Oct. 12 at 9 a.m. in Calif. vs. ST. LOUIS", ["on", "Jan.", "5", "and", "Oct.", "12", "at", "9", "a.m.", "in", "Calif.", "vs.", "ST.", "LOUIS"]),
        ("J. Smith and A. B. Jones", ["J.", "Smith", "and", "A.", "B.", "Jones"]),
        ("then-U.S. envoy", ["then-U.S.", "envoy"]),
    ],
)
def test_abbreviations_keep_their_period(text: str, expected: list[str]) -> None:
    assert words(text) == expected


def test_a_period_after_a_word_or_at_the_end_of_the_text_is_a_token() -> None:
    assert words("He left. She stayed.") == ["He", "left", ".", "She", "stayed", "."]
    assert words("He may. No.") == ["He", "may", ".", "No", "."]
    # CoNLL-2003 ends a sentence with "Inc ." and "U.S .", never with the abbreviation's period.
    assert words("He works at Apple Inc.") == ["He", "works", "at", "Apple", "Inc", "."]
    assert words("back in the U.S. \n") == ["back", "in", "the", "U.S", "."]


def test_numbers_and_hyphenated_words_stay_whole() -> None:
    assert words("On 1996-08-22 co-operate for 1,000.5 at 10:30") == [
        "On", "1996-08-22", "co-operate", "for", "1,000.5", "at", "10:30"
    ]


# Clitics, abbreviations and numbers are rare in arbitrary text; this alphabet makes them common.
english_like = st.text(
    alphabet=st.sampled_from(list("aAnNtTsSdmrevlIJUO.'\u2019-,:/0123456789 \t\n") + ["\u3000", "é", "姚", "_"]),
    max_size=120,
)


@given(st.one_of(english_like, st.text(max_size=200)))
def test_offsets_always_index_the_text(text: str) -> None:
    for tokenizer in (char_tokens, word_tokens):
        offsets = tokenizer(text)
        assert all(0 <= s < e <= len(text) for s, e in offsets)
        assert all(a[1] <= b[0] for a, b in zip(offsets, offsets[1:]))
        assert all(not text[s:e].isspace() for s, e in offsets)
        groups = sentences(text, offsets, 7, "char")
        assert [t for g in groups for t in g] == offsets and all(len(g) <= 7 for g in groups)


@given(st.one_of(english_like, st.text(max_size=200)))
def test_word_tokens_and_the_gaps_between_them_give_the_text_back(text: str) -> None:
    """No character is lost: only whitespace falls outside the tokens."""
    bounds = [0] + [i for span in word_tokens(text) for i in span] + [len(text)]
    gaps = [text[start:end] for start, end in zip(bounds[::2], bounds[1::2])]
    tokens = [text[start:end] for start, end in zip(bounds[1::2], bounds[2::2])]
    assert all(gap == "" or gap.isspace() for gap in gaps)
    assert "".join(gap + token for gap, token in zip(gaps, tokens + [""])) == text


def test_sentences_end_at_punctuation() -> None:
    text = "我来了。你呢？好"
    groups = sentences(text, char_tokens(text), 100, "char")
    assert ["".join(text[s:e] for s, e in g) for g in groups] == ["我来了。", "你呢？", "好"]


def test_language_guess() -> None:
    assert looks_chinese("姚明出生于河南省郑州市")
    assert not looks_chinese("John Smith visited New York")


@pytest.mark.parametrize("text", [
    '<div class="x">李四在上海</div>',  # markup left in scraped text
    "<img src=x onerror=alert(1)>张三来到北京。",
    "https://www.example.com/path?q=1 王五说",  # a link before the text
    "苹果发布了iPhone 15和macOS Sonoma",  # product names
    "育碧公布全新RTS作品《R.U.S.E.》", "世界足联：www．fifa．com",  # dotted acronyms and addresses are one word each
    "新浪体育讯 NBA常规赛，Los Angeles Lakers主场迎战Golden State Warriors。",  # English names in Chinese news
    "<script>" + "var x = f(y); " * 200 + "</script>习近平会见了拜登。",  # code longer than the sample
    "ソニーグループは2024年度の決算を発表しました。",  # kana count as neither: CJK goes to the Chinese model
])
def test_chinese_holding_links_markup_or_english_names_is_chinese(text: str) -> None:
    assert looks_chinese(text)


@pytest.mark.parametrize("text", [
    "The president Xi (习近平) met Biden in Beijing on Tuesday", "Angela Merkel met 习近平 in Berlin on Monday.",
    "Barack Obama visited 北京 and met 习近平 in 2015.", "", "123 456", "—— !!",
])
def test_english_quoting_a_chinese_name_or_text_without_letters_is_not_chinese(text: str) -> None:
    assert not looks_chinese(text)


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

    # A space between code points, so that no mark, joiner or flag half has a neighbour to join.
    text = " ".join(chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF)
    expected = [(i, i + 1) for i, c in enumerate(text) if not c.isspace() and unicodedata.category(c) != "Cc"]
    assert char_tokens(text) == expected


def test_a_visible_character_is_one_token_whatever_its_code_points() -> None:
    import unicodedata

    text = unicodedata.normalize("NFD", "José在Zürich") + "，李雷🇨🇳和👩🏽\u200d💻。"
    tokens = [text[s:e] for s, e in char_tokens(text)]
    assert tokens == ["J", "o", "s", "e\u0301", "在", "Z", "u\u0308", "r", "i", "c", "h", "，", "李", "雷",
                      "🇨🇳", "和", "👩🏽\u200d💻", "。"]
    assert [text[s:e] for s, e in char_tokens(text, latin_runs=True)][:3] == ["Jose\u0301", "在", "Zu\u0308rich"]
    joined = "张三\u200d李四"  # a joiner glues emoji only, not two names
    assert [joined[s:e] for s, e in char_tokens(joined)] == ["张", "三", "\u200d", "李", "四"]
    marks = "a" + "\u0301" * 40  # a run of marks does not make one endless token
    assert max(e - s for s, e in char_tokens(marks)) <= 17


def test_decomposed_accents_stay_in_their_english_words() -> None:
    import unicodedata

    composed = "José García met François Hollande in Zürich."
    decomposed = unicodedata.normalize("NFD", composed)
    words = [decomposed[s:e] for s, e in word_tokens(decomposed)]
    assert [unicodedata.normalize("NFC", w) for w in words] == [composed[s:e] for s, e in word_tokens(composed)]


def test_a_lone_surrogate_is_segmented_and_kept() -> None:
    from nertag.segment import cut

    text = "李四\udc80在上海"
    assert "".join(cut(text)) == text


@given(
    st.text(alphabet=st.sampled_from(list("中国人。！？；!?;…aZ9Ａ１ \n\t\x00\u0301\u200d\ufe0f🇨🇳😀\ud800")), max_size=60),
    st.sampled_from([0, 1, 2, 5, 250]),
    st.booleans(),
)
def test_sentences_of_one_character_tokens_are_cut_as_the_token_loop_cuts_them(text: str, longest: int, latin_runs: bool) -> None:
    found = char_sentences(text, longest, latin_runs)
    if found is not None:  # the shortcut takes only text that is one token a character
        assert found == sentences(text, char_tokens(text, latin_runs), longest, "char")


def test_chinese_text_takes_the_sentence_shortcut() -> None:
    assert char_sentences("姚明出生于郑州。他打篮球！", 250) == sentences("姚明出生于郑州。他打篮球！", char_tokens("姚明出生于郑州。他打篮球！"), 250, "char")
    assert char_sentences("姚明 出生", 250) is None  # a space is no token
    assert char_sentences("iPhone发布", 250, latin_runs=True) is None  # a run of letters is one token


def test_tokens_inside_markup_tags_are_left_out_and_others_kept() -> None:
    text = '<div class="x">李四</div>在<b>上海</b> a < b 和 c > d'
    kept = [text[a:b] for a, b in outside_markup(text, char_tokens(text))]
    assert "".join(kept) == "李四在上海a<b和c>d"  # "< b 和 c >" is no tag: a space follows "<"
    code = '<script type="text/javascript">var 张三 = 1;</script>李四<!-- 王五\n -->在<style>p{}</style>北京'
    assert "".join(code[a:b] for a, b in outside_markup(code, char_tokens(code))) == "李四在北京"  # code and comments are no text
    for text in ("我看了<Titanic>这部电影", "if x<y and Paris is big then y>z", "a<b\nPeter went\nc>d"):
        assert outside_markup(text, char_tokens(text)) == char_tokens(text)  # no HTML element, no tag
    assert outside_markup("张三", char_tokens("张三")) == [(0, 1), (1, 2)]


def test_an_unclosed_comment_is_text_and_an_unclosed_script_is_its_opening_tag() -> None:
    assert markup_spans("<!-- 张三在北京") == []
    assert markup_spans("<script>var x;<script>y") == [(0, 8), (14, 22)]  # each opening alone, the code read
    assert markup_spans("a<!--b-->c<STYLE>p{}</style >d") == [(1, 9), (10, 29)]
