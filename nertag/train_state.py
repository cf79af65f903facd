"""What a training run has done so far: per-epoch logs and the early-stopping counters."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable


@dataclass(frozen=True)
class EpochLog:
    epoch: int
    loss: float
    precision: float
    recall: float
    f1: float
    seconds: float
    improved: bool
    averaged: bool = True  # the dev figures (and the weights kept) are those of the weight average


@dataclass
class TrainingProgress:
    epoch: int = 0  # the last finished epoch
    best_f1: float = -1.0
    stale: int = 0  # epochs since dev F1 last improved
    history: list[EpochLog] = field(default_factory=list)


class TrainingInterrupted(Exception):
    """Training was asked to stop; the checkpoint of the last finished epoch is kept."""

    def __init__(self, epoch: int, checkpoint: str | None) -> None:
        self.epoch, self.checkpoint = epoch, checkpoint
        where = f"; continue with --resume {checkpoint}" if checkpoint else ""
        super().__init__(f"training stopped after epoch {epoch}{where}")


@dataclass
class TrainingHooks:
    """How a caller follows and steers a run: the loop itself prints nothing and draws no bar.

    ``on_epoch`` gets each epoch's log; ``on_batch(done, total)`` each finished batch of an epoch
    (a progress bar); when ``should_stop()`` turns true the run stops between batches and raises
    :class:`TrainingInterrupted`.
    """

    on_epoch: Callable[[EpochLog], None] | None = None
    on_batch: Callable[[int, int], None] | None = None
    should_stop: Callable[[], bool] = field(default=lambda: False)
