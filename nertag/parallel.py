"""Tagging chunks in worker processes, in input order, with a bounded number in flight.

Each worker loads its models once (on its first chunk) and uses one thread, so N workers use N
cores without oversubscribing them; results come back in the order the chunks went out, and at
most ``window`` chunks are held at once, so memory stays bounded on inputs of any size.
"""

from __future__ import annotations

import multiprocessing
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

    def choice(self) -> ModelChoice:
        from .api import load

        return ModelChoice(self.named, lambda name: load(name, self.device, self.precision))


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
