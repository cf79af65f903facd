"""An exponential moving average of a network's weights, warmed up, used for evaluation and saving."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import torch


def warmed_up_decay(decay: float, step: int) -> float:
    """The decay the average uses at update ``step`` (from 0): ``min(decay, (1 + step) / (10 + step))``.

    Early on the average forgets fast, so it follows the trained weights out of their random start
    instead of staying near it for ~1 / (1 - decay) steps.  Without this, 3 epochs on 300 Resume
    sentences saved a model with dev F1 23.1 (72.3 unaveraged); with it, 65.6.
    """
    return min(decay, (1 + step) / (10 + step))


class WeightAverage:
    """An exponential moving average of the weights, used for evaluation and saving.

    Dev F1 of the raw weights jumps from batch to batch; the average is smoother, so early
    stopping picks a better epoch and the saved model generalises better.  ``steps`` counts the
    updates so far; it sets the warm-up (:func:`warmed_up_decay`) and is kept in checkpoints.
    """

    def __init__(self, net: torch.nn.Module, decay: float) -> None:
        self.net, self.decay, self.steps = net, decay, 0
        self.shadow = {k: v.detach().clone() for k, v in net.state_dict().items() if v.is_floating_point()}

    @torch.no_grad()
    def update(self) -> None:
        if self.decay <= 0:
            return
        weight = 1.0 - warmed_up_decay(self.decay, self.steps)
        state = self.net.state_dict()
        for name, value in self.shadow.items():
            value.lerp_(state[name], weight)
        self.steps += 1

    @contextmanager
    def swapped_in(self) -> Iterator[None]:
        """Within the block the network holds the averaged weights; the trained ones come back after."""
        if self.decay <= 0:
            yield
            return
        state = self.net.state_dict()
        kept = {k: state[k].detach().clone() for k in self.shadow}
        self.net.load_state_dict(self.shadow, strict=False)
        try:
            yield
        finally:
            self.net.load_state_dict(kept, strict=False)
