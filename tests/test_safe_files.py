"""Files and folders the user names: nothing of theirs is lost, links are written through, pipes and
devices are streamed into, new files get the umask's permissions."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main
from nertag.safe_write import (
    OutputError,
    check_folder_target,
    open_output,
    remove_own_folder,
    write_folder,
)

TINY = ["--epochs", "1", "--word-dim", "8", "--char-dim", "4", "--hidden-size", "8", "--device", "cpu"]


def train_args(corpus: Path, out: str) -> list[str]:
    return ["train", "--train", str(corpus), "--dev", str(corpus), "--out", out, *TINY]


def test_out_folder_holding_the_training_file_is_refused_before_training(en_path: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    corpus = data / "train.bio"
    corpus.write_bytes(en_path.read_bytes())
    result = CliRunner().invoke(main, train_args(corpus, str(data)))
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        f"nertag: error: {data}: holds files nertag did not write (train.bio); give an absent or empty folder, "
        "or an earlier nertag model"
    ]
    assert corpus.read_bytes() == en_path.read_bytes()
    assert sorted(os.listdir(tmp_path)) == ["data"]  # no checkpoint, no staging left behind
    assert "epoch" not in result.stderr


def test_out_dot_in_an_empty_working_folder(en_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    result = CliRunner().invoke(main, train_args(en_path, "."))
    assert result.exit_code == 0, result.output
    assert sorted(os.listdir(work)) == ["config.json", "vocab.json", "weights.safetensors"]
    assert Path.cwd() == work and work.is_dir()
    assert sorted(os.listdir(tmp_path)) == ["work"]  # the checkpoint beside it is gone again


def test_an_earlier_model_is_replaced_whole_and_a_link_is_written_through(en_path: Path, tmp_path: Path) -> None:
    real = tmp_path / "real"
    link = tmp_path / "link"
    link.symlink_to(real, target_is_directory=True)
    real.mkdir()
    assert CliRunner().invoke(main, train_args(en_path, str(link))).exit_code == 0
    assert link.is_symlink() and (real / "config.json").is_file()
    first = json.loads((real / "config.json").read_text())["training"]["history"]
    again = CliRunner().invoke(main, [*train_args(en_path, str(link)), "--epochs", "2"])
    assert again.exit_code == 0, again.output
    assert link.is_symlink()
    assert len(json.loads((real / "config.json").read_text())["training"]["history"]) == 2 != len(first)

    (real / "notes.txt").write_text("mine")
    refused = CliRunner().invoke(main, train_args(en_path, str(real)))
    assert refused.exit_code == 1 and "notes.txt" in refused.stderr
    assert (real / "notes.txt").read_text() == "mine"


def test_out_naming_a_file_is_refused(en_path: Path, tmp_path: Path) -> None:
    target = tmp_path / "model"
    target.write_text("keep me")
    result = CliRunner().invoke(main, train_args(en_path, str(target)))
    assert result.exit_code == 1 and "is a file, not a folder" in result.stderr
    assert target.read_text() == "keep me"


def test_a_checkpoint_path_holding_user_files_is_refused(en_path: Path, tmp_path: Path) -> None:
    occupied = tmp_path / "m.checkpoint"
    occupied.mkdir()
    (occupied / "mine.txt").write_text("x")
    result = CliRunner().invoke(main, train_args(en_path, str(tmp_path / "m")))
    assert result.exit_code == 1 and "mine.txt" in result.stderr
    assert not (tmp_path / "m").exists()


def test_folder_rules_directly(tmp_path: Path) -> None:
    assert check_folder_target(tmp_path / "absent") == tmp_path / "absent"
    (tmp_path / "empty").mkdir()
    assert check_folder_target(tmp_path / "empty") == tmp_path / "empty"
    with pytest.raises(OutputError, match="holds files nertag did not write"):
        (tmp_path / "user").mkdir()
        (tmp_path / "user" / "config.json").write_text("{}")  # not a nertag config
        check_folder_target(tmp_path / "user")

    def failing(staging: Path) -> None:
        (staging / "config.json").write_text("{}")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_folder(tmp_path / "empty", failing)
    assert os.listdir(tmp_path / "empty") == []  # staging removed, folder kept


def tag_to(target: str, model: Path) -> object:
    return CliRunner().invoke(main, ["tag", "--model", str(model), "-o", target], input="John Smith visited Paris .\n")


def test_output_file_gets_the_umask_and_a_replaced_file_keeps_its_mode(en_model_dir: Path, tmp_path: Path) -> None:
    previous = os.umask(0o027)
    try:
        target = tmp_path / "out.jsonl"
        assert tag_to(str(target), en_model_dir).exit_code == 0
        assert stat.S_IMODE(target.stat().st_mode) == 0o640
        target.chmod(0o604)
        assert tag_to(str(target), en_model_dir).exit_code == 0
        assert stat.S_IMODE(target.stat().st_mode) == 0o604
    finally:
        os.umask(previous)
    assert [name for name in os.listdir(tmp_path) if name.startswith(".")] == []


def test_output_symlink_is_written_through(en_model_dir: Path, tmp_path: Path) -> None:
    real = tmp_path / "real.jsonl"
    real.write_text("old\n")
    link = tmp_path / "link.jsonl"
    link.symlink_to(real)
    assert tag_to(str(link), en_model_dir).exit_code == 0
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert json.loads(real.read_text())["text"] == "John Smith visited Paris ."


def test_output_fifo_is_streamed_into_and_stays_a_fifo(en_model_dir: Path, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    result = tag_to(str(fifo), en_model_dir)
    reader.join(timeout=60)
    assert result.exit_code == 0, result.output
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert json.loads(received[0])["text"] == "John Smith visited Paris ."


def test_output_device_is_written_not_replaced(en_model_dir: Path) -> None:
    before = os.stat(os.devnull)
    assert tag_to(os.devnull, en_model_dir).exit_code == 0
    after = os.stat(os.devnull)
    assert stat.S_ISCHR(after.st_mode) and (after.st_ino, after.st_rdev) == (before.st_ino, before.st_rdev)


def test_missing_output_folder_is_reported_before_the_model_is_loaded(tmp_path: Path) -> None:
    given = "missing/x.jsonl"
    result = CliRunner().invoke(main, ["tag", "--model", str(tmp_path / "no-model"), "-o", given], input="x\n")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"nertag: error: {given}: cannot write there: folder")
    assert "no-model" not in result.stderr and ".nertag-tmp" not in result.stderr


def test_plot_and_errors_paths_are_checked_first(en_path: Path, tmp_path: Path) -> None:
    plot = CliRunner().invoke(main, [*train_args(en_path, str(tmp_path / "m")), "--plot", "nowhere/chart.svg"])
    assert plot.exit_code == 1 and "nowhere/chart.svg: cannot write there" in plot.stderr
    assert not (tmp_path / "m").exists()
    errors = CliRunner().invoke(main, ["score", str(en_path), str(en_path), "--errors", "nowhere/e.txt"])
    assert errors.exit_code == 1 and "nowhere/e.txt: cannot write there" in errors.stderr


def test_a_failed_write_leaves_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with open_output(str(target), None) as out:  # type: ignore[arg-type]
            out.write("new")
            raise RuntimeError("interrupted")
    assert target.read_text() == "old" and os.listdir(tmp_path) == ["out.txt"]


def test_an_output_that_is_also_an_input_is_refused(en_model_dir: Path, en_path: Path, tmp_path: Path) -> None:
    text = tmp_path / "in.txt"
    text.write_text("John Smith\n")
    link = tmp_path / "same.txt"
    link.symlink_to(text)
    tagged = CliRunner().invoke(main, ["tag", str(text), "--model", str(en_model_dir), "-o", str(link)])
    assert tagged.exit_code == 1 and f"is also an input ({text})" in tagged.stderr
    assert text.read_text() == "John Smith\n"
    corpus = tmp_path / "train.bio"
    corpus.write_bytes(en_path.read_bytes())
    plotted = CliRunner().invoke(main, [*train_args(corpus, str(tmp_path / "m")), "--plot", str(corpus)])
    assert plotted.exit_code == 1 and "is also an input" in plotted.stderr
    assert corpus.read_bytes() == en_path.read_bytes()


def _nertag_with(stdin: Path, stdout_path: Path | None, *args: str) -> subprocess.CompletedProcess[bytes]:
    """``python -m nertag ARGS < stdin [>> stdout_path]``, as a shell runs it."""
    root = Path(__file__).resolve().parents[1]
    with open(stdin, "rb") as source, open(stdout_path or os.devnull, "ab") as appended:
        return subprocess.run([sys.executable, "-m", "nertag", *args], stdin=source, stdout=appended, stderr=subprocess.PIPE,
                              cwd=root, env={**os.environ, "PYTHONPATH": str(root)}, timeout=120)


def test_an_input_reached_through_redirection_is_not_written_over(en_model_dir: Path, tmp_path: Path) -> None:
    text = tmp_path / "in.txt"
    text.write_text("John Smith lives in Paris.\n")
    for args, appended in (
        (["-o", str(text)], None),  # nertag tag -o in.txt < in.txt
        (["-o", "/dev/stdin"], None),  # nertag tag -o /dev/stdin < in.txt
        ([], text),  # nertag tag < in.txt >> in.txt
    ):
        done = _nertag_with(text, appended, "tag", "--model", str(en_model_dir), *args)
        assert done.returncode == 1 and b"is also an input" in done.stderr, (args, done.stderr)
        assert text.read_text() == "John Smith lives in Paris.\n"
    convert = _nertag_with(text, None, "convert", "--from", "jsonl", "--to", "conll", "-", str(text))
    assert convert.returncode == 1 and text.read_text() == "John Smith lives in Paris.\n"


def test_dictionaries_patterns_and_model_files_are_inputs_too(en_model_dir: Path, en_path: Path, tmp_path: Path) -> None:
    import shutil

    text = tmp_path / "in.txt"
    text.write_text("John Smith\n")
    dictionary, patterns = tmp_path / "d.tsv", tmp_path / "p.txt"
    dictionary.write_text("Smith\tPER\n")
    patterns.write_text("NUM\t\\d+\n")
    model = tmp_path / "model"
    shutil.copytree(en_model_dir, model)
    vocab = (model / "vocab.json").read_bytes()
    for extra, target in ((["--dictionary", str(dictionary)], dictionary), (["--patterns", str(patterns)], patterns),
                          ([], model / "vocab.json")):
        before = target.read_bytes()
        tagged = CliRunner().invoke(main, ["tag", str(text), "--model", str(model), *extra, "-o", str(target)])
        assert tagged.exit_code == 1 and "is also an input" in tagged.stderr, tagged.stderr
        assert target.read_bytes() == before
    scored = CliRunner().invoke(main, ["score", str(en_path), "--model", str(model), "--errors", str(model / "config.json")])
    assert scored.exit_code == 1 and "is also an input" in scored.stderr
    assert (model / "vocab.json").read_bytes() == vocab


def test_a_chart_inside_the_model_folder_is_refused_before_training(en_path: Path, tmp_path: Path) -> None:
    corpus = tmp_path / "train.bio"
    corpus.write_bytes(en_path.read_bytes())
    for plot in (tmp_path / "m", tmp_path / "m" / "loss.svg"):
        done = CliRunner().invoke(main, [*train_args(corpus, str(tmp_path / "m")), "--plot", str(plot)])
        assert done.exit_code == 1 and "in the model folder" in done.stderr, done.stderr
        assert not (tmp_path / "m").exists()


def test_dev_stdout_appending_to_a_file_is_not_replaced(en_model_dir: Path, tmp_path: Path) -> None:
    import subprocess
    import sys

    log = tmp_path / "log"
    log.write_text("old\n")
    root = Path(__file__).resolve().parents[1]
    with open(log, "a") as appended:
        done = subprocess.run([sys.executable, "-m", "nertag", "tag", "--model", str(en_model_dir), "-o", "/dev/stdout"],
                              input=b"Paris\n", stdout=appended, cwd=root, env={**os.environ, "PYTHONPATH": str(root)}, timeout=120)
    assert done.returncode == 0
    lines = log.read_text().splitlines()
    assert lines[0] == "old" and json.loads(lines[1])["text"] == "Paris"


@pytest.mark.parametrize("through_a_linked_folder", [False, True])
def test_a_link_to_dev_stdout_still_appends(tmp_path: Path, through_a_linked_folder: bool) -> None:
    """A symbolic link on the way to a descriptor's name is that name: written into, not replaced,
    also where a relative link is reached through a linked folder."""
    link = tmp_path / "out"
    link.symlink_to("/dev/stdout")
    if through_a_linked_folder:
        (tmp_path / "a").mkdir()
        (tmp_path / "x").mkdir()
        (tmp_path / "x" / "L").symlink_to(tmp_path / "a")
        (tmp_path / "a" / "out").symlink_to(os.path.relpath("/dev/stdout", tmp_path / "a"))
        link = tmp_path / "x" / "L" / "out"
    log = tmp_path / "log"
    log.write_text("old\n")
    with open(log, "a") as appended:
        done = subprocess.run(
            [sys.executable, "-c", f"import sys; from nertag.safe_write import open_output\n"
             f"with open_output({str(link)!r}, sys.stdout) as out: out.write('new\\n')"],
            stdout=appended, timeout=60,
        )
    assert done.returncode == 0 and log.read_text() == "old\nnew\n"


@pytest.mark.skipif(not (Path("/dev/shm").is_dir() and os.access("/dev/shm", os.W_OK)), reason="no writable /dev/shm")
def test_a_regular_file_under_dev_is_replaced_whole_not_appended_to() -> None:
    """/dev/shm holds ordinary files: the prefix /dev/ does not make one a stream."""
    import tempfile

    with tempfile.NamedTemporaryFile("w", dir="/dev/shm", suffix=".txt", delete=False) as made:
        made.write("old\n")
    try:
        with open_output(made.name, sys.stdout) as out:
            out.write("new\n")
        assert Path(made.name).read_text() == "new\n"
        with pytest.raises(RuntimeError):
            with open_output(made.name, sys.stdout) as out:
                out.write("partial\n")
                raise RuntimeError("interrupted")
        assert Path(made.name).read_text() == "new\n"  # a failure leaves the old file
    finally:
        os.unlink(made.name)


def fill_like_a_model(staging: Path) -> None:
    """What a model folder holds, as far as deciding whether nertag wrote it goes."""
    (staging / "vocab.json").write_text("{}")
    config = {"format_version": 1, "nertag_version": "0", "model": {}, "labels": [],
              "sha256": {"vocab.json": hashlib.sha256(b"{}").hexdigest()}}
    (staging / "config.json").write_text(json.dumps(config))


def test_a_folder_that_only_borrows_nertag_names_is_not_replaced_or_removed(tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "config.json").write_text('{"format_version": 1, "mine": "precious"}')
    with pytest.raises(OutputError, match="holds files nertag did not write"):
        check_folder_target(mine)
    fill_like_a_model(mine)
    assert check_folder_target(mine) == mine  # what nertag writes, digests and all
    (mine / "vocab.json").write_text('{"edited": "by hand"}')
    with pytest.raises(OutputError, match="holds files nertag did not write"):
        check_folder_target(mine)  # a digest no longer matches: the user's now

    notes = tmp_path / "run.checkpoint"
    notes.mkdir()
    (notes / "state.json").write_text('{"progress": "my precious notes"}')
    remove_own_folder(notes)
    assert (notes / "state.json").is_file()


def test_older_models_and_checkpoints_nertag_wrote_are_still_its_own(tmp_path: Path) -> None:
    """A model saved before digests were recorded (the shipped en-conll03) and a checkpoint saved
    before ema_steps were are still replaced and removed as nertag's."""
    import shutil

    from nertag.builtin import builtin_models

    old_model = tmp_path / "en"
    shutil.copytree(builtin_models()["en-conll03"].path, old_model)
    assert "sha256" not in json.loads((old_model / "config.json").read_text())
    assert check_folder_target(old_model) == old_model
    checkpoint = tmp_path / "run.checkpoint"
    checkpoint.mkdir()
    state = {"model": {}, "settings": {}, "progress": {"epoch": 3}, "vocab_sha256": "x", "param_groups": [], "job": None}
    (checkpoint / "state.json").write_text(json.dumps(state))
    remove_own_folder(checkpoint)
    assert not checkpoint.exists()


