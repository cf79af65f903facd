"""`nertag tag` as a Unix filter: it answers each line as it arrives, stops quietly when its reader
goes away, exits 130 on Ctrl-C keeping what it wrote, reads other encodings, and routes each line
to the default model of its own language."""

from __future__ import annotations

import io
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main
from nertag.commands.tag import conll_sentence_chunks, tag_stream
from nertag.routing import ModelChoice
from nertag.text_input import read_line_chunks

ROOT = Path(__file__).resolve().parents[1]


def nertag_process(*args: str, **options: object) -> subprocess.Popen:
    """`python -m nertag ARGS` with Ctrl-C live: a test run in the background (`.ci/run &`) inherits
    an ignored SIGINT, which Python and so nertag would rightly keep ignoring."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(  # type: ignore[call-overload]
        [sys.executable, "-m", "nertag", *args], cwd=ROOT, env=env,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL), **options,
    )


def read_line_within(stream: io.BufferedReader, seconds: float) -> bytes:
    ready, _, _ = select.select([stream], [], [], seconds)
    assert ready, f"no output within {seconds} s"
    return stream.readline()


def test_each_line_is_answered_before_input_ends_and_ctrl_c_exits_130(en_model_dir: Path) -> None:
    with nertag_process("tag", "--model", str(en_model_dir), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as process:
        assert process.stdin is not None and process.stdout is not None and process.stderr is not None
        talk_then_interrupt(process, str(en_model_dir))


def talk_then_interrupt(process: subprocess.Popen, model: str) -> None:
    assert process.stdin is not None and process.stdout is not None and process.stderr is not None
    process.stdin.write("John Smith visited Paris .\n".encode())
    process.stdin.flush()
    first = json.loads(read_line_within(process.stdout, 60))  # stdin is still open
    assert first["text"] == "John Smith visited Paris ." and first["model"] == model
    process.stdin.write("Reuters\n".encode())
    process.stdin.flush()
    assert json.loads(read_line_within(process.stdout, 30))["text"] == "Reuters"
    process.send_signal(signal.SIGINT)
    assert process.wait(30) == 130
    errors = process.stderr.read().decode().strip().splitlines()
    assert len(errors) == 1 and "interrupted" in errors[0] and "Traceback" not in errors[0]


def test_a_closed_pipe_ends_quietly(en_model_dir: Path, tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    big.write_text("John Smith visited Paris .\n" * 20000, encoding="utf-8")
    with nertag_process("tag", str(big), "--model", str(en_model_dir), stdout=subprocess.PIPE, stderr=subprocess.PIPE) as process:
        assert process.stdout is not None and process.stderr is not None
        assert json.loads(process.stdout.readline())["text"] == "John Smith visited Paris ."
        process.stdout.close()  # like `| head -1`
        assert process.wait(120) in (0, 141)
        assert process.stderr.read() == b""


def test_no_progress_bar_when_stderr_is_not_a_terminal(en_model_dir: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "nertag", "tag", "--model", str(en_model_dir)], cwd=ROOT, input=b"Paris\n",
        capture_output=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120,
    )
    assert done.returncode == 0 and done.stderr == b""


def test_other_encodings_are_read_and_bad_bytes_name_file_and_line(zh_model_dir: Path, tmp_path: Path) -> None:
    text = "张三出生于北京市。\n李四在上海工作。\n"
    gb = tmp_path / "gb.txt"
    gb.write_bytes(text.encode("gb18030"))
    utf8 = CliRunner().invoke(main, ["tag", "--model", str(zh_model_dir)], input=text)
    result = CliRunner().invoke(main, ["tag", str(gb), "--model", str(zh_model_dir), "--encoding", "gb18030"])
    assert result.exit_code == 0, result.output
    assert result.stdout == utf8.stdout
    bad = CliRunner().invoke(main, ["tag", str(gb), "--model", str(zh_model_dir)])
    assert bad.exit_code == 1 and bad.stderr.startswith(f"nertag: error: {gb}:1: not UTF-8 text")
    unknown = CliRunner().invoke(main, ["tag", str(gb), "--model", str(zh_model_dir), "--encoding", "klingon"])
    assert unknown.exit_code == 1 and "unknown text encoding 'klingon'" in unknown.stderr
    windows = tmp_path / "u16.txt"
    windows.write_bytes(text.encode("utf-16"))  # as Notepad saves "Unicode": a byte-order mark first
    named = CliRunner().invoke(main, ["tag", str(windows), "--model", str(zh_model_dir)])
    assert named.exit_code == 1 and named.stderr.endswith("it opens with a UTF-16 byte-order mark: say --encoding utf-16\n")
    as_said = CliRunner().invoke(main, ["tag", str(windows), "--model", str(zh_model_dir), "--encoding", "utf-16"])
    assert as_said.exit_code == 0 and as_said.stdout == utf8.stdout
    gold = tmp_path / "u16.bio"
    gold.write_bytes("张 B-PER\n三 I-PER\n".encode("utf-16"))
    scored = CliRunner().invoke(main, ["score", str(gold), str(gold)])
    assert scored.exit_code == 1 and "UTF-16 byte-order mark: say --encoding utf-16" in scored.stderr


def test_chunks_are_bounded_and_lines_kept_exactly() -> None:
    data = "".join(f"line {i}\r\n" for i in range(25)) + "last, no newline"
    chunks = list(read_line_chunks(io.BytesIO(data.encode()), "<test>", max_lines=10))
    assert [len(c) for c in chunks] == [10, 10, 6]
    assert [line for c in chunks for line in c] == [f"line {i}" for i in range(25)] + ["last, no newline"]
    with pytest.raises(ValueError, match=r"<test>:3: not UTF-8 text"):
        list(read_line_chunks(io.BytesIO(b"a\nb\n\xff\n"), "<test>"))


def test_each_chunk_is_written_before_the_next_is_read(en_model_dir: Path) -> None:
    from nertag import load

    out = io.StringIO()

    def chunks():
        yield ["John Smith"]
        assert out.getvalue().count("\n") == 1, "the first chunk's record is out before the second is read"
        yield ["Paris", "Reuters"]

    tag_stream(chunks(), ModelChoice.of(load(en_model_dir), "en"), out, "jsonl")
    assert [json.loads(line)["text"] for line in out.getvalue().splitlines()] == ["John Smith", "Paris", "Reuters"]


def test_column_input_streams_by_sentence_with_true_line_numbers() -> None:
    chunks = [["EU", "rejects"], ["", "German"], ["call", "", "", "x y z"]]
    sentences = [s for block in conll_sentence_chunks(iter(chunks), "in.conll") for s in block]
    assert [s.tokens for s in sentences] == [("EU", "rejects"), ("German", "call"), ("x",)]
    assert [s.line for s in sentences] == [1, 4, 8]
    with pytest.raises(ValueError, match="in.conll: no sentences"):
        list(conll_sentence_chunks(iter([["", ""]]), "in.conll"))


def test_mixed_languages_go_to_their_own_default_model() -> None:
    from nertag import tag

    lines = ["姚明出生于河南省郑州市。", "Peter Blackburn met John Smith in London .", "", "李四在上海工作。"]
    result = CliRunner().invoke(main, ["tag"], input="\n".join(lines) + "\n")
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["text"] for r in records] == lines
    from nertag.builtin import DEFAULT_CHINESE, DEFAULT_OTHER

    assert [records[i]["model"] for i in (0, 1, 3)] == [DEFAULT_CHINESE, DEFAULT_OTHER, DEFAULT_CHINESE]
    english = {e["text"] for e in records[1]["entities"]}
    assert {"Peter Blackburn", "John Smith", "London"} <= english
    assert {e["text"] for e in records[0]["entities"]} >= {"姚明"}
    found = tag(lines)
    assert [[(e.start, e.end, e.label) for e in entities] for entities in found] == [
        [(e["start"], e["end"], e["label"]) for e in r["entities"]] for r in records
    ]


def test_the_installed_console_script_runs(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "nertag"
    if not script.exists():
        script = Path(shutil.which("nertag") or "")
    if not script.is_file():
        pytest.skip("nertag is not installed in this environment (pip install . or pip install -e .)")
    done = subprocess.run([str(script), "--version"], cwd=tmp_path, capture_output=True, timeout=60)
    assert done.returncode == 0 and done.stdout.decode().startswith("nertag, version"), done.stderr
    module = subprocess.run([sys.executable, "-m", "nertag", "--help"], cwd=tmp_path, capture_output=True, timeout=60)
    assert module.returncode == 0 and b"Usage: nertag" in module.stdout, module.stderr


def test_a_progress_bar_shows_when_stderr_is_a_terminal(en_model_dir: Path) -> None:
    import fcntl
    import pty
    import struct
    import termios

    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # a new pty is 0 wide
    try:
        done = subprocess.run(
            [sys.executable, "-m", "nertag", "tag", "--model", str(en_model_dir)], cwd=ROOT, input=b"Paris\nReuters\n",
            stdout=subprocess.PIPE, stderr=terminal, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120,
        )
        shown = b""
        while select.select([controller], [], [], 0.5)[0]:  # the terminal stays open while it is read
            shown += os.read(controller, 4096)
    finally:
        os.close(terminal)
        os.close(controller)
    assert done.returncode == 0 and len(done.stdout.splitlines()) == 2
    assert b"lines" in shown and b"chars/s" in shown


def test_workers_give_the_same_records_in_the_same_order(en_model_dir: Path, tmp_path: Path) -> None:
    """Chunks tagged in two processes come back in input order with the same entities (confidences
    equal up to float rounding: a worker computes on one thread)."""
    from nertag.parallel import ModelSpec, tag_in_workers

    def entities(tagged: list) -> list:
        return [(name, t.text, [(e.start, e.end, e.label, round(e.confidence, 3)) for e in t.entities]) for name, t in tagged]

    lines = [f"John Smith visited Paris {i} times ." if i % 3 else "Reuters" for i in range(60)]
    chunks = [lines[i : i + 7] for i in range(0, len(lines), 7)]
    alone = ModelChoice(str(en_model_dir), lambda name: __import__("nertag").load(name, precision="float32"))
    got = list(tag_in_workers(iter(chunks), ModelSpec(str(en_model_dir), precision="float32"), workers=2, window=3))
    assert [chunk for chunk, _ in got] == chunks
    assert [entities(tagged) for _, tagged in got] == [entities(alone.tag(chunk)) for chunk in chunks]
    lines = lines * 40  # 2,400 lines: two chunks, since an input of one chunk is tagged in-process
    source = tmp_path / "in.txt"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    two = CliRunner().invoke(main, ["tag", str(source), "--model", str(en_model_dir), "--workers", "2"])
    assert two.exit_code == 0, two.output
    assert [json.loads(line)["text"] for line in two.stdout.splitlines()] == lines
    piped = CliRunner().invoke(main, ["tag", "--model", str(en_model_dir), "--workers", "2"], input="\n".join(lines) + "\n")
    assert piped.exit_code == 0, piped.output
    assert piped.stdout == two.stdout  # asked for, workers tag standard input too
    for refused in (["--nbest", "2"], ["--input-format", "conll"]):
        result = CliRunner().invoke(main, ["tag", str(source), "--model", str(en_model_dir), "--workers", "2", *refused])
        assert result.exit_code == 2 and "--workers" in result.output


def _live_workers() -> list:
    import multiprocessing

    return [child for child in multiprocessing.active_children() if child.is_alive()]


def test_a_worker_that_dies_ends_tagging_with_one_error_not_a_wait(en_model_dir: Path) -> None:
    """A worker killed (out of memory, kill -9) never answers: tagging must say so, not wait forever."""
    from nertag.errors import WorkerError
    from nertag.parallel import ModelSpec, tag_in_workers

    chunks = ([f"John Smith visited Paris {i} times ."] for i in range(40))
    tagged = tag_in_workers(chunks, ModelSpec(str(en_model_dir), precision="float32"), workers=2, window=4)
    next(tagged)
    for worker in _live_workers():
        worker.kill()
    with pytest.raises(WorkerError, match="a tagging worker process ended before it answered"):
        list(tagged)
    assert _live_workers() == []


def test_errors_of_nertag_cross_from_a_worker_whole() -> None:
    """A worker's InputError or OutputError must reach the caller as itself, not as a dead worker."""
    import pickle

    from nertag.errors import InputError, OutputError

    error = pickle.loads(pickle.dumps(InputError("in.txt", 3, "bad")))
    assert (type(error), str(error), error.line) == (InputError, "in.txt:3: bad", 3)
    assert str(pickle.loads(pickle.dumps(OutputError("out.txt", "is read-only")))) == "out.txt: is read-only"


