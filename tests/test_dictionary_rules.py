"""Dictionaries and rules merged with the model's entities: matching, policies, --explain, CLI and API."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import nertag
from nertag.api import extra_entities
from nertag.dictionary import PhraseDictionary
from nertag.errors import InputError
from nertag.merge import ExtraEntities
from nertag.records import Entity, TaggedText
from nertag.rules import Rules, read_patterns

BIOGRAPHY = "姚明（30）年1月2日出生于河南省郑州市，祖籍浙江宁波，中国职业篮球运动员。"


def chars(text: str) -> list[list[tuple[int, int]]]:
    """One sentence, one character a token (spaces are not tokens), as a character model cuts it."""
    return [[(i, i + 1) for i, c in enumerate(text) if not c.isspace()]]


def run_cli(*args: str, stdin: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "nertag", *args], input=stdin, capture_output=True, text=True)


def test_dictionary_reads_tsv_and_json_lines_and_finds_leftmost_longest(tmp_path: Path) -> None:
    path = tmp_path / "d.txt"
    path.write_text('# brands\n腾讯\tORG\n腾讯控股\tORG\n{"phrase": "深圳", "label": "LOC"}\n\n', encoding="utf-8")
    dictionary = PhraseDictionary.read(path)
    assert dictionary.size == 3
    found = dictionary.matches("腾讯控股在深圳，腾讯。")
    assert [(e.start, e.end, e.label, e.text, e.source) for e in found] == [
        (0, 4, "ORG", "腾讯控股", "dictionary"), (5, 7, "LOC", "深圳", "dictionary"), (8, 10, "ORG", "腾讯", "dictionary"),
    ]


def test_labels_that_only_look_like_tags_are_labels(tmp_path: Path) -> None:
    path = tmp_path / "d.txt"
    path.write_text("foo@bar.com\tE-mail\nS-Bahn\tS-Bahn\n", encoding="utf-8")
    assert [e.label for e in PhraseDictionary.read(path).matches("foo@bar.com S-Bahn")] == ["E-mail", "S-Bahn"]


def test_dictionary_and_pattern_lines_may_end_in_a_lone_carriage_return(tmp_path: Path) -> None:
    path = tmp_path / "d.txt"
    path.write_bytes("腾讯\tORG\r百度\tORG\r".encode("utf-8"))
    assert [e.text for e in PhraseDictionary.read(path).matches("腾讯和百度")] == ["腾讯", "百度"]
    path.write_bytes("MONEY\t[0-9]+元\rTIME\t[0-9]+点\r".encode("utf-8"))
    assert [(e.text, e.label) for e in Rules(read_patterns(path)).matches("5元8点")] == [("5元", "MONEY"), ("8点", "TIME")]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("腾讯\tORG\n百度\n", r"d\.txt:2: expected phrase<TAB>LABEL, got 1"),
        ("腾讯\tORG\n{bad\n", r"d\.txt:2: not valid JSON"),
        ('{"phrase": "x"}\n', r"d\.txt:1: expected \{\"phrase\""),
        ("腾讯\tO\n", r"d\.txt:1: label 'O'"),
        ("腾讯\tB-ORG\n", r"d\.txt:1: label 'B-ORG' is a tag; its label is ORG"),
        ("\tORG\n", r"d\.txt:1: empty phrase"),
    ],
)
def test_a_bad_dictionary_line_is_named(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "d.txt"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=message):
        PhraseDictionary.read(path)


def test_built_in_rules_find_chinese_and_english_numbers_and_time() -> None:
    rules = Rules.of(["all"])
    found = rules.matches("2008年8月8日晚上8点，票价300元，涨了15%，他今年25岁，历时3个小时。")
    assert [(e.text, e.label) for e in found] == [
        ("2008年8月8日", "DATE"), ("晚上8点", "TIME"), ("300元", "MONEY"), ("15%", "PERCENT"), ("25岁", "AGE"), ("3个小时", "DURATION"),
    ]
    found = rules.matches("On January 2, 2026 at 3:30 pm the 45-year-old paid $5 million, up 3.5 percent, for 2 weeks.")
    assert [(e.text, e.label) for e in found] == [
        ("January 2, 2026", "DATE"), ("3:30 pm", "TIME"), ("45-year-old", "AGE"), ("$5 million", "MONEY"),
        ("3.5 percent", "PERCENT"), ("2 weeks", "DURATION"),
    ]
    assert [(e.text, e.label) for e in Rules.of(["time"]).matches(BIOGRAPHY)] == [("1月2日", "DATE")]
    assert [e.text for e in Rules.of(["duration"]).matches("他在2019年加入，工作了10年。")] == ["10年"]
    with pytest.raises(ValueError, match="unknown group clock"):
        Rules.of(["time", "clock"])


def test_user_patterns_come_from_a_file_and_bad_ones_are_named(tmp_path: Path) -> None:
    path = tmp_path / "p.tsv"
    path.write_text("# ids\nTICKET\tT-\\d{4}\n", encoding="utf-8")
    assert [(e.text, e.label) for e in Rules(read_patterns(path)).matches("see T-1234 and T-12")] == [("T-1234", "TICKET")]
    path.write_text("A\t(unclosed\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"p\.tsv:1: bad regular expression"):
        read_patterns(path)
    path.write_text("A\tx*\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"p\.tsv:1: the pattern matches empty text"):
        read_patterns(path)


TEXT = "王小明在河南省郑州市工作"
MODEL = [Entity(0, 3, "PER", "王小明", 0.99), Entity(4, 7, "LOC", "河南省", 0.95), Entity(7, 10, "LOC", "郑州市", 0.40)]


def merged(policy: str, phrases: dict[str, str]) -> TaggedText:
    extra = ExtraEntities(PhraseDictionary(phrases.items()), None, policy)
    return extra.apply(TaggedText(TEXT, list(MODEL), chars(TEXT)))


def test_policy_dictionary_replaces_what_it_overlaps() -> None:
    result = merged("dictionary", {"河南省郑州市": "GPE", "工作": "EVENT"})
    assert [(e.text, e.label, e.source) for e in result.entities] == [
        ("王小明", "PER", None), ("河南省郑州市", "GPE", "dictionary"), ("工作", "EVENT", "dictionary"),
    ]
    assert result.dropped == []


def test_policy_model_keeps_confident_entities_and_replaces_doubtful_ones() -> None:
    result = merged("model", {"河南省": "PROVINCE", "郑州市": "CITY", "工作": "EVENT"})
    assert [(e.text, e.label) for e in result.entities] == [("王小明", "PER"), ("河南省", "LOC"), ("郑州市", "CITY"), ("工作", "EVENT")]
    assert [(d.entity.text, d.reason) for d in result.dropped] == [
        ("河南省", "overlaps the model's '河南省' (LOC, confidence 0.95); policy 'model' keeps the model's entities of confidence 0.5 or more"),
    ]


def test_policy_gaps_only_fills_where_the_model_found_nothing() -> None:
    result = merged("gaps", {"郑州市": "CITY", "工作": "EVENT"})
    assert [(e.text, e.label) for e in result.entities] == [(e.text, e.label) for e in MODEL] + [("工作", "EVENT")]
    assert [d.entity.text for d in result.dropped] == ["郑州市"]
    assert "policy 'gaps'" in result.dropped[0].reason


def test_matches_must_sit_on_tokens_and_not_overlap_each_other() -> None:
    text = "New Yorker in New York"
    tokens = [[(0, 3), (4, 10), (11, 13), (14, 17), (18, 22)]]
    extra = ExtraEntities(PhraseDictionary([("New York", "LOC"), ("York", "LOC")]), Rules.of(["time"]), "dictionary")
    result = extra.apply(TaggedText(text, [], tokens))
    assert [(e.start, e.end) for e in result.entities] == [(14, 22)]
    assert [(d.entity.start, d.reason) for d in result.dropped] == [
        (0, "cuts through the token 'Yorker' of the model's tokenization"),
        (4, "cuts through the token 'Yorker' of the model's tokenization"),  # York, found once New York is refused
    ]
    # a dictionary phrase and a rule at the same place: the dictionary's, and the rule's reason says so
    text = "3月5日开业"
    extra = ExtraEntities(PhraseDictionary([("3月5日", "HOLIDAY")]), Rules.of(["time"]))
    result = extra.apply(TaggedText(text, [], chars(text)))
    assert [(e.text, e.label, e.source) for e in result.entities] == [("3月5日", "HOLIDAY", "dictionary")]
    assert result.dropped[0].entity.source == "rules" and "starts earlier or is longer" in result.dropped[0].reason


def test_cli_rules_time_tags_the_date_of_the_biography_and_keeps_the_rest() -> None:
    done = run_cli("tag", "--rules", "time", stdin=BIOGRAPHY + "\n")
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)
    found = {(e["text"], e["label"]) for e in record["entities"]}
    assert ("1月2日", "DATE") in found and ("姚明", "PER") in found
    assert {"河南省", "郑州市", "浙江", "宁波"} <= {t for t, label in found if label == "LOC"}
    date = next(e for e in record["entities"] if e["label"] == "DATE")
    assert date == {"start": 7, "end": 11, "label": "DATE", "text": "1月2日", "source": "rules"}
    assert "dropped" not in record


def test_cli_dictionary_policy_and_explain(tmp_path: Path) -> None:
    path = tmp_path / "brands.tsv"
    path.write_text("河南省郑州市\tX\n篮球运动员\tTITLE\n", encoding="utf-8")
    done = run_cli("tag", "--dictionary", str(path), "--policy", "gaps", "--explain", stdin=BIOGRAPHY + "\n")
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)
    assert {"text": "篮球运动员", "label": "TITLE", "start": 32, "end": 37, "source": "dictionary"} in record["entities"]
    assert [(d["text"], d["source"]) for d in record["dropped"]] == [("河南省郑州市", "dictionary")]
    assert "policy 'gaps'" in record["dropped"][0]["reason"]
    bad = run_cli("tag", "--dictionary", str(tmp_path / "missing.tsv"), stdin="x\n")
    assert bad.returncode != 0 and bad.stderr.strip().splitlines() == [f"nertag: error: {tmp_path / 'missing.tsv'}: no such file"]
    assert run_cli("tag", "--explain", "--format", "conll", stdin="x\n").returncode == 2


def test_a_dictionary_match_must_not_cut_a_word_of_the_segmenter() -> None:
    text = "华北大部地区高通胀，北大和高通在集中行动。Googles和Google腾讯QQ"
    entries = [("北大", "ORG"), ("高通", "ORG"), ("中行", "ORG"), ("Google", "ORG"), ("腾讯", "ORG")]
    tokens = [[(i, i + 1) for i in range(len(text))]]  # a character model's tokens: every edge is a token edge
    merged = ExtraEntities(PhraseDictionary(entries), policy="gaps").apply(TaggedText(text, [], tokens))
    assert [(e.text, e.start) for e in merged.entities] == [
        ("北大", text.index("，北大") + 1), ("高通", text.index("和高通") + 1), ("Google", text.index("和Google") + 1),
        ("腾讯", text.index("腾讯")),
    ]
    assert [(d.entity.text, d.reason) for d in merged.dropped] == [
        ("北大", "cuts through the word '华北' of the segmenter"),
        ("高通", "cuts through the word '通胀' of the segmenter"),
        ("中行", "cuts through the word '集中' of the segmenter"),
        ("Google", "cuts through the word 'Googles' of the segmenter"),
    ]
    # A phrase refused for cutting a word leaves room for one that does not; a phrase inside a
    # chosen longer phrase is part of it, not a match left out.
    inflation = "物价高通胀严重"
    merged = ExtraEntities(PhraseDictionary([("高通", "ORG"), ("通胀", "TERM")])).apply(TaggedText(inflation, [], chars(inflation)))
    assert [(e.text, e.label) for e in merged.entities] == [("通胀", "TERM")]
    assert [d.entity.text for d in merged.dropped] == ["高通"]
    bank = "腾讯控股在深圳"
    merged = ExtraEntities(PhraseDictionary([("腾讯", "ORG"), ("腾讯控股", "ORG"), ("控股", "X")])).apply(TaggedText(bank, [], chars(bank)))
    assert [e.text for e in merged.entities] == ["腾讯控股"] and merged.dropped == []
    # A rule's pattern says where its matches end: a date running into 出生 (cut 日出/生) is kept.
    biography = ExtraEntities(rules=Rules.of(["time"]), policy="gaps").apply(TaggedText(BIOGRAPHY, [], [[(i, i + 1) for i in range(len(BIOGRAPHY))]]))
    assert "1月2日" in [e.text for e in biography.entities]


def test_python_load_takes_a_dictionary_and_rules() -> None:
    tagger = nertag.load("zh-general", dictionary={"职业篮球运动员": "TITLE"}, rules="time", policy="model")
    found = {(e.text, e.label, e.source) for e in tagger.tag(BIOGRAPHY)}
    assert {("职业篮球运动员", "TITLE", "dictionary"), ("1月2日", "DATE", "rules"), ("姚明", "PER", None)} <= found
    assert all(BIOGRAPHY[e.start : e.end] == e.text for e in tagger.tag(BIOGRAPHY))
    with pytest.raises(ValueError, match="policy"):
        nertag.load("zh-general", rules="time", policy="loudest")


def test_html_output_and_the_page_know_the_labels_of_dictionaries_and_rules(tmp_path: Path) -> None:
    path = tmp_path / "titles.tsv"
    path.write_text("职业篮球运动员\tTITLE\n", encoding="utf-8")
    done = run_cli("tag", "--format", "html", "--dictionary", str(path), "--rules", "time", stdin=BIOGRAPHY + "\n")
    assert done.returncode == 0, done.stderr
    for label in ("TITLE", "DATE", "PER"):
        assert f'data-label="{label}"' in done.stdout

    pytest.importorskip("starlette")
    from starlette.testclient import TestClient

    from nertag.routing import ModelChoice
    from nertag.serve import make_app

    extra = extra_entities(path, "time")
    assert extra is not None and extra.labels() == ["DATE", "TIME", "TITLE"]

    def loader(name: str) -> nertag.Tagger:
        tagger = nertag.load(name)
        tagger.extra = extra
        return tagger

    with TestClient(make_app(ModelChoice("zh-general", loader), extra_labels=extra.labels())) as client:
        record = client.post("/tag", json={"text": BIOGRAPHY}).json()
        assert {"start": 30, "end": 37, "label": "TITLE", "text": "职业篮球运动员", "source": "dictionary"} in record["entities"]
        page = client.post("/tag?format=html", json={"text": BIOGRAPHY})
        assert page.status_code == 200 and 'data-label="TITLE"' in page.text and 'data-label="DATE"' in page.text
        assert 'data-label="TITLE"' in client.get("/").text


def test_numbers_in_rules_begin_only_where_a_run_of_digits_or_numerals_begins() -> None:
    """Begun at every digit of a long run, each attempt read to the run's end: a numeric CSV line
    of 15,560 characters took 15 s with --rules, and a line of a million digits did not finish."""
    rules = Rules.of(["all"])
    for text, found in [("12345元", (0, 6, "MONEY")), ("1,2,3,4元", (0, 8, "MONEY")), ("三千五百元", (0, 5, "MONEY")),
                        ("２０２３年５月", (0, 7, "DATE")), ("12.5%", (0, 5, "PERCENT")), ("1,2,3 dollars", (0, 13, "MONEY"))]:
        assert [(m.start, m.end, m.label) for m in rules.matches(text)] == [found]
        for pattern in rules.patterns:  # no pattern can begin inside the number
            assert not any(pattern.regex.match(text, inside) for inside in range(1, found[1] - 2)), (pattern, text)
    assert rules.matches("1" * 200_000 + "," + "２" * 200_000 + "一" * 200_000) == []


def test_merging_many_matches_on_one_line_looks_at_nearby_entities_only() -> None:
    """Each match was compared with every entity of the text: 20,000 matches took 26 s."""
    text = "张三去北京。" * 5_000
    model = [Entity(i, i + 2, "PER", "张三", 0.9) for i in range(0, len(text), 6)]
    merged = ExtraEntities(PhraseDictionary([("北京", "LOC"), ("张三去", "ORG")]), policy="model").apply(TaggedText(text, model, [[(i, i + 1) for i in range(len(text))]]))
    assert len(merged.entities) == 10_000 and [e.text for e in merged.entities[:2]] == ["张三", "北京"]
    assert len(merged.dropped) == 5_000 and "overlaps the model's '张三'" in merged.dropped[0].reason
