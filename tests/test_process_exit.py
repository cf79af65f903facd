"""The command line ends without the interpreter's slow teardown, yet exits as ``sys.exit`` would."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run_exit(tmp_path: Path, code: str) -> subprocess.CompletedProcess[str]:
    """A process that imports torch, registers an exit handler, writes unflushed output, then exits."""
    marker = tmp_path / "handler-ran"
    script = (
        "import atexit, sys, torch\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        "from nertag.__main__ import _exit\n"
        f"atexit.register(lambda: open({str(marker)!r}, 'w').close())\n"
        "sys.stdout.write('buffered, no newline')\n"
        f"_exit({code})\n"
    )
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)


def test_exit_keeps_status_output_and_handlers(tmp_path: Path) -> None:
    done = _run_exit(tmp_path, "3")
    assert done.returncode == 3
    assert done.stdout == "buffered, no newline"
    assert (tmp_path / "handler-ran").exists()


def test_exit_with_a_message_prints_it_and_fails(tmp_path: Path) -> None:
    done = _run_exit(tmp_path, "'nertag: stopped'")
    assert done.returncode == 1
    assert done.stderr.strip() == "nertag: stopped"


def test_exit_none_is_success(tmp_path: Path) -> None:
    assert _run_exit(tmp_path, "None").returncode == 0


def test_tagging_through_the_console_entry_point_writes_everything(tmp_path: Path) -> None:
    source = tmp_path / "in.txt"
    source.write_text("姚明出生于河南省郑州市。\n" * 300, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "nertag", "tag", str(source), "--model", "zh-general"],
        capture_output=True, text=True, cwd=ROOT, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 300 and all('"姚明"' in line for line in lines)


def test_a_closed_standard_output_and_a_profiler_are_handled(tmp_path: Path) -> None:
    source = tmp_path / "in.txt"
    source.write_text("姚明出生于河南省郑州市。\n", encoding="utf-8")
    closed = subprocess.run(
        ["sh", "-c", f'"{sys.executable}" -m nertag tag "{source}" --model zh-general -o "{tmp_path / "out.jsonl"}" >&-'],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert closed.returncode == 0, closed.stderr
    assert '"姚明"' in (tmp_path / "out.jsonl").read_text(encoding="utf-8")
    profiled = subprocess.run(
        [sys.executable, "-m", "cProfile", "-o", str(tmp_path / "prof.out"), "-m", "nertag", "tag", str(source), "--model", "zh-general"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert profiled.returncode == 0 and (tmp_path / "prof.out").stat().st_size > 0