def test_a_replaced_model_folder_keeps_its_permissions_and_a_failed_swap_keeps_the_old(tmp_path: Path) -> None:
    fill = fill_like_a_model

    folder = tmp_path / "m"
    write_folder(folder, fill)
    folder.chmod(0o700)
    write_folder(folder, fill)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700

    def failing(staging: Path) -> None:
        fill(staging)
        os.rmdir(staging)  # the swap then fails: nothing to move in

    with pytest.raises(OSError):
        write_folder(folder, failing)
    assert (folder / "config.json").is_file() and sorted(os.listdir(tmp_path)) == ["m"]


def test_a_loop_of_symbolic_links_is_refused_not_replaced(en_model_dir: Path, en_path: Path, tmp_path: Path) -> None:
    text = tmp_path / "in.txt"
    text.write_text("John Smith\n")
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    tagged = CliRunner().invoke(main, ["tag", str(text), "--model", str(en_model_dir), "-o", str(tmp_path / "a")])
    assert tagged.exit_code == 1 and "loop of symbolic links" in tagged.stderr
    trained = CliRunner().invoke(main, train_args(en_path, str(tmp_path / "a")))
    assert trained.exit_code == 1 and "loop of symbolic links" in trained.stderr
    assert (tmp_path / "a").is_symlink() and os.readlink(tmp_path / "a") == str(tmp_path / "b")


