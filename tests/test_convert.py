"""`nertag convert`: annotation exports and column files both ways, problems named with their line."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cli import main
from nertag.annotations import read_annotations
from nertag.commands.convert import convert_file
from nertag.conll import parse_conll, read_conll
from nertag.convert import to_documents, to_sentences
from nertag.errors import InputError
from nertag.schemes import Scheme, Span, convert

ZH = "姚明出生于河南省郑州市，祖籍浙江宁波。"
EN = "John Smith visited New York for Reuters."


def doccano(records: list[dict]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


def run(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(main, ["convert", *args], input=input)


def jsonl(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


def entities(record: dict) -> list[tuple[str, str]]:
    return [(e["label"], e["text"]) for e in record["entities"]]


def test_doccano_to_conll_to_jsonl_keeps_the_entities(tmp_path: Path) -> None:
    source = tmp_path / "doccano.jsonl"
    source.write_text(doccano([
        {"id": 1, "text": ZH, "label": [[0, 2, "PER"], [5, 11, "LOC"], [14, 18, "LOC"]]},
        {"id": 2, "text": "他在Google工作。", "label": [[2, 8, "ORG"]]},
    ]), encoding="utf-8")
    conll = tmp_path / "out.conll"
    first = run(str(source), str(conll), "--from", "doccano", "--to", "conll")
    assert first.exit_code == 0, first.output
    assert "converted 2 documents with 4 entities (doccano to conll, char tokens)" in first.stderr
    assert "G B-ORG\no I-ORG\n" in conll.read_text(encoding="utf-8")  # one character a token
    back = run(str(conll), "-", "--from", "conll", "--to", "jsonl")
    assert back.exit_code == 0, back.output
    # Character tokens joined without spaces: the texts and offsets come back exactly.
    assert jsonl(back.stdout) == [
        {"text": ZH, "entities": [
            {"start": 0, "end": 2, "label": "PER", "text": "姚明"},
            {"start": 5, "end": 11, "label": "LOC", "text": "河南省郑州市"},
            {"start": 14, "end": 18, "label": "LOC", "text": "浙江宁波"},
        ]},
        {"text": "他在Google工作。", "entities": [{"start": 2, "end": 8, "label": "ORG", "text": "Google"}]},
    ]


def test_doccano_english_through_word_tokens(tmp_path: Path) -> None:
    source = tmp_path / "doccano.jsonl"
    source.write_text(doccano([{"text": EN, "label": [[0, 10, "PER"], [19, 27, "LOC"]]}]), encoding="utf-8")
    result = run(str(source), "-", "--from", "doccano", "--to", "conll")
    assert result.exit_code == 0, result.output
    rows = [line.split() for line in result.stdout.splitlines()]
    assert rows == [["John", "B-PER"], ["Smith", "I-PER"], ["visited", "O"], ["New", "B-LOC"], ["York", "I-LOC"],
                    ["for", "O"], ["Reuters", "O"], [".", "O"], []]
    again = jsonl(run("-", "-", "--from", "conll", "--to", "jsonl", input=result.stdout).stdout)
    assert again == [{"text": "John Smith visited New York for Reuters .", "entities": [
        {"start": 0, "end": 10, "label": "PER", "text": "John Smith"}, {"start": 19, "end": 27, "label": "LOC", "text": "New York"},
    ]}]


@pytest.mark.parametrize("fixture", ["zh_path", "en_path"])
def test_conll_to_jsonl_to_conll_gives_the_same_tags_in_bio(fixture: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    path: Path = request.getfixturevalue(fixture)
    middle = tmp_path / "middle.jsonl"
    assert run(str(path), str(middle), "--from", "conll", "--to", "jsonl").exit_code == 0
    for record in jsonl(middle.read_text(encoding="utf-8")):
        assert all(record["text"][e["start"] : e["end"]] == e["text"] for e in record["entities"])
    back = run(str(middle), "-", "--from", "jsonl", "--to", "conll")
    assert back.exit_code == 0, back.output
    original = read_conll(path)
    again = parse_conll(back.stdout)
    assert [s.tokens for s in again] == [s.tokens for s in original]
    assert [list(s.tags) for s in again] == [convert(s.tags, Scheme.BIO) for s in original]


def test_conll_to_conll_changes_the_scheme(zh_path: Path) -> None:
    result = run(str(zh_path), "-", "--from", "conll", "--to", "conll", "--scheme", "BIOES")
    assert result.exit_code == 0, result.output
    again = parse_conll(result.stdout)
    assert [list(s.tags) for s in again] == [convert(s.tags, Scheme.BIOES) for s in read_conll(zh_path)]
    assert "M-" not in result.stdout and "E-LOC" in result.stdout


def test_doccano_variants(tmp_path: Path) -> None:
    text = doccano([
        {"data": "北京欢迎你", "label": [[0, 2, "LOC"]]},  # doccano 1.x
        {"text": "上海欢迎你", "entities": [{"id": 7, "label": "LOC", "start_offset": 0, "end_offset": 2}]},  # doccano 1.6+
        {"text": "没有实体", "label": []},
    ])
    documents = read_annotations(text, "d.jsonl", "doccano")
    assert [(d.text, d.spans, d.line) for d in documents] == [
        ("北京欢迎你", (Span(0, 2, "LOC"),), 1), ("上海欢迎你", (Span(0, 2, "LOC"),), 2), ("没有实体", (), 3),
    ]


def test_whitespace_at_an_entity_edge_is_trimmed() -> None:
    [document] = read_annotations(doccano([{"text": "Visit New York now", "label": [[5, 15, "LOC"]]}]), "d", "doccano")
    assert document.spans == (Span(6, 14, "LOC"),)
    with pytest.raises(InputError, match=r"d:1: entity \[5, 6\) LOC holds only whitespace"):
        read_annotations(doccano([{"text": "Visit New York", "label": [[5, 6, "LOC"]]}]), "d", "doccano")


def test_spacy_style_forms() -> None:
    text = "\n".join(json.dumps(r, ensure_ascii=False) for r in [
        {"text": "Apple is in Cupertino", "entities": [[0, 5, "ORG"], [12, 21, "LOC"]]},  # spaCy training data
        ["Apple is in Cupertino", {"entities": [[0, 5, "ORG"]]}],  # spaCy v2 tuples
        {"text": "Apple is in Cupertino", "spans": [{"start": 0, "end": 5, "label": "ORG", "token_start": 0, "token_end": 0}], "answer": "accept"},  # Prodigy
        {"text": "Apple is in Cupertino", "spans": [{"start": 0, "end": 5, "label": "LOC"}], "answer": "reject"},  # skipped
        {"text": "Apple is in Cupertino", "ents": [{"start": 12, "end": 21, "label": "GPE"}]},  # displaCy
        {"text": "Apple is in Cupertino", "entities": [{"start": 0, "end": 5, "label": "ORG", "text": "Apple"}]},  # nertag
    ])
    found = [(d.line, d.spans) for d in read_annotations(text, "s.jsonl", "spacy")]
    assert found == [
        (1, (Span(0, 5, "ORG"), Span(12, 21, "LOC"))), (2, (Span(0, 5, "ORG"),)), (3, (Span(0, 5, "ORG"),)),
        (5, (Span(12, 21, "GPE"),)), (6, (Span(0, 5, "ORG"),)),
    ]


def test_label_studio_export(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    tasks = [
        {"id": 1, "data": {"text": "😀 Alice met Bob."}, "annotations": [
            {"was_cancelled": True, "result": [{"type": "labels", "value": {"start": 9, "end": 12, "text": "Bob", "labels": ["PER"]}}]},
            {"result": [
                # Offsets in UTF-16 units, as the browser counted them: the emoji is two.
                {"type": "labels", "value": {"start": 3, "end": 8, "text": "Alice", "labels": ["PER"]}},
                {"type": "relation", "from_id": "a", "to_id": "b"},
                {"type": "choices", "value": {"choices": ["news"]}},
            ]},
        ]},
        {"id": 2, "data": {"body": "Nobody looked at this"}, "annotations": []},
        {"id": 3, "data": {"url": 1, "body": "Paris is nice"}, "annotations": [{"result": [{"value": {"start": 0, "end": 5, "text": "Paris", "labels": ["LOC"]}}]}]},
        {"id": 4, "data": {"text": "Seen, nothing in it"}, "annotations": [{"result": []}]},
    ]
    source = tmp_path / "export.json"
    source.write_text(json.dumps(tasks, ensure_ascii=False, indent=2), encoding="utf-8")
    caplog.set_level(logging.INFO, logger="nertag")
    result = run(str(source), "-", "--from", "label-studio", "--to", "jsonl")
    assert result.exit_code == 0, result.output
    assert jsonl(result.stdout) == [
        {"text": "😀 Alice met Bob.", "entities": [{"start": 2, "end": 7, "label": "PER", "text": "Alice"}]},
        {"text": "Paris is nice", "entities": [{"start": 0, "end": 5, "label": "LOC", "text": "Paris"}]},
        {"text": "Seen, nothing in it", "entities": []},
    ]
    assert "skipped 1 Label Studio task with no annotation" in caplog.text
    assert "several annotations" not in caplog.text  # a cancelled one does not count

    tasks[2]["annotations"].append({"result": []})  # a second annotator saw no entity
    source.write_text(json.dumps(tasks, ensure_ascii=False, indent=2), encoding="utf-8")
    result = run(str(source), "-", "--from", "label-studio", "--to", "jsonl")
    assert jsonl(result.stdout)[1]["entities"] == [{"start": 0, "end": 5, "label": "LOC", "text": "Paris"}]
    line = [n for n, text in enumerate(json.dumps(tasks, ensure_ascii=False, indent=2).split("\n"), 1) if text == "  {"][2]
    assert f"{source}:{line}: this task holds several annotations; the first of each was used" in caplog.text


def test_a_spacy_record_giving_spans_under_two_keys_is_read_once_or_refused() -> None:
    one = json.dumps({"text": ZH, "entities": [], "ents": [[0, 2, "PER"]]}, ensure_ascii=False)
    assert [d.spans for d in read_annotations(one, "s.jsonl", "spacy")] == [(Span(0, 2, "PER"),)]  # the key that has them
    both = json.dumps({"text": ZH, "entities": [[0, 2, "PER"]], "ents": [[0, 2, "LOC"]]}, ensure_ascii=False)
    with pytest.raises(InputError, match=r"s\.jsonl:1: the record gives different spans under entities and ents"):
        read_annotations(both, "s.jsonl", "spacy")


def test_one_json_list_of_records_reads_like_json_lines() -> None:
    records = [{"text": EN, "label": [[0, 10, "PER"], [20, 28, "LOC"]]}, {"text": ZH, "label": [[0, 2, "PER"]]}]
    as_lines = read_annotations(doccano(records), "d.jsonl", "doccano")
    listed = json.dumps(records, ensure_ascii=False, indent=2)
    as_list = read_annotations(listed, "d.json", "doccano")
    assert [(d.text, d.spans) for d in as_list] == [(d.text, d.spans) for d in as_lines]
    starts = [number for number, line in enumerate(listed.split("\n"), 1) if line == "  {"]
    assert [d.line for d in as_list] == starts == [2, 17]  # the line each record starts on
    tuples = [["Apple is in Cupertino", {"entities": [[0, 5, "ORG"]]}], ["Bob is here", {"entities": [[0, 3, "PER"]]}]]
    found = read_annotations(json.dumps(tuples), "train.json", "spacy")
    assert [d.spans for d in found] == [(Span(0, 5, "ORG"),), (Span(0, 3, "PER"),)]
    # One spaCy tuple on one line is still a JSON-lines file of one record.
    assert [d.spans for d in read_annotations(json.dumps(tuples[0]), "one.jsonl", "spacy")] == [(Span(0, 5, "ORG"),)]
    with pytest.raises(InputError, match=r"d.json:3: entity \[0, 99\) PER lies outside"):
        one_a_line = [records[0], {"text": EN, "label": [[0, 99, "PER"]]}]
        read_annotations("[\n" + ",\n".join(json.dumps(r, ensure_ascii=False) for r in one_a_line) + "\n]\n", "d.json", "doccano")


def test_label_studio_json_min_export(tmp_path: Path) -> None:
    tasks = [
        {"id": 7, "text": ZH, "ner": [{"start": 0, "end": 2, "text": "姚明", "labels": ["PER"]},
                                      {"start": 5, "end": 8, "text": "河南省", "labels": ["LOC"]}],
         "annotator": 1, "annotation_id": 3, "created_at": "2026-11-24T01:00:00Z", "lead_time": 4.2},
        {"id": 8, "text": "Nothing to see here", "annotator": 1},
        {"id": 9, "body": "😀 Alice met Bob.", "label": [{"start": 3, "end": 8, "text": "Alice", "labels": ["PER"]}]},
    ]
    source = tmp_path / "min.json"
    source.write_text(json.dumps(tasks, ensure_ascii=False), encoding="utf-8")
    result = run(str(source), "-", "--from", "label-studio", "--to", "jsonl")
    assert result.exit_code == 0, result.output
    assert [entities(r) for r in jsonl(result.stdout)] == [[("PER", "姚明"), ("LOC", "河南省")], [], [("PER", "Alice")]]
    two = [{"text": EN, "a": [{"start": 0, "end": 4, "labels": ["PER"]}], "b": [{"start": 5, "end": 10, "labels": ["PER"]}]}]
    with pytest.raises(InputError, match="more than one list of labelled spans"):
        read_annotations(json.dumps(two), "two.json", "label-studio")
    with pytest.raises(InputError, match="exactly one"):
        read_annotations(json.dumps([{"text": EN, "label": [{"start": 0, "end": 4, "labels": ["PER", "ORG"]}]}]), "m.json", "label-studio")


@pytest.mark.parametrize(
    ("records", "message"),
    [
        ([{"text": EN, "label": [[0, 10, "PER"], [5, 18, "ORG"]]}],
         "d.jsonl:1: overlapping entities [0, 10) PER 'John Smith' and [5, 18) ORG 'Smith visited'"),
        ([{"text": EN, "label": [[0, 4, "PER"]]}, {"text": EN, "label": [[35, 45, "ORG"]]}],
         "d.jsonl:2: entity [35, 45) ORG lies outside the text of 40 characters"),
        ([{"text": EN, "label": [[0, 10, "PER"]]}, {"text": EN, "label": [[0, 3, "PER"]]}],
         "d.jsonl:2: entity [0, 3) PER 'Joh' ends inside the token 'John' [0, 4)"),
        ([{"text": EN, "label": [[0, 10]]}], "d.jsonl:1: expected a span [start, end, label] with whole-number offsets, got [0, 10]"),
        ([{"text": EN, "label": ["news"]}], "d.jsonl:1: label holds bare labels"),
        ([{"label": []}], "d.jsonl:1: no text"),
    ],
)
def test_problems_are_reported_with_their_line(tmp_path: Path, records: list[dict], message: str) -> None:
    source = tmp_path / "d.jsonl"
    source.write_text(doccano(records), encoding="utf-8")
    target = tmp_path / "out.conll"
    target.write_text("kept\n", encoding="utf-8")
    os.chdir(tmp_path)
    result = run("d.jsonl", "out.conll", "--from", "doccano", "--to", "conll")
    assert result.exit_code == 1
    [line] = result.stderr.splitlines()
    assert line.startswith(f"nertag: error: {message}")
    assert target.read_text(encoding="utf-8") == "kept\n"  # nothing written over it


def test_every_problem_is_named(tmp_path: Path) -> None:
    source = tmp_path / "d.jsonl"
    source.write_text(
        doccano([{"text": EN, "label": [[0, 3, "PER"]]}]) + "{not json\n\n"
        + doccano([{"text": "abc", "label": [[0, 1, "X"], [0, 2, "Y"]]}, {"text": EN, "label": [[0, 4, "PER"]]}]),
        encoding="utf-8",
    )
    with pytest.raises(InputError) as raised:
        convert_file(str(source), str(tmp_path / "out"), "doccano", "conll")
    assert str(raised.value) == (
        f"{source}:1: entity [0, 3) PER 'Joh' ends inside the token 'John' [0, 4); fix the entity's edge "
        "(nertag does not move it) (and 2 more problems, at line 2, 4)"
    )
    assert "bad JSON" in next(m for line, m in _problems(source) if line == 2)
    assert not (tmp_path / "out").exists()


def _problems(source: Path) -> list[tuple[int | None, str]]:
    from nertag.annotations import Problems

    problems = Problems(str(source))
    read_annotations(source.read_text(encoding="utf-8"), str(source), "doccano", problems)
    return problems.found


def test_text_that_does_not_match_the_offsets() -> None:
    tasks = [{"data": {"text": "Alice met Bob"}, "annotations": [{"result": [{"value": {"start": 0, "end": 5, "text": "Alicia", "labels": ["PER"]}}]}]}]
    with pytest.raises(InputError, match=r"ls.json:1: entity \[0, 5\) PER covers 'Alice', but its text is 'Alicia'"):
        read_annotations(json.dumps(tasks), "ls.json", "label-studio")
    with pytest.raises(InputError, match=r"s:1: entity \[0, 3\) ORG covers 'Ali', but its text is 'Bob'"):
        read_annotations(json.dumps({"text": "Alice", "entities": [{"start": 0, "end": 3, "label": "ORG", "text": "Bob"}]}), "s", "spacy")


def test_bad_json_names_line_and_column() -> None:
    broken = '[\n  {"data": {"text": "a"}, "annotations": []},\n  {"data": oops}\n]'
    with pytest.raises(InputError, match=r"ls.json:3: bad JSON: Expecting value \(column 12\)"):
        read_annotations(broken, "ls.json", "label-studio")
    with pytest.raises(InputError, match=r"ls.json:1: expected a JSON list of tasks"):
        read_annotations('{"data": {}}', "ls.json", "label-studio")
    with pytest.raises(InputError, match=r"d:2: bad JSON: Expecting ',' delimiter \(column 14\)"):
        read_annotations('{"text": ""}\n{"text": "a" "label": []}\n', "d", "doccano")
    with pytest.raises(InputError, match=r"^d: no documents"):
        read_annotations("\n\n", "d", "doccano")


def test_label_studio_before_1_0_wrote_completions() -> None:
    tasks = [{"data": {"text": "Alice"}, "completions": [{"result": [{"value": {"start": 0, "end": 5, "labels": ["PER"]}}]}]}]
    assert read_annotations(json.dumps(tasks), "ls.json", "label-studio")[0].spans == (Span(0, 5, "PER"),)


def test_label_studio_multi_label_span_is_refused() -> None:
    tasks = [{"data": {"text": "Alice"}, "annotations": [{"result": [{"value": {"start": 0, "end": 5, "labels": ["PER", "ORG"]}}]}]}]
    with pytest.raises(InputError, match=r"has labels \['PER', 'ORG'\]; nertag's entities have exactly one"):
        read_annotations(json.dumps(tasks), "ls.json", "label-studio")


def test_python_api_both_ways() -> None:
    [document] = read_annotations(doccano([{"text": ZH, "label": [[0, 2, "PER"], [5, 11, "LOC"]]}]), "d", "doccano")
    [sentence] = to_sentences([document], "char", Scheme.BMES, "d")
    assert sentence.tags[:2] == ("B-PER", "E-PER") and sentence.tags[5:11] == ("B-LOC", "M-LOC", "M-LOC", "M-LOC", "M-LOC", "E-LOC")
    assert to_documents([sentence], "char") == [document]


def test_stdin_stdout_symlinks_and_inputs(tmp_path: Path) -> None:
    records = doccano([{"text": ZH, "label": [[0, 2, "PER"]]}])
    piped = run("-", "-", "--from", "doccano", "--to", "conll", input=records)
    assert piped.exit_code == 0, piped.output
    assert piped.stdout.startswith("姚 B-PER\n明 I-PER\n出 O\n")
    real = tmp_path / "real.conll"
    real.write_text("old\n", encoding="utf-8")
    os.chmod(real, 0o640)
    link = tmp_path / "link.conll"
    link.symlink_to(real)
    assert run("-", str(link), "--from", "doccano", "--to", "conll", input=records).exit_code == 0
    assert link.is_symlink() and real.read_text(encoding="utf-8") == piped.stdout
    assert oct(real.stat().st_mode & 0o777) == oct(0o640)
    source = tmp_path / "in.jsonl"
    source.write_text(records, encoding="utf-8")
    same = run(str(source), str(source), "--from", "doccano", "--to", "jsonl")
    assert same.exit_code == 1 and "is also an input" in same.stderr
    assert source.read_text(encoding="utf-8") == records
    missing = run(str(tmp_path / "nowhere.jsonl"), "-", "--from", "doccano", "--to", "conll")
    assert missing.exit_code == 1 and missing.stderr.strip() == f"nertag: error: {tmp_path / 'nowhere.jsonl'}: no such file"


def test_to_a_fifo(tmp_path: Path) -> None:
    import threading

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[str] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_text(encoding="utf-8")))
    reader.start()
    result = run("-", str(fifo), "--from", "spacy", "--to", "jsonl", input='{"text": "Paris", "entities": [[0, 5, "LOC"]]}\n')
    reader.join(timeout=10)
    assert result.exit_code == 0, result.output
    assert jsonl(got[0]) == [{"text": "Paris", "entities": [{"start": 0, "end": 5, "label": "LOC", "text": "Paris"}]}]


def test_a_label_holding_a_line_break_is_shown_escaped_so_the_error_is_one_line(tmp_path: Path) -> None:
    source = tmp_path / "d.jsonl"
    source.write_text(json.dumps({"text": "张三在北京", "entities": [{"start": 0, "end": 2, "label": "PER\nX"}]}) + "\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["convert", "--from", "jsonl", "--to", "conll", str(source), str(tmp_path / "out")])
    assert result.exit_code == 1
    [line] = result.stderr.splitlines()
    assert "entity [0, 2) 'PER\\nX' '张三'" in line


@pytest.mark.parametrize(
    ("label", "message"),
    [("O", "label O means no entity"), ("B-PER", "label B-PER is a tag; its label is PER")],
)
def test_labels_that_cannot_name_an_entity_type_are_refused(tmp_path: Path, label: str, message: str) -> None:
    source = tmp_path / "d.jsonl"
    source.write_text(json.dumps({"text": "张三在北京", "label": [[0, 2, label]]}) + "\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["convert", "--from", "doccano", "--to", "conll", str(source), "-"])
    assert result.exit_code == 1 and result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith(f"nertag: error: {source}:1: entity [0, 2): {message}")


def test_json_to_json_keeps_labels_with_spaces_which_only_columns_refuse(tmp_path: Path) -> None:
    source = tmp_path / "d.jsonl"
    source.write_text(json.dumps({"text": "Mona Lisa", "label": [[0, 9, "WORK OF ART"]]}) + "\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["convert", "--from", "doccano", "--to", "jsonl", str(source), "-"])
    assert result.exit_code == 0 and json.loads(result.stdout)["entities"][0]["label"] == "WORK OF ART"


def test_a_lone_surrogate_in_json_text_is_named_by_line_before_anything_is_written(tmp_path: Path) -> None:
    source = tmp_path / "d.jsonl"
    source.write_text('{"text": "张三在北京", "label": []}\n{"text": "张三\\ud800在", "label": []}\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["convert", "--from", "doccano", "--to", "conll", str(source), "-"])
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.strip() == f"nertag: error: {source}:2: text: not valid Unicode (surrogates not allowed) at character 2"


def test_text_a_column_file_cannot_hold_is_converted_with_one_warning_line(tmp_path: Path) -> None:
    source = tmp_path / "d.jsonl"
    lines = [{"text": "张三在北京", "entities": []}, {"text": "张三 在 北京。New York", "entities": [[8, 16, "LOC"]]},
             {"text": "李四\n来了", "entities": []}]
    source.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), encoding="utf-8")
    result = CliRunner().invoke(main, ["convert", "--from", "jsonl", "--to", "conll", str(source), str(tmp_path / "out")])
    assert result.exit_code == 0
    warning = [line for line in result.stderr.splitlines() if "warning" in line]
    assert warning == [
        f"nertag: warning: {source}:2: this and 1 more documents hold line breaks, tabs, runs of spaces or control "
        "characters (between characters, any space), which a column file loses"
    ]
    assert [s.tokens for s in read_conll(tmp_path / "out")][1][-7:] == tuple("NewYork")
    source.write_text(json.dumps(lines[0], ensure_ascii=False) + "\n", encoding="utf-8")
    clean = CliRunner().invoke(main, ["convert", "--from", "jsonl", "--to", "conll", str(source), str(tmp_path / "o2")])
    assert clean.exit_code == 0 and "warning" not in clean.stderr
