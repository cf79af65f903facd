"""Tagging chunks in worker processes, in input order, with a bounded number in flight.

Each worker loads its models once (on its first chunk) and uses one thread, so N workers use N
cores without oversubscribing them; results come back in the order the chunks went out, and at
most ``window`` chunks are held at once, so memory stays bounded on inputs of any size. A worker
that dies (killed, out of memory) ends tagging with one clear error instead of a wait for an
answer that never comes, and any way out of tagging stops the workers at once.
"""

from __future__ import annotations

import multiprocessing
import os
import stat
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Callable, Generator, Iterable, Sequence

from .errors import WorkerError
from .records import TaggedText
from .routing import ModelChoice
from .text_input import CHUNK_CHARS

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
    import signal

    import torch

    # Ctrl-C reaches the whole process group: the parent answers it and ends the workers, which
    # would otherwise each print a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    global _worker_models
    torch.set_num_threads(1)
    _worker_models = spec.choice()


def _tag_in_worker(lines: Sequence[str]) -> Tagged:
    assert _worker_models is not None, "the pool's initializer builds the models"
    return _worker_models.tag(lines)


def tag_in_workers(
    chunks: Iterable[Sequence[str]], spec: ModelSpec, workers: int, window: int | None = None,
    here: Callable[[Sequence[str]], Tagged] | None = None,
) -> Generator[tuple[Sequence[str], Tagged], None, None]:
    """(chunk, its tagging) for each chunk, in input order, tagged by ``workers`` processes.

    With ``here`` (this process's tagging, on all its threads), a chunk that is one line of at
    least ``CHUNK_CHARS`` characters is tagged by it once the chunks before it are answered: in a
    worker, one thread would tag it while the other cores idled.
    """
    if workers < 1:
        raise ValueError(f"workers: expected an int >= 1, got {workers}")
    window = window or 2 * workers
    # spawn, not fork: a forked child inherits torch's thread pools and locks mid-use.
    executor = ProcessPoolExecutor(
        workers, mp_context=multiprocessing.get_context("spawn"), initializer=_start_worker, initargs=(spec,)
    )
    finished = False
    try:
        pending: deque[tuple[Sequence[str], Future[Tagged]]] = deque()
        for lines in chunks:
            if here is not None and len(lines) == 1 and len(lines[0]) >= CHUNK_CHARS:
                while pending:
                    done, future = pending.popleft()
                    yield done, future.result()
                yield lines, here(lines)
                continue
            pending.append((lines, executor.submit(_tag_in_worker, lines)))
            if len(pending) >= window:
                done, future = pending.popleft()
                yield done, future.result()
        while pending:
            done, future = pending.popleft()
            yield done, future.result()
        finished = True
    except BrokenProcessPool as error:  # from submit() or result(), whichever comes first
        raise WorkerError(
            f"a tagging worker process ended before it answered (killed, out of memory, or unable to start: {str(error).rstrip('.')}); "
            "an output file is left as it was"
        ) from None
    finally:
        _stop(executor, finished)


def _stop(executor: ProcessPoolExecutor, finished: bool) -> None:
    """Let idle workers exit once every chunk is answered; otherwise (an error, Ctrl-C, SIGTERM,
    a dead worker) end them now rather than wait for chunks no one will read."""
    if finished:
        executor.shutdown(wait=True)
        return
    terminate = getattr(executor, "terminate_workers", None)  # Python 3.14 and later
    if terminate is not None:
        terminate()
    else:
        for process in list(getattr(executor, "_processes", {}).values()):
            process.terminate()
    # With the workers gone this returns at once; waiting lets the queues close, so their
    # semaphores are released here rather than reported as leaked at exit.
    executor.shutdown(wait=True, cancel_futures=True)
