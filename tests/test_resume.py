"""Interrupted training keeps a checkpoint; resuming ends with the model an uninterrupted run gives."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from safetensors.torch import load_file

from cli import main
from nertag.averaging import WeightAverage, warmed_up_decay
from nertag.checkpoint import (
    Checkpointing,
    LiveRun,
    RunFacts,
    checkpoint_path,
    read_checkpoint,
    restore,
    save_checkpoint,
)
from nertag.commands.train import train_from_files
from nertag.config import ModelConfig, TrainConfig, TrainingJob
from nertag.conll import InputError, read_conll
from nertag.train import train
from nertag.train_state import TrainingHooks, TrainingInterrupted, TrainingProgress

from .conftest import tiny_config

SETTINGS = TrainConfig(epochs=4, patience=4, batch_size=2, seed=3, ema_decay=0.9)


def stop_after(batches: int):
    calls = {"n": 0}

    def should_stop() -> bool:
        calls["n"] += 1
        return calls["n"] > batches

    return should_stop


@pytest.mark.parametrize(
    ("batches_before_stop", "settings"),
    [(0, SETTINGS), (4, SETTINGS), (7, SETTINGS), (4, replace(SETTINGS, entity_dropout=0.5))],  # the last draws hidden entities
)
def test_resume_reproduces_the_uninterrupted_model(en_path: Path, tmp_path: Path, batches_before_stop: int, settings: TrainConfig) -> None:
    whole = tmp_path / "whole"
    train_from_files(TrainingJob(train=str(en_path), dev=str(en_path), out=str(whole)), tiny_config, settings)
    assert not checkpoint_path(whole).exists(), "a finished run removes its checkpoint"

    split = tmp_path / "split"
    with pytest.raises(TrainingInterrupted) as stopped:
        train_from_files(TrainingJob(train=str(en_path), dev=str(en_path), out=str(split)), tiny_config, settings,
                         TrainingHooks(should_stop=stop_after(batches_before_stop)))
    assert stopped.value.epoch == batches_before_stop // 3  # 5 sentences in batches of 2: 3 a epoch
    assert checkpoint_path(split).is_dir() and not split.exists()

    result = CliRunner().invoke(main, ["train", "--resume", str(checkpoint_path(split))])
    assert result.exit_code == 0, result.output
    expected = load_file(str(whole / "weights.safetensors"))
    resumed = load_file(str(split / "weights.safetensors"))
    assert expected.keys() == resumed.keys()
    assert all(torch.equal(expected[k], resumed[k]) for k in expected)
    assert not checkpoint_path(split).exists()


def test_resume_finds_relative_paths_from_another_folder(en_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A run started with relative paths in one folder resumes from any other: the job records
    the folder they were given in."""
    started_in, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    (started_in / "data").mkdir(parents=True)
    elsewhere.mkdir()
    (started_in / "data" / "en.bio").write_bytes(en_path.read_bytes())
    monkeypatch.chdir(started_in)
    job = TrainingJob(train="data/en.bio", dev="data/en.bio", out="model", folder=str(started_in))
    with pytest.raises(TrainingInterrupted):
        train_from_files(job, tiny_config, SETTINGS, TrainingHooks(should_stop=stop_after(4)))
    assert checkpoint_path(started_in / "model").is_dir()
    monkeypatch.chdir(elsewhere)
    result = CliRunner().invoke(main, ["train", "--resume", str(checkpoint_path(started_in / "model"))])
    assert result.exit_code == 0, result.output
    assert (started_in / "model" / "weights.safetensors").is_file()
    assert list(elsewhere.iterdir()) == []
    whole = tmp_path / "whole"
    train_from_files(TrainingJob(train=str(en_path), dev=str(en_path), out=str(whole)), tiny_config, SETTINGS)
    expected, resumed = load_file(str(whole / "weights.safetensors")), load_file(str(started_in / "model" / "weights.safetensors"))
    assert all(torch.equal(expected[k], resumed[k]) for k in expected)


