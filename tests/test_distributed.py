"""Training under torchrun: two CPU processes (gloo) train one model, written once by rank 0, as
good as one process's; a failure or a stop request on one rank ends every rank, none waits."""

from __future__ import annotations

import json
import multiprocessing
import os
import socket
import subprocess
import sys
import time
import traceback
from pathlib import Path

import pytest
import torch

import nertag.train as training
from nertag.checkpoint import Checkpointing, checkpoint_path, read_checkpoint
from nertag.commands.train import train_from_files
from nertag.config import TrainConfig, TrainingJob
from nertag.conll import read_conll
from nertag.distributed import World, joined, launched_world, shard
from nertag.train import train
from nertag.train_state import TrainingHooks, TrainingInterrupted

from .conftest import FIXTURES, tiny_config

ROOT = Path(__file__).resolve().parents[1]
BIOGRAPHIES = ROOT / "corpora" / "zh-biographies"
# Small and quick, yet enough for two epochs to reach a dev F1 near 0.9 on the templated biographies.
MODEL_OPTIONS = ["--segment-dim", "0", "--bigram-dim", "16", "--hidden-size", "32", "--lr", "0.02", "--threads", "1"]


def torchrun(*args: str, processes: int = 2) -> subprocess.CompletedProcess[str]:
    """``torchrun --standalone --nproc-per-node N -m nertag ARGS`` from the checkout."""
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={processes}", "-m", "nertag", *args]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=180, check=False)


def first_sentences(source: Path, count: int, target: Path) -> Path:
    blocks = source.read_text(encoding="utf-8").split("\n\n")[:count]
    target.write_text("\n\n".join(blocks).strip("\n") + "\n\n", encoding="utf-8")
    return target


