"""Built-in models: listed, found by name, and picked by language when no model is given."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from cli import main
from nertag import load, tag
from nertag.builtin import DEFAULT_CHINESE, builtin_models, resolve_model

SHIPPED = builtin_models()


def test_shipped_models_are_small_and_described() -> None:
    assert {"zh-resume", "en-conll03"} <= set(SHIPPED)
    for model in SHIPPED.values():
        size = sum(p.stat().st_size for p in model.path.iterdir())
        assert size <= 10 * 1024 * 1024, f"{model.name} is {size} bytes"
        assert model.labels and 0.0 < model.test_f1 <= 1.0 and model.command.startswith("nertag train")


def test_models_command_lists_them() -> None:
    result = CliRunner().invoke(main, ["models"])
    assert result.exit_code == 0
    assert "en-conll03" in result.stdout and "test F1" in result.stdout


def test_names_resolve_and_english_default_tags_english() -> None:
    assert resolve_model("en-conll03") == SHIPPED["en-conll03"].path
    text = "Peter Blackburn flew from London to Berlin on Monday."
    entities = tag(text)
    assert ("Peter Blackburn", "PER") in {(e.text, e.label) for e in entities}
    assert all(text[e.start : e.end] == e.text for e in entities)
    assert load("en-conll03").tag(text) == entities


@pytest.mark.skipif(DEFAULT_CHINESE not in SHIPPED, reason="the default Chinese model is not shipped")
def test_biography_example_with_no_model_argument() -> None:
    text = "姚明（30）年1月2日出生于河南省郑州市，祖籍浙江宁波，中国职业篮球运动员。"
    found = {(e.text, e.label) for e in tag(text)}
    assert ("姚明", "PER") in found
    places = {t for t, label in found if label == "LOC"}
    assert "河南省郑州市" in places or {"河南省", "郑州市"} <= places
    assert "浙江宁波" in places or {"浙江", "宁波"} <= places
    result = CliRunner().invoke(main, ["tag"], input=text + "\n")
    assert result.exit_code == 0 and '"姚明"' in result.stdout


@pytest.mark.skipif(DEFAULT_CHINESE not in SHIPPED, reason="the default Chinese model is not shipped")
def test_chinese_lines_holding_markup_or_links_go_to_the_chinese_default() -> None:
    lines = [
        '<div class="x">李四在上海</div>', "https://www.example.com/a?q=1 王五来到北京。",
        "Angela Merkel met 习近平 in Berlin on Monday.", "<p>Peter Blackburn flew to <b>Berlin</b>.</p>",
    ]
    result = CliRunner().invoke(main, ["tag"], input="\n".join(lines) + "\n")
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["model"] for r in records] == [DEFAULT_CHINESE, DEFAULT_CHINESE, "en-conll03", "en-conll03"]
    found = [{(e["text"], e["label"]) for e in r["entities"]} for r in records]
    assert found[0] == {("李四", "PER"), ("上海", "LOC")}  # nothing of the tags themselves
    assert {("王五", "PER"), ("北京", "LOC")} <= found[1]
    assert {("Angela Merkel", "PER"), ("Berlin", "LOC")} <= found[2]
    assert found[3] == {("Peter Blackburn", "PER"), ("Berlin", "LOC")}
    text = "<b>张</b>三在北京工作。"  # a tag inside a name: the name is read whole, its text holds the tag
    entities = tag(text)
    assert all(text[e.start : e.end] == e.text for e in entities) and ("张</b>三", "PER") in {(e.text, e.label) for e in entities}
    assert tag("<br/>") == [] and tag("<p></p>") == []  # nothing but markup


@pytest.mark.skipif("zh-general-fast" not in SHIPPED, reason="zh-general-fast is not shipped")
def test_the_fast_chinese_model_is_the_default_narrowed() -> None:
    fast, default = load("zh-general-fast"), load(DEFAULT_CHINESE)
    assert fast.config.hidden_size < default.config.hidden_size
    assert fast.config.styles == default.config.styles and fast.labels == default.labels
    text = "姚明（30）年1月2日出生于河南省郑州市，祖籍浙江宁波，中国职业篮球运动员。"
    found = {(e.text, e.label) for e in fast.tag(text)}
    assert ("姚明", "PER") in found and {("河南省", "LOC"), ("郑州市", "LOC")} <= found


def test_bfloat16_tagging_finds_the_same_entities() -> None:
    text = "姚明（30）年1月2日出生于河南省郑州市，祖籍浙江宁波，中国职业篮球运动员。"
    full = load("zh-resume").tag(text)
    half = load("zh-resume", precision="bfloat16").tag(text)
    assert [(e.start, e.end, e.label) for e in half] == [(e.start, e.end, e.label) for e in full]
    assert all(abs(a.confidence - b.confidence) < 0.05 for a, b in zip(full, half))
    with pytest.raises(ValueError, match="precision"):
        load("zh-resume", precision="float8")


def test_the_chinese_default_tags_in_a_blend_of_its_corpora_styles() -> None:
    """zh-general learned MSRA's and CLUENER's conventions as styles: by default it splits places as
    MSRA does; in CLUENER's style it keeps an address whole, as CLUENER does."""
    general = load("zh-general")
    assert general.config.styles == ("msra_train.bmes", "cl_train.bio")
    assert general.style.startswith("msra_train.bmes=")
    text = "姚明（30）年1月2日出生于河南省郑州市，祖籍浙江宁波，中国职业篮球运动员。"
    places = {e.text for e in general.tag(text) if e.label == "LOC"}
    assert {"河南省", "郑州市", "浙江", "宁波"} <= places
    web = load("zh-general", style="cl_train.bio")
    assert "河南省郑州市" in {e.text for e in web.tag(text) if e.label == "LOC"}