def test_a_replaced_output_keeps_its_owner_and_other_hard_links_keep_the_old_file(en_model_dir: Path, tmp_path: Path) -> None:
    """A rename is all or nothing; copying into a hard-linked file could lose old and new on a full disk."""
    text = tmp_path / "in.txt"
    text.write_text("John Smith\n")
    out, other_name = tmp_path / "out.jsonl", tmp_path / "other.jsonl"
    out.write_text("old\n")
    os.link(out, other_name)
    tagged = CliRunner().invoke(main, ["tag", str(text), "--model", str(en_model_dir), "-o", str(out)])
    assert tagged.exit_code == 0, tagged.stderr
    assert json.loads(out.read_text())["text"] == "John Smith" and other_name.read_text() == "old\n"
    if os.getuid() == 0:  # only root can hand a file to another user
        owned = tmp_path / "owned.jsonl"
        owned.write_text("old\n")
        os.chown(owned, 65534, 65534)
        CliRunner().invoke(main, ["tag", str(text), "--model", str(en_model_dir), "-o", str(owned)])
        assert (owned.stat().st_uid, owned.stat().st_gid) == (65534, 65534)
        assert json.loads(owned.read_text())["text"] == "John Smith"


def test_a_users_file_in_a_model_folder_is_not_an_input(en_model_dir: Path, en_path: Path, tmp_path: Path) -> None:
    import shutil

    model = tmp_path / "model"
    shutil.copytree(en_model_dir, model)
    text = tmp_path / "in.txt"
    text.write_text("John Smith\n")
    for _ in range(2):  # the second run finds its own earlier output in the folder
        tagged = CliRunner().invoke(main, ["tag", str(text), "--model", str(model), "-o", str(model / "tags.jsonl")])
        assert tagged.exit_code == 0, tagged.stderr


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full here")
@pytest.mark.parametrize("command", [["tag", "{text}", "--model", "{model}"], ["score", "{gold}", "{gold}"],
                                     ["convert", "--from", "conll", "--to", "jsonl", "{gold}", "-"], ["models"]])