@pytest.fixture(scope="module")
def biographies(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("biographies")
    return (
        first_sentences(BIOGRAPHIES / "train.bio", 200, folder / "train.bio"),
        first_sentences(BIOGRAPHIES / "dev.bio", 60, folder / "dev.bio"),
    )


def progress_lines(log: str) -> list[str]:
    return [line for line in log.splitlines() if line.startswith(("epoch ", "saved "))]


def test_every_rank_steps_equally_often() -> None:
    batches = list("abcde")
    assert [shard(batches, rank, 2) for rank in range(2)] == [["a", "c", "e"], ["b", "d", "a"]]
    assert [shard(batches, rank, 3) for rank in range(3)] == [["a", "d"], ["b", "e"], ["c", "a"]]
    assert [shard(["a"], rank, 2) for rank in range(2)] == [["a"], ["a"]]  # fewer batches than ranks
    assert shard(batches, 0, 1) == batches and shard([], 1, 2) == []
    with pytest.raises(ValueError, match="rank: expected 0 <= rank < 2, got 2"):
        shard(batches, 2, 2)


def test_only_torchrun_with_several_processes_makes_a_process_group() -> None:
    assert launched_world({}) is None
    assert launched_world({"RANK": "0", "WORLD_SIZE": "1", "LOCAL_RANK": "0"}) is None
    assert launched_world({"RANK": "3", "WORLD_SIZE": "4", "LOCAL_RANK": "1"}) == (3, 4, 1)


def test_a_gpu_run_needs_a_gpu_before_any_process_group_is_made() -> None:
    place = {"RANK": "0", "WORLD_SIZE": "2", "LOCAL_RANK": "0"}
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA GPU is available"), joined("cuda", place):
            pass
    sentences = read_conll(FIXTURES / "en.bio")
    with pytest.raises(ValueError, match="the process group was started for cpu"):
        train(sentences, sentences, tiny_config(sentences), TrainConfig(device="cuda"), world=World(0, 2, torch.device("cpu")))


def test_two_processes_train_one_model_as_good_as_one_process(biographies: tuple[Path, Path], tmp_path: Path) -> None:
    train_file, dev_file = biographies
    common = ["train", "--train", str(train_file), "--dev", str(dev_file), "--epochs", "2", *MODEL_OPTIONS]
    # The batch size is per process: two processes of 4 step like one process of 8.
    single = subprocess.run(
        [sys.executable, "-m", "nertag", *common, "--batch-size", "8", "--out", str(tmp_path / "one")],
        cwd=ROOT, capture_output=True, text=True, timeout=180, check=False,
    )
    assert single.returncode == 0, single.stderr
    out = tmp_path / "two"
    double = torchrun(*common, "--batch-size", "4", "--out", str(out))
    assert double.returncode == 0, double.stderr

    lines = progress_lines(double.stderr)
    assert [line.split()[:2] for line in lines] == [["epoch", "1"], ["epoch", "2"], ["saved", str(out)]], double.stderr
    assert "Traceback" not in double.stderr and "nertag: error" not in double.stderr
    assert sorted(os.listdir(tmp_path)) == ["one", "two"], "no staging folder, no checkpoint left behind"

    facts = json.loads((out / "config.json").read_text(encoding="utf-8"))["training"]
    baseline = json.loads((tmp_path / "one" / "config.json").read_text(encoding="utf-8"))["training"]
    assert [e["epoch"] for e in facts["history"]] == [1, 2]
    assert facts["dev_f1"] > 0.8 and abs(facts["dev_f1"] - baseline["dev_f1"]) < 0.05, (facts, baseline)

    import nertag

    entities = nertag.tag("1984年至1989年，钟松翔在美国哈佛大学从事博士后研究。", model=out)
    assert "钟松翔" in {e.text for e in entities}


def test_two_processes_resume_a_stopped_run(biographies: tuple[Path, Path], tmp_path: Path) -> None:
    train_file, dev_file = biographies
    out = tmp_path / "model"
    job = TrainingJob(train=str(train_file), dev=str(dev_file), out=str(out))
    # One thread: on a busy 2-core machine two threads made this 10x slower. The suite's count comes back after.
    settings = TrainConfig(epochs=2, batch_size=8, lr=0.02, threads=1)
    calls = iter(range(10**6))
    threads = torch.get_num_threads()
    try:
        with pytest.raises(TrainingInterrupted):  # 200 sentences in batches of 8: stopped in epoch 2
            train_from_files(job, lambda s: tiny_config(s, segment_dim=0, bigram_dim=8), settings,
                             TrainingHooks(should_stop=lambda: next(calls) >= 30))
    finally:
        torch.set_num_threads(threads)
    assert read_checkpoint(checkpoint_path(out))[0].progress.epoch == 1

    resumed = torchrun("train", "--resume", str(checkpoint_path(out)))
    assert resumed.returncode == 0, resumed.stderr
    lines = progress_lines(resumed.stderr)
    assert [line.split()[:2] for line in lines] == [["epoch", "1"], ["epoch", "2"], ["saved", str(out)]], resumed.stderr
    assert "(from the checkpoint)" in lines[0]
    history = json.loads((out / "config.json").read_text(encoding="utf-8"))["training"]["history"]
    assert [e["epoch"] for e in history] == [1, 2]
    assert not checkpoint_path(out).exists()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _rank_main(rank: int, port: int, folder: str) -> None:
    """One of two processes of a gloo group: fail and stop on one rank, write what each saw."""
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    seen: dict[str, str] = {}
    try:
        torch.set_num_threads(1)
        place = {"RANK": str(rank), "WORLD_SIZE": "2", "LOCAL_RANK": str(rank)}
        with joined("cpu", place) as world:
            assert world is not None

            def failing_on(failing_rank: int) -> int:
                if rank == failing_rank:
                    raise ValueError(f"rank {rank} failed")
                return 7

            for name, attempt in {
                "on_main": lambda: world.on_main(lambda: failing_on(0)),
                "all_ok": lambda: world.all_ok(lambda: failing_on(1)),
                "fine": lambda: world.on_main(lambda: failing_on(-1)),
            }.items():
                try:
                    seen[name] = str(attempt())
                except ValueError as error:
                    seen[name] = type(error).__name__

            # A folder of someone else's: rank 0 refuses it, rank 1 stops too.
            foreign = Path(folder, "foreign")
            if rank == 0:
                foreign.mkdir()
                (foreign / "notes.txt").write_text("mine")
            job = TrainingJob(train=str(FIXTURES / "en.bio"), dev=str(FIXTURES / "en.bio"), out=str(foreign))
            try:
                train_from_files(job, tiny_config, TrainConfig(epochs=1), world=world)
            except ValueError as error:
                seen["folder"] = type(error).__name__

            # Rank 1 alone is asked to stop, in its second batch of epoch 2: both stop there, and
            # resuming from rank 0's checkpoint ends with the model of an uninterrupted run.
            writes = []
            save_checkpoint = training.save_checkpoint
            training.save_checkpoint = lambda *args: (writes.append(1), save_checkpoint(*args))
            sentences = read_conll(FIXTURES / "en.bio")
            config, settings = tiny_config(sentences), TrainConfig(epochs=3, batch_size=1, ema_decay=0.9)
            whole, _ = train(sentences, sentences, config, settings, world=world)
            calls = iter(range(100))
            stop_here = (lambda: next(calls) >= 4) if rank == 1 else (lambda: False)
            checkpoint = Path(folder, "checkpoint")
            try:
                train(sentences, sentences, config, settings, hooks=TrainingHooks(should_stop=stop_here),
                      checkpointing=Checkpointing(checkpoint), world=world)
            except TrainingInterrupted as stop:
                seen["stop"] = str(stop.epoch)
            resumed, _ = train(sentences, sentences, config, settings, checkpointing=Checkpointing(checkpoint, resume=True), world=world)
            expected, got = whole.net.state_dict(), resumed.net.state_dict()
            seen["resumed"] = "same" if all(torch.equal(expected[k], got[k]) for k in expected) else "different"
            seen["writes"] = str(len(writes))
    except BaseException:
        seen["crash"] = traceback.format_exc()
    Path(folder, f"rank{rank}.json").write_text(json.dumps(seen))


def test_a_failure_or_a_stop_on_one_rank_ends_both(tmp_path: Path) -> None:
    port = _free_port()
    context = multiprocessing.get_context("spawn")
    ranks = [context.Process(target=_rank_main, args=(rank, port, str(tmp_path))) for rank in range(2)]
    for process in ranks:
        process.start()
    # A hang is what this catches, so the wait is generous: on a starved 2-core CI machine the two
    # spawned ranks import torch and train four tiny runs each, which took over 120 s once.
    deadline = time.monotonic() + 600
    for process in ranks:
        process.join(timeout=max(0.0, deadline - time.monotonic()))
    hung = [process.pid for process in ranks if process.is_alive()]
    for process in ranks:
        if process.is_alive():
            process.kill()
    assert not hung, "a rank waited for ever"
    seen = [json.loads(Path(tmp_path, f"rank{rank}.json").read_text()) for rank in range(2)]
    assert "crash" not in seen[0] and "crash" not in seen[1], seen
    common = {"fine": "7", "stop": "1", "resumed": "same"}
    # Rank 0 writes the checkpoint at the start and after each finished epoch: 1 + 1, then 2 resumed.
    assert seen[0] == {**common, "on_main": "ValueError", "all_ok": "PeerFailed", "folder": "OutputError", "writes": "4"}
    assert seen[1] == {**common, "on_main": "PeerFailed", "all_ok": "ValueError", "folder": "PeerFailed", "writes": "0"}
