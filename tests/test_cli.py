"""The CLI through click's CliRunner: train, tag, score, and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main


@pytest.fixture()
def runner() -> CliRunner:
    return CliRunner()


def test_train_tag_score(runner: CliRunner, en_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "model"
    result = runner.invoke(
        main,
        ["train", "--train", str(en_path), "--dev", str(en_path), "--out", str(out), "--epochs", "2",
         "--word-dim", "8", "--char-dim", "4", "--hidden-size", "8", "--device", "cpu",
         "--plot", str(tmp_path / "training.svg")],
    )
    assert result.exit_code == 0, result.output
    chart = (tmp_path / "training.svg").read_text()
    assert chart.startswith("<svg") and chart.count("<polyline") == 2 and "best dev F1" in chart
    assert "epoch   1" in result.stderr and "saved" in result.stderr
    config = json.loads((out / "config.json").read_text())
    assert config["training"]["corpus_scheme"] == "BIO" and config["model"]["token_unit"] == "word"
    assert [h["epoch"] for h in config["training"]["history"]] == [1, 2]

    text = "EU rejects German call.\nPeter Blackburn\n"
    tagged = runner.invoke(main, ["tag", "--model", str(out)], input=text)
    assert tagged.exit_code == 0, tagged.output
    records = [json.loads(line) for line in tagged.stdout.splitlines()]
    assert [r["text"] for r in records] == ["EU rejects German call.", "Peter Blackburn"]
    for record in records:
        for entity in record["entities"]:
            assert record["text"][entity["start"] : entity["end"]] == entity["text"]

    conll = runner.invoke(main, ["tag", "--model", str(out), "--format", "conll"], input="EU rejects\n")
    assert conll.exit_code == 0
    assert [line.split()[0] for line in conll.stdout.splitlines() if line] == ["EU", "rejects"]

    scored = runner.invoke(main, ["score", str(en_path), "--model", str(out), "--json"])
    assert scored.exit_code == 0, scored.output
    report = json.loads(scored.stdout)
    assert set(report["micro"]) >= {"precision", "recall", "f1"} and "per_type" in report


def test_tag_files_and_output_file(runner: CliRunner, en_model_dir: Path, tmp_path: Path) -> None:
    source = tmp_path / "in.txt"
    source.write_text("John Smith visited New York.\r\n\r\nReuters\r\n", encoding="utf-8")
    target = tmp_path / "out.jsonl"
    result = runner.invoke(main, ["tag", str(source), "--model", str(en_model_dir), "-o", str(target)])
    assert result.exit_code == 0, result.output
    texts = [json.loads(line)["text"] for line in target.read_text(encoding="utf-8").splitlines()]
    assert texts == ["John Smith visited New York.", "", "Reuters"]


def test_conll_output_names_the_lines_whose_characters_it_loses(
    runner: CliRunner, en_model_dir: Path, zh_model_dir: Path, tmp_path: Path
) -> None:
    """A column file keeps tokens only: a Chinese line loses any space, an English one a tab or a
    second space, any line its markup. One warning names the first such line and counts the rest."""
    english = tmp_path / "en.txt"
    english.write_text("EU rejects German call.\nPeter Blackburn\n", encoding="utf-8")
    kept = runner.invoke(main, ["tag", str(english), "--model", str(en_model_dir), "--format", "conll"])
    assert kept.exit_code == 0 and kept.stderr == ""  # one space between words comes back

    english.write_text("EU rejects German call.\nPeter\tBlackburn\nok\nJohn  Smith\n", encoding="utf-8")
    lost = runner.invoke(main, ["tag", str(english), "--model", str(en_model_dir), "--format", "conll"])
    assert lost.exit_code == 0
    assert lost.stderr.startswith(f"nertag: warning: {english}:2: this and 1 more lines hold spaces, tabs")
    assert "CoNLL output loses" in lost.stderr and len(lost.stderr.splitlines()) == 1

    chinese = tmp_path / "zh.txt"
    chinese.write_text("我爱北京\n<b>我</b>爱北京\n", encoding="utf-8")
    both = runner.invoke(main, ["tag", str(english), str(chinese), "--model", str(zh_model_dir), "--format", "conll"])
    assert both.exit_code == 0
    assert both.stderr.startswith(f"nertag: warning: {english}:1: this and 3 more lines hold")  # "ok" and 我爱北京 are whole
    alone = runner.invoke(main, ["tag", "--model", str(zh_model_dir), "--format", "conll"], input="我爱\n我 爱\n")
    assert alone.stderr.startswith("nertag: warning: <stdin>:2: this line holds spaces")
    assert runner.invoke(main, ["tag", str(english), "--model", str(en_model_dir)]).stderr == ""  # jsonl keeps the text


@pytest.mark.parametrize(
    "arguments",
    [["tag", "{folder}"], ["score", "{folder}", "{folder}"], ["convert", "{folder}", "-", "--from", "doccano", "--to", "jsonl"],
     ["tag", "{text}", "-o", "{folder}"], ["tag", "{text}", "--dictionary", "{folder}"]],
)
def test_a_folder_given_as_a_file_gets_one_line_not_a_usage_screen(
    runner: CliRunner, arguments: list[str], en_model_dir: Path, tmp_path: Path
) -> None:
    text = tmp_path / "in.txt"
    text.write_text("Peter\n", encoding="utf-8")
    filled = [a.format(folder=tmp_path, text=text) for a in arguments] + (["--model", str(en_model_dir)] if arguments[0] == "tag" else [])
    result = runner.invoke(main, filled)
    assert result.exit_code == 1
    [line] = result.stderr.splitlines()
    assert line.startswith(f"nertag: error: {tmp_path}: is a ")


def test_tag_pretokenized_conll(runner: CliRunner, en_model_dir: Path, en_path: Path) -> None:
    result = runner.invoke(main, ["tag", str(en_path), "--input-format", "conll", "--format", "conll", "--model", str(en_model_dir)])
    assert result.exit_code == 0, result.output
    assert len([line for line in result.stdout.splitlines() if line]) == 35


def test_score_two_files(runner: CliRunner, en_path: Path, tmp_path: Path) -> None:
    result = runner.invoke(main, ["score", str(en_path), str(en_path)])
    assert result.exit_code == 0
    assert "micro avg" in result.stdout and "100.00" in result.stdout


@pytest.mark.parametrize(
    ("pred_text", "message"),
    [
        ("EU B-ORG\n", "sentence 1 has 1 tokens but"),
        ("XX B-ORG\nrejects O\n", "token 'XX' differs from"),
    ],
)
def test_misaligned_prediction_is_one_line_error(runner: CliRunner, tmp_path: Path, pred_text: str, message: str) -> None:
    gold = tmp_path / "gold.txt"
    gold.write_text("EU B-ORG\nrejects O\n")
    pred = tmp_path / "pred.txt"
    pred.write_text(pred_text)
    result = runner.invoke(main, ["score", str(gold), str(pred)])
    assert result.exit_code == 1
    assert message in result.stderr and "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1


def test_bad_inputs_exit_nonzero_with_one_line(runner: CliRunner, tmp_path: Path, en_model_dir: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text("EU B-ORG\nrejects\n")
    result = runner.invoke(main, ["train", "--train", str(bad), "--dev", str(bad), "--out", str(tmp_path / "m")])
    assert result.exit_code == 1
    assert result.stderr.strip() == f"nertag: error: {bad}:2: expected a token and a tag, got 1 column"
    assert not (tmp_path / "m").exists()

    missing = runner.invoke(main, ["tag", "--model", str(tmp_path / "nowhere")], input="text\n")
    assert missing.exit_code == 1 and "neither a built-in model (" in missing.stderr

    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("caf\xe9\n".encode("latin-1"))
    target = tmp_path / "out.jsonl"
    result = runner.invoke(main, ["tag", str(latin1), "--model", str(en_model_dir), "-o", str(target)])
    assert result.exit_code == 1 and "not UTF-8" in result.stderr
    assert not target.exists()


def test_confidence_is_reported_and_filters(runner: CliRunner, en_model_dir: Path) -> None:
    text = "John Smith visited New York for Reuters .\n"
    result = runner.invoke(main, ["tag", "--model", str(en_model_dir)], input=text)
    entities = json.loads(result.stdout)["entities"]
    assert entities and all(0.0 <= e["confidence"] <= 1.0 for e in entities)
    threshold = round(max(e["confidence"] for e in entities) - 0.001, 6)  # clear of the 4-digit rounding
    kept = runner.invoke(main, ["tag", "--model", str(en_model_dir), "--min-confidence", str(threshold)], input=text)
    assert json.loads(kept.stdout)["entities"] == [e for e in entities if e["confidence"] >= threshold]


def test_score_writes_errors_side_by_side(runner: CliRunner, tmp_path: Path) -> None:
    gold = tmp_path / "gold.txt"
    gold.write_text("EU B-ORG\nrejects O\n\nPeter B-PER\nBlackburn I-PER\n")
    pred = tmp_path / "pred.txt"
    pred.write_text("EU B-ORG\nrejects O\n\nPeter B-PER\nBlackburn O\n")
    errors = tmp_path / "errors.txt"
    result = runner.invoke(main, ["score", str(gold), str(pred), "--errors", str(errors)])
    assert result.exit_code == 0, result.output
    written = errors.read_text().splitlines()
    assert written[0] == f"# {gold}:4"
    assert written[2].split() == ["Blackburn", "I-PER", "O", "<--"]
    assert len([line for line in written if line.startswith("#")]) == 1


def test_nbest_readings(runner: CliRunner, en_model_dir: Path) -> None:
    from nertag import tag, tag_nbest

    text = "John Smith visited New York . Reuters"
    readings = tag_nbest(text, 3, model=str(en_model_dir))
    assert len(readings) == 2  # two sentences
    for options in readings:
        probabilities = [r.probability for r in options]
        assert 1 <= len(options) <= 3 and probabilities == sorted(probabilities, reverse=True)
        assert sum(probabilities) <= 1.0 + 1e-6
        for reading in options:
            assert all(text[e.start : e.end] == e.text and reading.start <= e.start for e in reading.entities)
    best = {(e.text, e.label) for options in readings for e in options[0].entities}
    assert best == {(e.text, e.label) for e in tag(text, model=str(en_model_dir))}
    result = runner.invoke(main, ["tag", "--model", str(en_model_dir), "--nbest", "2"], input=text + "\n")
    record = json.loads(result.stdout)
    assert record["text"] == text and len(record["sentences"]) == 2
    assert all(1 <= len(s) <= 2 and "probability" in s[0] for s in record["sentences"])


def test_more_bad_inputs(runner: CliRunner, tmp_path: Path, en_model_dir: Path) -> None:
    import shutil

    gold = tmp_path / "gold.txt"
    gold.write_text("Paris B-CITY\n")
    unknown = runner.invoke(main, ["score", str(gold), "--model", str(en_model_dir)])
    assert unknown.exit_code == 1 and "labels the model does not know: CITY" in unknown.stderr

    incomplete = tmp_path / "incomplete"
    shutil.copytree(en_model_dir, incomplete)
    (incomplete / "vocab.json").unlink()
    result = runner.invoke(main, ["tag", "--model", str(incomplete)], input="x\n")
    assert result.exit_code == 1 and "vocab.json is missing" in result.stderr

    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n")
    result = runner.invoke(main, ["score", str(empty), str(empty)])
    assert result.exit_code == 1 and "no sentences" in result.stderr
    assert "Traceback" not in unknown.output + result.output


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="this machine has a GPU")
def test_cuda_without_a_gpu_is_a_one_line_error(runner: CliRunner, en_model_dir: Path, en_path: Path, tmp_path: Path) -> None:
    tagged = runner.invoke(main, ["tag", "--model", str(en_model_dir), "--device", "cuda"], input="x\n")
    trained = runner.invoke(main, ["train", "--train", str(en_path), "--dev", str(en_path),
                                   "--out", str(tmp_path / "m"), "--device", "cuda"])
    for result in (tagged, trained):
        assert result.exit_code == 1 and "no CUDA GPU is available" in result.stderr
        assert "Traceback" not in result.output


def test_options_that_would_be_ignored_are_refused(tmp_path: Path) -> None:
    from click.testing import CliRunner

    conll = tmp_path / "in.conll"
    conll.write_text("张 O\n三 O\n\n", encoding="utf-8")
    runner = CliRunner()
    for args in (["--input-format", "conll", "--nbest", "2"], ["--input-format", "conll", "--min-confidence", "0.9"],
                 ["--nbest", "2", "--min-confidence", "0.9"]):
        done = runner.invoke(main, ["tag", str(conll), "--model", "zh-general", *args])
        assert done.exit_code == 2 and "apply" in done.stderr, (args, done.stderr)
    both = runner.invoke(main, ["train", "--train", str(conll), "--dev", str(conll), "--dev-fraction", "0.1", "--out", str(tmp_path / "m")])
    assert both.exit_code == 2 and "not both" in both.stderr


def test_labels_are_single_words_in_label_maps_and_patterns(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from nertag.schemes import parse_label_map

    with pytest.raises(ValueError, match="single words"):
        parse_label_map(["PER=a b"])
    with pytest.raises(ValueError, match="label 'PER=X' holds = or"):
        parse_label_map(["NAME=PER=X"])  # a typo for two pairs, not the label PER=X
    with pytest.raises(ValueError, match="label 'B-PER' is a tag; its label is PER"):
        parse_label_map(["NAME=B-PER"])
    assert parse_label_map(["POSITION=O"]) == {"POSITION": "O"}  # O drops a label
    with pytest.raises(ValueError, match="O is no label"):
        parse_label_map(["O=PER"])
    patterns = tmp_path / "p.txt"
    patterns.write_text("N M\t\\d+\n", encoding="utf-8")
    done = CliRunner().invoke(main, ["tag", "--model", "zh-general", "--patterns", str(patterns)], input="12\n")
    assert done.exit_code == 1 and f"{patterns}:1: label 'N M'" in done.stderr


def test_a_full_device_is_named_in_the_error(tmp_path: Path) -> None:
    from click.testing import CliRunner

    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full here")
    done = CliRunner().invoke(main, ["tag", "--model", "zh-general", "-o", "/dev/full"], input="姚明在北京。\n")
    assert done.exit_code == 1 and done.stderr.strip() == "nertag: error: /dev/full: cannot write: No space left on device"


def test_one_huge_latin_token_stays_small(tmp_path: Path) -> None:
    from nertag import load

    text = "x" * 200_000
    entities = load("en-conll03").tag(text)
    assert all(text[e.start : e.end] == e.text for e in entities)
