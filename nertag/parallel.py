"""Tagging chunks in worker processes, in input order, with a bounded number in flight.

Each worker loads its models once (on its first chunk) and uses one thread, so N workers use N
cores without oversubscribing them; results come back in the order the chunks went out, and at
most ``window`` chunks are held at once, so memory stays bounded on inputs of any size.
"""

from __future__ import annotations

import multiprocessing
import os
import stat
from collections import deque
from dataclasses import dataclass
from typing import Iterable, Iterator, Sequence

from .records import TaggedText
from .routing import ModelChoice

Tagged = list[tuple[str, TaggedText]]  # (model name, tagged text) for each line of a chunk


@dataclass(frozen=True)
class ModelSpec:
    """What a worker needs to build the same model choice as the caller (picklable)."""

    named: str | None
    device: str = "cpu"
    precision: str = "auto"
    backend: str | None = None  # see nertag.api.load
    style: str | None = None  # likewise

    def choice(self) -> ModelChoice:
        from .api import load

        return ModelChoice(self.named, lambda name: load(name, self.device, self.precision, self.backend, style=self.style))


WORTH_WORKERS = 4 * 1024 * 1024  # bytes of input below which starting processes costs more than it saves


def all_regular_files(paths: Sequence[str]) -> bool:
    """True when every input is a regular file (not standard input, a FIFO or a device)."""
    try:
        return bool(paths) and all(path != "-" and stat.S_ISREG(os.stat(path).st_mode) for path in paths)
    except OSError:
        return False


def default_workers(paths: Sequence[str]) -> int:
    """Workers for tagging ``paths``: the cores the machine can spare when the input is files of
    at least 4 MB in all (each worker starts a process and loads the model), else 1."""
    from .hardware import spare_threads

    files = [path for path in paths if path != "-"]
    if not paths or len(files) != len(paths):
        return 1  # standard input: its size is unknown, and a stream wants answers at once
    try:
        size = sum(os.stat(path).st_size for path in files if stat.S_ISREG(os.stat(path).st_mode))
    except OSError:
        return 1
    return spare_threads() if size >= WORTH_WORKERS else 1


_worker_models: ModelChoice | None = None


def _start_worker(spec: ModelSpec) -> None:
    import torch

    global _worker_models
    torch.set_num_threads(1)
    _worker_models = spec.choice()


def _tag_in_worker(lines: Sequence[str]) -> Tagged:
    assert _worker_models is not None, "the pool's initializer builds the models"
    return _worker_models.tag(lines)


def tag_in_workers(chunks: Iterable[Sequence[str]], spec: ModelSpec, workers: int, window: int | None = None) -> Iterator[tuple[Sequence[str], Tagged]]:
    """(chunk, its tagging) for each chunk, in input order, tagged by ``workers`` processes."""
    if workers < 1:
        raise ValueError(f"workers: expected an int >= 1, got {workers}")
    window = window or 2 * workers
    # spawn, not fork: a forked child inherits torch's thread pools and locks mid-use.
    with multiprocessing.get_context("spawn").Pool(workers, initializer=_start_worker, initargs=(spec,)) as pool:
        pending: deque = deque()
        for lines in chunks:
            pending.append((lines, pool.apply_async(_tag_in_worker, (lines,))))
            if len(pending) >= window:
                done, result = pending.popleft()
                yield done, result.get()
        while pending:
            done, result = pending.popleft()
            yield done, result.get()