def test_workers_end_when_writing_fails_midway(en_model_dir: Path) -> None:
    """An error while the workers' results wait to be written (a full disk, Ctrl-C, SIGTERM) ends
    the workers at once: left alive, the exit waited for them."""
    from nertag.parallel import ModelSpec

    class FailingOutput(io.StringIO):
        def write(self, text: str) -> int:
            if self.tell() > 200:
                raise OSError(28, "No space left on device")
            return super().write(text)

    chunks = ([f"John Smith visited Paris {i} times ."] * 3 for i in range(40))
    choice = ModelChoice(str(en_model_dir), lambda name: __import__("nertag").load(name))
    with pytest.raises(OSError, match="No space") as failure:
        tag_stream(chunks, choice, FailingOutput(), "jsonl", workers=(2, ModelSpec(str(en_model_dir))))
    assert failure.tb is not None  # as in the CLI, the traceback still holds the frames, and the generator with them
    assert _live_workers() == []


def test_sigterm_leaves_no_half_written_output(en_model_dir: Path, tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl"
    with nertag_process("tag", "--model", str(en_model_dir), "-o", str(target), stdin=subprocess.PIPE, stderr=subprocess.PIPE) as process:
        assert process.stdin is not None and process.stderr is not None
        process.stdin.write(b"John Smith\n")
        process.stdin.flush()
        deadline = time.monotonic() + 60
        while not any(p.name.endswith(".nertag-tmp") for p in tmp_path.iterdir()) and time.monotonic() < deadline:
            time.sleep(0.05)  # the temporary output exists once the model is loaded
        time.sleep(0.5)
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 143
        assert b"interrupted" in process.stderr.read()
        process.stdin.close()
    assert os.listdir(tmp_path) == []  # no output appears, and no temporary file is left


def test_workers_default_to_one_for_streams_and_small_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import nertag.hardware
    from nertag.hardware import spare_threads
    from nertag.parallel import WORTH_WORKERS, default_workers

    monkeypatch.setattr(nertag.hardware, "runnable_now", lambda: 0)  # both calls below see the same machine

    small = tmp_path / "small.txt"
    small.write_text("张三\n", encoding="utf-8")
    big = tmp_path / "big.txt"
    big.write_bytes(b"x\n" * (WORTH_WORKERS // 2 + 1))
    assert default_workers([]) == default_workers(["-"]) == default_workers([str(small)]) == 1
    assert default_workers([str(big), "-"]) == 1
    assert default_workers([str(big)]) == spare_threads()


def test_corpora_in_other_encodings_train_score_and_convert(zh_path: Path, zh_model_dir: Path, tmp_path: Path) -> None:
    """--encoding reads GB18030 corpora in train, score and convert as their UTF-8 twins are read."""
    gb = tmp_path / "zh.gb.bmes"
    gb.write_bytes(zh_path.read_text(encoding="utf-8").encode("gb18030"))
    runner = CliRunner()
    common = ["--epochs", "1", "--threads", "1", "--seed", "3"]
    utf8_model, gb_model = tmp_path / "utf8", tmp_path / "gb"
    assert runner.invoke(main, ["train", "--train", str(zh_path), "--dev", str(zh_path), "--out", str(utf8_model), *common]).exit_code == 0
    trained = runner.invoke(main, ["train", "--train", str(gb), "--dev", str(gb), "--out", str(gb_model), "--encoding", "gb18030", *common])
    assert trained.exit_code == 0, trained.output
    assert (gb_model / "weights.safetensors").read_bytes() == (utf8_model / "weights.safetensors").read_bytes()
    assert (gb_model / "vocab.json").read_bytes() == (utf8_model / "vocab.json").read_bytes()
    scored_utf8 = runner.invoke(main, ["score", str(zh_path), "--model", str(zh_model_dir), "--json", "--precision", "float32"])
    scored_gb = runner.invoke(main, ["score", str(gb), "--model", str(zh_model_dir), "--json", "--precision", "float32", "--encoding", "gb18030"])
    assert scored_gb.exit_code == 0 and scored_gb.stdout == scored_utf8.stdout
    converted = runner.invoke(main, ["convert", str(gb), "-", "--from", "conll", "--to", "jsonl", "--encoding", "gb18030"])
    assert converted.exit_code == 0 and converted.stdout == runner.invoke(main, ["convert", str(zh_path), "-", "--from", "conll", "--to", "jsonl"]).stdout
    for command in (["train", "--train", str(gb), "--dev", str(gb), "--out", str(tmp_path / "x")],
                    ["score", str(gb), "--model", str(zh_model_dir)],
                    ["convert", str(gb), "-", "--from", "conll", "--to", "jsonl"]):
        refused = runner.invoke(main, command)
        assert refused.exit_code == 1, command
        assert refused.stderr.startswith(f"nertag: error: {gb}:1: not UTF-8 text") and "--encoding gb18030" in refused.stderr
        assert refused.stderr.count("\n") == 1
    unknown = runner.invoke(main, ["train", "--train", str(gb), "--dev", str(gb), "--out", str(tmp_path / "y"), "--encoding", "klingon"])
    assert unknown.exit_code == 1 and "unknown text encoding 'klingon'" in unknown.stderr
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()


def test_a_bad_byte_after_a_character_split_between_reads_is_on_its_own_line(tmp_path) -> None:
    """The reads are 64 KiB; a character cut by a read's end must not shift the line number."""
    from nertag.errors import InputError
    from nertag.text_input import read_line_chunks

    path = tmp_path / "split.txt"
    path.write_bytes(b"a" * 65534 + "张".encode() + b"\xe9\n\n\nok\n")
    with open(path, "rb") as stream, pytest.raises(InputError, match=r"split.txt:1: not UTF-8 text \(byte 0xe9\)"):
        list(read_line_chunks(stream, str(path)))


def test_spare_threads_follow_the_work_running_now(monkeypatch: pytest.MonkeyPatch) -> None:
    """A busy process beside this one is seen at once; with nothing running now, every core is
    taken, whatever the last minute's load average still counts."""
    import nertag.hardware
    from nertag.hardware import runnable_now, spare_threads

    if runnable_now() is None:
        pytest.skip("no /proc/loadavg here")
    cores = len(os.sched_getaffinity(0))
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.3)
        assert runnable_now() >= 1
        assert spare_threads() <= max(1, cores - 1)
    finally:
        busy.kill()
        busy.wait()
    monkeypatch.setattr(nertag.hardware.os, "getloadavg", lambda: (float(cores), float(cores), float(cores)))
    monkeypatch.setattr(nertag.hardware, "runnable_now", lambda: 0)
    assert spare_threads() == cores  # a loaded last minute, an idle machine now
    monkeypatch.setattr(nertag.hardware, "runnable_now", lambda: None)
    assert spare_threads() == 1  # no running count to read: the load average decides


@pytest.mark.parametrize("line,own,expected", [
    ("0.50 0.40 0.30 3/120 999\n", 1, 2),  # two other threads runnable
    ("2.00 2.00 2.00 3/120 999\n", 3, 0),  # all three are this process's (spinning OpenMP threads)
    ("0.00 0.00 0.00 0/0 0\n", 1, None),  # a sandbox's made-up count: this process alone runs
    ("garbage\n", 1, None),
])
def test_runnable_now_reads_the_running_count_less_this_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, line: str, own: int, expected: int | None
) -> None:
    import nertag.hardware

    fake = tmp_path / "loadavg"
    fake.write_text(line, encoding="ascii")
    monkeypatch.setattr(nertag.hardware, "LOADAVG", str(fake))
    monkeypatch.setattr(nertag.hardware, "_own_runnable", lambda: own)
    assert nertag.hardware.runnable_now() == expected
