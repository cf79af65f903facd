"""Name swaps (``nertag train --swap-names``): copies of training sentences with their entities'
names swapped for listed names of the same label, everything else kept, tags and offsets right."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main
from nertag.config import TrainConfig, TrainingJob
from nertag.conll import Sentence, read_conll
from nertag.errors import InputError
from nertag.name_swap import check_swap_rate, read_names, swapped_copies
from nertag.schemes import spans


def _sentence(text: str, tags: str, source: int = 0) -> Sentence:
    return Sentence(tuple(text), tuple(tags.split()), 7, source)


NEWS = _sentence("新华社记者张三在北京报道", "B-ORG I-ORG E-ORG O O B-PER E-PER O B-LOC E-LOC O O", source=2)
PLAIN = _sentence("今天下雨", "O O O O")
PERSON_ONLY = _sentence("李四来了", "B-PER E-PER O O")


def test_a_copy_swaps_listed_labels_only_and_keeps_every_other_token() -> None:
    copies = swapped_copies([NEWS, PLAIN, PERSON_ONLY], {"ORG": ["腾讯"], "LOC": ["京津冀"]}, 1.0, seed=1, char_unit=True)
    assert len(copies) == 1  # no listed label in the other two
    copy = copies[0]
    assert "".join(copy.tokens) == "腾讯记者张三在京津冀报道"
    assert [("".join(copy.tokens[s.start : s.end]), s.label) for s in spans(copy.tags)] == [
        ("腾讯", "ORG"), ("张三", "PER"), ("京津冀", "LOC"),
    ]
    assert (copy.line, copy.source) == (NEWS.line, NEWS.source)  # same place and corpus style


def test_the_rate_is_a_share_of_the_eligible_sentences_and_the_seed_fixes_the_draw() -> None:
    sentences = [NEWS] * 400 + [PLAIN] * 400
    names = {"ORG": ["腾讯", "华为", "百度"], "LOC": ["京津冀", "深圳"]}
    assert swapped_copies(sentences, names, 0.0, seed=1, char_unit=True) == []
    some = swapped_copies(sentences, names, 0.3, seed=1, char_unit=True)
    assert 0.22 * 400 < len(some) < 0.38 * 400
    assert some == swapped_copies(sentences, names, 0.3, seed=1, char_unit=True)
    assert some != swapped_copies(sentences, names, 0.3, seed=2, char_unit=True)
    drawn = {"".join(c.tokens[s.start : s.end]) for c in some for s in spans(c.tags) if s.label != "PER"}
    assert drawn == {"腾讯", "华为", "百度", "京津冀", "深圳"}  # every name gets drawn
    with pytest.raises(ValueError, match="swap rate"):
        swapped_copies(sentences, names, 1.5, seed=1, char_unit=True)


def test_word_unit_names_are_split_at_spaces() -> None:
    sentence = Sentence(("Kim", "works", "at", "Acme", "."), ("B-PER", "O", "O", "B-ORG", "O"))
    copy, = swapped_copies([sentence], {"ORG": ["New York Times"]}, 1.0, seed=1, char_unit=False)
    assert copy.tokens == ("Kim", "works", "at", "New", "York", "Times", ".")
    assert [(s.start, s.end, s.label) for s in spans(copy.tags)] == [(0, 1, "PER"), (3, 6, "ORG")]


def test_read_names(tmp_path: Path) -> None:
    path = tmp_path / "names.tsv"
    path.write_text(
        "腾讯 \tORG\n# a comment\nTim Cook\tPER\n腾讯\tORG\n{\"phrase\": \"京津冀\", \"label\": \"LOC\"}\n华为\tPER\n华为\tORG\n",
        encoding="utf-8",
    )
    # Stripped, each once; a later entry wins, as in --dictionary; no spaces inside a char token.
    assert read_names(path, char_unit=True) == {"ORG": ["腾讯", "华为"], "LOC": ["京津冀"]}
    assert read_names(path, char_unit=False) == {"ORG": ["腾讯", "华为"], "PER": ["Tim Cook"], "LOC": ["京津冀"]}
    path.write_text("腾讯\tORG\n华为\tB-ORG\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"names\.tsv:2: label 'B-ORG' is a tag"):
        read_names(path, char_unit=True)
    path.write_text("Tim Cook\tPER\n", encoding="utf-8")
    with pytest.raises(InputError, match="holds no name to swap in .its 1 names hold spaces"):
        read_names(path, char_unit=True)


def test_the_rate_is_checked_as_the_cli_checks_it() -> None:
    assert check_swap_rate(1) == 1.0 and isinstance(check_swap_rate(1), float)
    for bad in (0, -0.1, 1.5, float("nan"), True, "0.3"):
        with pytest.raises(ValueError, match=r"swap_rate: expected a number in \(0, 1\]"):
            check_swap_rate(bad)


def test_the_job_keeps_its_names_for_resume(tmp_path: Path) -> None:
    job = TrainingJob(train=("a.bio",), out="m", dev="d.bio", swap_names="names.tsv", swap_rate=0.25, folder=str(tmp_path))
    again = TrainingJob.from_json(json.loads(json.dumps(job.to_json())))
    assert again == job
    assert again.resolved().swap_names == str(tmp_path / "names.tsv")
    assert TrainingJob(train=("a.bio",), out="m", dev="d.bio", swap_names="n.tsv").swap_rate == 0.3
    for bad in ({"swap_names": "n.tsv", "swap_rate": 0.0}, {"swap_rate": 0.5}, {"swap_names": "n.tsv", "swap_rate": 2.0}):
        with pytest.raises(ValueError, match="swap_rate"):
            TrainingJob(train=("a.bio",), out="m", dev="d.bio", **bad)


def _names(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "names.tsv"
    path.write_text(text, encoding="utf-8")
    return path


def test_cli_trains_on_the_copies_and_records_them(zh_path: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    names = _names(tmp_path, "腾讯\tORG\n百度\tORG\n深圳\tLOC\n")
    out = tmp_path / "model"
    caplog.set_level("INFO", logger="nertag")
    result = CliRunner().invoke(main, ["train", "--train", str(zh_path), "--dev", str(zh_path), "--out", str(out),
                                       "--swap-names", str(names), "--swap-rate", "1", "--hidden-size", "8",
                                       "--epochs", "1", "--threads", "1"])
    assert result.exit_code == 0, result.output
    training = json.loads((out / "config.json").read_text(encoding="utf-8"))["training"]
    eligible = sum(any(s.label in ("ORG", "LOC") for s in spans(x.tags)) for x in read_conll(zh_path))
    digest = hashlib.sha256(names.read_bytes()).hexdigest()
    assert training["name_swaps"] == {"names": "names.tsv", "names_sha256": digest, "rate": 1.0, "copies": eligible}
    assert f"{names}: {eligible} name-swapped copies of" in caplog.text


def test_cli_names_a_label_the_corpora_lack(zh_path: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    names = _names(tmp_path, "腾讯\tORG\n张伟\tPER\n")  # the fixture labels persons NAME
    caplog.set_level("INFO", logger="nertag")
    result = CliRunner().invoke(main, ["train", "--train", str(zh_path), "--dev", str(zh_path), "--out", str(tmp_path / "m"),
                                       "--swap-names", str(names), "--hidden-size", "8", "--epochs", "1", "--threads", "1"])
    assert result.exit_code == 0, result.output
    assert f"nertag: warning: {names}: no training entity is labelled PER" in caplog.text


def test_cli_refuses_swaps_that_cannot_work_in_one_line(zh_path: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "model"
    base = ["train", "--train", str(zh_path), "--dev", str(zh_path), "--out", str(out), "--epochs", "1"]
    result = runner.invoke(main, [*base, "--swap-rate", "0.5"])
    assert result.exit_code == 2 and "--swap-rate needs --swap-names" in result.output
    names = _names(tmp_path, "腾讯\tCOMPANY\n")
    result = runner.invoke(main, [*base, "--swap-names", str(names)])
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"nertag: error: {names}: lists names labelled COMPANY, and the training corpora label CONT, EDU, LOC, NAME, ORG, RACE, TITLE: "
        "no name would be swapped in"
    )
    for rate in ("1.5", "0"):
        result = runner.invoke(main, [*base, "--swap-names", str(names), "--swap-rate", rate])
        assert result.exit_code == 1 and result.stderr.strip() == f"nertag: error: swap_rate: expected a number in (0, 1], got {float(rate)}"
    result = runner.invoke(main, [*base, "--swap-names", str(tmp_path / "missing.tsv")])
    assert result.exit_code == 1 and "missing.tsv" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_fit_takes_names(zh_path: Path, tmp_path: Path) -> None:
    from nertag.api import fit

    names = _names(tmp_path, "腾讯\tORG\n")
    fit(zh_path, zh_path, out=tmp_path / "m", swap_names=names, hidden_size=8, settings=TrainConfig(epochs=1, threads=1))
    training = json.loads((tmp_path / "m" / "config.json").read_text(encoding="utf-8"))["training"]
    assert training["name_swaps"]["names"] == "names.tsv" and training["name_swaps"]["copies"] > 0
    assert training["name_swaps"]["rate"] == 0.3
    for names_given, rate in ((names, 0.0), (names, True), (None, 0.5)):
        with pytest.raises(ValueError, match="swap_rate"):
            fit(zh_path, zh_path, swap_names=names_given, swap_rate=rate, settings=TrainConfig(epochs=1, threads=1))
