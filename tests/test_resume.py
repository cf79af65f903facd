"""Interrupted training keeps a checkpoint; resuming ends with the model an uninterrupted run gives."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from safetensors.torch import load_file

from cli import main
from nertag.checkpoint import checkpoint_path
from nertag.config import TrainConfig
from nertag.train_state import TrainingInterrupted
from nertag.workflows import train_from_files

from .conftest import tiny_config

SETTINGS = TrainConfig(epochs=4, patience=4, batch_size=2, seed=3, ema_decay=0.9)


def stop_after(batches: int):
    calls = {"n": 0}

    def should_stop() -> bool:
        calls["n"] += 1
        return calls["n"] > batches

    return should_stop


@pytest.mark.parametrize("batches_before_stop", [0, 4, 7])
def test_resume_reproduces_the_uninterrupted_model(en_path: Path, tmp_path: Path, batches_before_stop: int) -> None:
    whole = tmp_path / "whole"
    train_from_files(str(en_path), str(en_path), str(whole), tiny_config, SETTINGS)
    assert not checkpoint_path(whole).exists(), "a finished run removes its checkpoint"

    split = tmp_path / "split"
    with pytest.raises(TrainingInterrupted) as stopped:
        train_from_files(str(en_path), str(en_path), str(split), tiny_config, SETTINGS,
                         should_stop=stop_after(batches_before_stop))
    assert stopped.value.epoch == batches_before_stop // 3  # 5 sentences in batches of 2: 3 a epoch
    assert checkpoint_path(split).is_dir() and not split.exists()

    result = CliRunner().invoke(main, ["train", "--resume", str(checkpoint_path(split))])
    assert result.exit_code == 0, result.output
    expected = load_file(str(whole / "weights.safetensors"))
    resumed = load_file(str(split / "weights.safetensors"))
    assert expected.keys() == resumed.keys()
    assert all(torch.equal(expected[k], resumed[k]) for k in expected)
    assert not checkpoint_path(split).exists()


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


def test_killing_at_random_moments_never_leaves_a_broken_model(en_path: Path, tmp_path: Path) -> None:
    import random
    import subprocess
    import sys
    import time

    from nertag import load
    from nertag.checkpoint import read_checkpoint

    out = tmp_path / "model"
    root = Path(__file__).resolve().parents[1]
    command = [sys.executable, str(root / "cli.py"), "train", "--train", str(en_path), "--dev", str(en_path),
               "--out", str(out), "--epochs", "3", "--hidden-size", "8", "--word-dim", "8", "--char-dim", "4"]
    chance = random.Random(5)
    for _ in range(6):
        process = subprocess.Popen(command, stderr=subprocess.DEVNULL, cwd=root)
        time.sleep(chance.uniform(1.0, 4.0))
        process.kill()
        process.wait()
        if out.exists():
            load(out)  # a complete model, old or new
        if checkpoint_path(out).exists():
            read_checkpoint(checkpoint_path(out))
        leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
        for name in leftovers:  # staging folders of a killed save are never the model itself
            assert name.startswith((".model.", ".model.checkpoint."))
