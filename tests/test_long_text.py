"""Long lines tag in bounded pieces with offsets into the input; width variants share features."""

from __future__ import annotations

import json
from typing import Sequence

import pytest
from click.testing import CliRunner

from cli import main
from nertag import ModelError, load
from nertag.tagger import MAX_SENTENCE_TOKENS


def test_a_long_line_without_breaks_comes_back_whole() -> None:
    text = "张三出生于北京市，现任华为公司董事长" * 1200  # 21,600 characters, no sentence ends
    result = CliRunner().invoke(main, ["tag", "--model", "zh-resume"], input=text + "\n")
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert record["text"] == text
    assert record["entities"], "names and organisations should be found"
    assert all(text[e["start"] : e["end"]] == e["text"] for e in record["entities"])


def test_sentences_are_capped_for_bounded_memory() -> None:
    tagger = load("zh-resume")
    groups = tagger.tokenize("字" * 1000)
    assert max(len(g) for g in groups) <= MAX_SENTENCE_TOKENS["char"]
    assert sum(len(g) for g in groups) == 1000


def test_full_width_forms_share_features_and_keep_their_text() -> None:
    tagger = load("zh-resume")
    half = tagger.features.encode([list("ABC123，张三")])
    full = tagger.features.encode([list("ＡＢＣ１２３，张三")])
    assert half.words.tolist() == full.words.tolist()
    text = "ＡＢＣ公司董事长张三"
    assert all(text[e.start : e.end] == e.text for e in tagger.tag(text))


def test_sentences_read_as_lists_of_offsets_and_travel_whole() -> None:
    import pickle

    from nertag.records import Sentences

    groups = [[(0, 1), (1, 3)], [(4, 5)]]
    compact = Sentences.of([*groups, []])  # an empty group is no sentence
    assert compact == groups and list(compact) == groups and len(compact) == 2
    assert compact[-1] == [(4, 5)] and compact[0:1] == groups[:1] and compact.size(0) == 2
    assert compact.tokens("abcde", 0) == ["a", "bc"] and compact.tokens("abcde", 1) == ["e"]
    assert pickle.loads(pickle.dumps(compact)) == compact
    assert [compact.starts_token(p) for p in range(6)] == [True, True, False, False, True, False]
    assert [compact.ends_token(p) for p in range(6)] == [False, True, False, True, False, True]
    assert compact.token_around(2) == (1, 3) and compact.token_around(1) is None and compact.token_around(9) is None
    assert Sentences.one_char_tokens([0, 2, 3]) == [[(0, 1), (1, 2)], [(2, 3)]] and Sentences.one_char_tokens([0]) == []
    with pytest.raises(IndexError):
        compact[2]


def test_a_huge_line_tags_in_sentence_groups_with_the_same_entities(zh_model_dir, monkeypatch: pytest.MonkeyPatch) -> None:
    """A text's sentences reach the network a bounded group at a time; the groups change nothing."""
    import nertag.tagger

    tagger = load(str(zh_model_dir), precision="float32")
    text = "".join(["张三出生于北京市。", "李四在上海工作，", "王五 访问 Paris！", "<b>赵六</b>到了南京。"] * 40)
    whole = tagger.tag_texts([text, "张三。"])
    monkeypatch.setattr(nertag.tagger, "ENCODE_TOKENS", 7)  # a group a sentence or two
    groups: list[tuple[int, int]] = []  # (sentences, tokens) of each group
    predict_spans = tagger._predict_spans
    monkeypatch.setattr(tagger, "_predict_spans", lambda tokens, *rest: groups.append((len(tokens), sum(map(len, tokens)))) or predict_spans(tokens, *rest))
    grouped = tagger.tag_texts([text, "张三。"])
    assert [t.entities for t in grouped] == [t.entities for t in whole] and whole[0].entities
    assert grouped[0].sentences == whole[0].sentences == tagger.tokenize(text)
    assert len(groups) > 100 and all(size <= 7 or count == 1 for count, size in groups)  # never the whole text