def test_a_full_standard_output_is_named_in_one_line(command: list[str], en_model_dir: Path, en_path: Path, tmp_path: Path) -> None:
    text = tmp_path / "in.txt"
    text.write_text("Peter Blackburn flew to Berlin.\n" * 2000, encoding="utf-8")
    arguments = [a.format(text=text, model=en_model_dir, gold=en_path) for a in command]
    with open("/dev/full", "w") as full:
        done = subprocess.run([sys.executable, str(Path(__file__).parents[1] / "cli.py"), *arguments],
                              stdout=full, stderr=subprocess.PIPE, text=True)
    assert done.returncode == 1
    assert done.stderr.strip() == "nertag: error: standard output: cannot write: No space left on device"


def test_a_read_only_output_is_refused_even_where_the_process_may_write_it(en_model_dir: Path, tmp_path: Path) -> None:
    kept = tmp_path / "kept.jsonl"
    kept.write_text("mine\n", encoding="utf-8")
    kept.chmod(0o444)  # root may still write it; the mode says the user wants it kept
    result = tag_to(str(kept), en_model_dir)
    assert result.exit_code == 1 and "is read-only; nertag does not replace it" in result.stderr
    assert kept.read_text(encoding="utf-8") == "mine\n"


def test_an_empty_name_and_a_folder_of_another_kind_are_refused_by_name(en_model_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="an empty name"):
        check_folder_target("")
    assert "an empty name" in tag_to("", en_model_dir).stderr
    with pytest.raises(OutputError, match="holds a nertag model; nertag writes a new export only over an earlier export"):
        check_folder_target(en_model_dir, kind="export")