def test_a_job_resolves_paths_but_not_built_in_model_names() -> None:
    job = TrainingJob(train=("a.bio", "/abs/b.bio"), dev="d.bio", out="m", init="zh-general", teacher="models/big", folder="/work")
    resolved = job.resolved()
    assert resolved.train == ("/work/a.bio", "/abs/b.bio") and resolved.dev == "/work/d.bio" and resolved.out == "/work/m"
    assert resolved.init == "zh-general" and resolved.teacher == "/work/models/big"
    with_vectors = TrainingJob(train="a.bio", dev="d.bio", out="m", pretrained={"words": "v.txt"}, folder="/work")
    assert with_vectors.resolved().pretrained == {"words": "/work/v.txt"}
    assert TrainingJob(train="a.bio", dev="d.bio", out="m").resolved().train == ("a.bio",)


@pytest.mark.parametrize("batches_before_stop", [4, 7])
def test_resume_restores_the_whole_state_the_weight_average_included(en_path: Path, tmp_path: Path, batches_before_stop: int) -> None:
    """The checkpoint after the last epoch, every tensor and the average's update count, is the same
    whether or not the run was stopped: the saved model alone can miss a wrong average, when the
    best epoch came before the stop."""
    sentences = read_conll(en_path)
    config = tiny_config(sentences)
    whole, split = tmp_path / "whole", tmp_path / "split"
    train(sentences, sentences, config, SETTINGS, checkpointing=Checkpointing(whole))
    with pytest.raises(TrainingInterrupted):
        train(sentences, sentences, config, SETTINGS, checkpointing=Checkpointing(split),
              hooks=TrainingHooks(should_stop=stop_after(batches_before_stop)))
    stopped_state, _ = read_checkpoint(split)
    assert stopped_state.ema_steps == 3 * (batches_before_stop // 3)
    train(sentences, sentences, config, SETTINGS, checkpointing=Checkpointing(split, resume=True))

    (expected_state, expected), (resumed_state, resumed) = read_checkpoint(whole), read_checkpoint(split)
    assert expected_state.ema_steps == resumed_state.ema_steps == 4 * 3
    assert expected.keys() == resumed.keys() and any(k.startswith("ema/") for k in expected)
    assert [k for k in expected if not torch.equal(expected[k], resumed[k])] == []


def test_a_checkpoint_without_an_update_count_resumes_without_warm_up(tmp_path: Path) -> None:
    """Checkpoints from before the warm-up: their run averaged with the full decay from the start."""
    import json

    net = torch.nn.Linear(2, 2)
    optimizer = torch.optim.Adam(net.parameters())
    average = WeightAverage(net, 0.9)
    average.steps = 5
    facts = RunFacts(ModelConfig(), TrainConfig(), None, "digest")
    save_checkpoint(tmp_path / "cp", LiveRun(net, optimizer, average, torch.Generator(), TrainingProgress()), facts)
    state, tensors = read_checkpoint(tmp_path / "cp")
    fresh = LiveRun(net, optimizer, WeightAverage(net, 0.9), torch.Generator(), TrainingProgress())
    restore(state, tensors, fresh)
    assert fresh.average.steps == 5
    state_file = tmp_path / "cp" / "state.json"
    saved = json.loads(state_file.read_text())
    del saved["ema_steps"]
    state_file.write_text(json.dumps(saved))
    state, tensors = read_checkpoint(tmp_path / "cp")
    restore(state, tensors, fresh)
    assert warmed_up_decay(0.9, fresh.average.steps) == 0.9
    state_file.write_text(json.dumps({**saved, "ema_steps": -1}))
    with pytest.raises(InputError, match="ema_steps: expected a count >= 0, got -1"):
        read_checkpoint(tmp_path / "cp")


def test_resume_of_something_else_is_refused(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["train", "--resume", str(tmp_path)])
    assert result.exit_code == 1 and "not a nertag training checkpoint" in result.stderr


def test_sigterm_stops_cleanly_with_a_checkpoint(zh_path: Path, tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "model"
    root = Path(__file__).resolve().parents[1]
    process = subprocess.Popen(
        [sys.executable, str(root / "cli.py"), "train", "--train", str(zh_path), "--dev", str(zh_path), "--out", str(out),
         "--epochs", "100000", "--patience", "100000", "--batch-size", "1", "--hidden-size", "8", "--word-dim", "8"],
        stderr=subprocess.PIPE, text=True, cwd=root,
    )
    deadline = time.monotonic() + 60
    while not checkpoint_path(out).is_dir() and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1.0)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "continue with --resume" in stderr and "Traceback" not in stderr
    assert checkpoint_path(out).is_dir() and not out.exists()


# Runs `nertag train` with every folder save slowed down and announced on stderr, so a test can
# tell whether a kill landed while a model or checkpoint was being written.
SLOW_SAVES = """
import sys, time
import nertag.checkpoint, nertag.serialize, nertag.safe_write
original = nertag.safe_write.write_folder
def announced(path, fill, kind="model"):
    def slow_fill(staging):
        fill(staging)
        time.sleep(0.4)
    print("SAVE-START", kind, flush=True, file=sys.stderr)
    result = original(path, slow_fill, kind)
    print("SAVE-END", kind, flush=True, file=sys.stderr)
    return result
nertag.checkpoint.write_folder = nertag.serialize.write_folder = announced
from cli import main
main(sys.argv[1:], prog_name="nertag")
"""


def test_killing_at_random_moments_never_leaves_a_broken_model(en_path: Path, tmp_path: Path) -> None:
    """Kills at random moments, half of them inside a save (the process says when one starts and
    ends); after each, whatever is on disk loads, and at least one kill provably hit a save."""
    import random
    import subprocess
    import sys
    import threading
    import time

    from nertag import load

    out = tmp_path / "model"
    root = Path(__file__).resolve().parents[1]
    driver = tmp_path / "slow_saves.py"
    driver.write_text(SLOW_SAVES)
    command = [sys.executable, str(driver), "train", "--train", str(en_path), "--dev", str(en_path),
               "--out", str(out), "--epochs", "3", "--hidden-size", "8", "--word-dim", "8", "--char-dim", "4"]
    chance = random.Random(5)
    landed_in_a_save = 0
    for round_number in range(6):
        process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, cwd=root, env={**os.environ, "PYTHONPATH": str(root)})
        marks: list[str] = []
        reader = threading.Thread(target=lambda: marks.extend(line.split()[0] for line in process.stderr))  # type: ignore[union-attr]
        reader.start()
        if round_number % 2:  # aim inside a save: wait for one to start, kill during its slow part
            deadline = time.monotonic() + 60
            wanted = chance.randint(1, 3)
            while marks.count("SAVE-START") < wanted and process.poll() is None and time.monotonic() < deadline:
                time.sleep(0.01)
            time.sleep(chance.uniform(0.0, 0.3))
        else:
            time.sleep(chance.uniform(1.0, 4.0))
        in_save = bool(marks) and marks.count("SAVE-START") > marks.count("SAVE-END")
        process.kill()
        process.wait()
        reader.join()
        process.stderr.close()  # type: ignore[union-attr]
        landed_in_a_save += in_save and process.returncode == -9
        if out.exists():
            load(out)  # a complete model, old or new
        if checkpoint_path(out).exists():
            read_checkpoint(checkpoint_path(out))
        leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
        for name in leftovers:  # staging folders of a killed save are never the model itself
            assert name.startswith((".model.", ".model.checkpoint.")) and name.endswith(".nertag-tmp")
    assert landed_in_a_save >= 1, "no kill landed inside a save"


def test_resume_refuses_options_it_would_ignore(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["train", "--resume", str(tmp_path), "--epochs", "3", "--train", "x.bio"])
    assert result.exit_code == 2 and "drop --train, --epochs" in result.stderr


def test_a_label_map_naming_no_corpus_label_is_refused(tmp_path: Path, zh_path: Path) -> None:
    result = CliRunner().invoke(main, ["train", "--train", str(zh_path), "--dev-fraction", "0.2", "--label-map", "NAEM=PER",
                                       "--out", str(tmp_path / "m")])
    assert result.exit_code == 1 and "no corpus has the label(s) NAEM" in result.stderr
    labels = sorted({t.split("-", 1)[1] for line in zh_path.read_text(encoding="utf-8").splitlines()
                     if line.strip() for t in [line.split()[-1]] if t != "O"})
    dropped = ",".join(f"{label}=O" for label in labels)
    result = CliRunner().invoke(main, ["train", "--train", str(zh_path), "--dev-fraction", "0.2", "--label-map", dropped,
                                       "--out", str(tmp_path / "m")])
    assert result.exit_code == 1 and "hold no entities once the label map is applied" in result.stderr
    assert not (tmp_path / "m").exists()