def test_a_huge_line_holds_no_python_object_per_character(zh_model_dir, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tokens as tuples and strings cost about 200 bytes a character: a 2-million-character line
    took 700 MB. What a text keeps is now flat arrays, and only one group's strings exist at once."""
    import tracemalloc

    import nertag.tagger

    tagger = load(str(zh_model_dir), precision="float32")
    monkeypatch.setattr(nertag.tagger, "ENCODE_TOKENS", 20_000)
    texts = ("张三出生于北京市，李四在上海工作。" * 20_000, "张三 出生于 北京市，李四 在 上海工作。" * 16_000, "今天的天气很好，我们去公园散步吧。" * 20_000)
    for text in texts:
        tagger.tag_texts([text[:1000]])
        tracemalloc.start()
        try:
            tagged = tagger.tag_texts([text])[0]
            kept, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert sum(map(len, tagged.sentences)) == len(text.replace(" ", ""))
        # Before: about 100 bytes a character in passing and 135 kept besides the entities.
        assert peak - kept < 30 * len(text), f"{(peak - kept) / len(text):.0f} bytes a character in passing"
        assert kept < 16 * len(text) + 400 * len(tagged.entities), f"{kept / len(text):.0f} bytes a character kept"


def test_an_input_of_one_chunk_is_tagged_without_workers(zh_model_dir) -> None:
    """Workers have one thread each: a single huge line sent to one of them left the other cores idle."""
    import io

    from nertag.commands.tag import tag_stream
    from nertag.parallel import ModelSpec
    from nertag.routing import ModelChoice

    choice = ModelChoice(str(zh_model_dir), lambda name: load(name, precision="float32"))
    unloadable = ModelSpec("/no/such/model")  # a worker would fail to start with this
    out = io.StringIO()
    tag_stream([["张三出生于北京市。" * 3000]], choice, out, "jsonl", workers=(2, unloadable))
    assert json.loads(out.getvalue())["text"] == "张三出生于北京市。" * 3000
    with pytest.raises(ModelError, match="no/such/model"):  # two chunks do go to workers
        tag_stream([["张三。"], ["李四。"]], choice, io.StringIO(), "jsonl", workers=(2, unloadable))


def test_a_huge_line_among_other_chunks_is_tagged_in_process_in_its_place(zh_model_dir) -> None:
    from nertag.parallel import ModelSpec, tag_in_workers
    from nertag.routing import ModelChoice
    from nertag.text_input import CHUNK_CHARS

    choice = ModelChoice(str(zh_model_dir), lambda name: load(name, precision="float32"))
    huge = "张三出生于北京市。" * (CHUNK_CHARS // 9 + 1)
    chunks = [["张三。"], [huge], ["李四。", "王五。"]]
    here: list[Sequence[str]] = []
    tagged = list(tag_in_workers(iter(chunks), ModelSpec(str(zh_model_dir), precision="float32"), 2,
                                 here=lambda lines: here.append(lines) or choice.tag(lines)))
    assert [lines for lines, _ in tagged] == chunks and here == [[huge]]
    assert [t.text for _, results in tagged for _, t in results] == ["张三。", huge, "李四。", "王五。"]
    assert tagged[1][1][0][1].entities


def test_columns_are_written_a_sentence_at_a_time(zh_model_dir) -> None:
    """CoNLL output of a huge line once built every (token, tag) pair and one string of them all."""
    import io

    from nertag.formats import RecordWriter

    tagger = load(str(zh_model_dir), precision="float32")
    tagged = tagger.tag_texts(["张三出生于北京市。李四在上海工作。"])[0]
    writes: list[str] = []

    class Recording(io.StringIO):
        def write(self, text: str) -> int:
            writes.append(text)
            return super().write(text)

    out = Recording()
    RecordWriter(out, "conll").write("m", tagged, tagged.entities)
    columns = [f"{token} {tag}\n" for sentence in tagged.token_tags() for token, tag in sentence]
    assert out.getvalue() == "".join(columns) + "\n" and len(writes) == len(tagged.sentences) + 1
