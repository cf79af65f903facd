"""Training in several processes started by ``torchrun``: one process group, data sharded by batch.

``torchrun --standalone --nproc-per-node N -m nertag train ...`` starts N copies of the command,
each told its place by the environment (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``). They build the
same vocabularies and network (same data, same seed; DistributedDataParallel also copies rank 0's
weights to the others when it wraps the network), draw the same shuffled batches each epoch and
take every N-th of them, and average their gradients in each backward pass; so every rank holds
the same weights, optimizer state and weight average after every step. Dev is tagged in N shares
and gathered, so every rank scores the same predictions and takes the same early-stopping
decision. Rank 0 alone checks the output folders and writes checkpoints and the model. Each step
that can fail on one rank (reading, setting up, writing) ends with the ranks telling each other
whether it worked, so an error on one ends all of them instead of leaving the others waiting.

The batch size is per process: N processes step with N * ``batch_size`` sentences, taking 1 / N
of the steps per epoch of one process.

What scales on a 2-core CPU machine, with ``--threads 1`` per process: the forward and backward
passes, most of an epoch, split over the two processes, and so does dev tagging. What does not:
start-up (each process reads the corpora, fits the vocabularies and encodes the whole corpus);
the all-reduce of every gradient after each backward (over loopback TCP with gloo; the embedding
tables are most of the weights and are sent whole however few of their rows a batch touched);
and the optimizer and weight-average updates, which every process does in full. So two one-thread
processes at best halve the epoch of one one-thread process; against one process using both cores
as two threads, the gain depends on how well the LSTM uses its second thread. With the cores busy
with other work neither wins. Across machines (``--nnodes``) the all-reduce goes over the network.
"""

from __future__ import annotations

import gc
import hashlib
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import torch
import torch.distributed as dist
from torch import nn

from .errors import NertagError

T = TypeVar("T")
Item = TypeVar("Item")
Result = TypeVar("Result")


class PeerFailed(NertagError):
    """Another process of the run failed; its own message says why."""

    def __init__(self) -> None:
        super().__init__("another process of this torchrun job failed (its message says why); stopping")


def launched_rank(environ: Mapping[str, str] = os.environ) -> int:
    """This process's rank under torchrun, 0 otherwise: known before any process group exists."""
    return int(environ.get("RANK", "0") or 0)


def launched_world(environ: Mapping[str, str] = os.environ) -> tuple[int, int, int] | None:
    """(rank, world size, local rank) when torchrun started more than one process, else None.

    ``torchrun --nproc-per-node 1`` counts as a single process: no process group, no wrapper, the
    same run as without torchrun.
    """
    try:
        size = int(environ.get("WORLD_SIZE", "1"))
        rank, local = int(environ["RANK"]), int(environ.get("LOCAL_RANK", environ["RANK"]))
    except (KeyError, ValueError):
        return None
    return (rank, size, local) if size > 1 else None


@dataclass(frozen=True)
class World:
    """This process's place in a running process group, and the device it trains on."""

    rank: int
    size: int
    device: torch.device  # cuda:LOCAL_RANK under NCCL, else cpu; collectives use it too

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def shard(self, batches: Sequence[T]) -> list[T]:
        return shard(batches, self.rank, self.size)

    def epoch_seed(self, seed: int, epoch: int) -> int:
        """A seed for this rank's dropout in ``epoch``: ranks drop different units, and a resumed
        run draws what an uninterrupted one would (the checkpoint keeps rank 0's generator only)."""
        digest = hashlib.sha256(f"{seed}/{epoch}/{self.rank}".encode()).digest()
        return int.from_bytes(digest[:8], "little") >> 1

    def any(self, flag: bool) -> bool:
        """True on every rank when ``flag`` is true on any."""
        value = torch.tensor([int(flag)], device=self.device)
        dist.all_reduce(value, op=dist.ReduceOp.MAX)
        return bool(value.item())

    def same(self, value: object) -> bool:
        """True on every rank when every rank holds an equal ``value`` (picklable)."""
        values: list[Any] = [None] * self.size
        dist.all_gather_object(values, value)
        return all(other == values[0] for other in values)

    def sum(self, values: Sequence[float]) -> list[float]:
        """Element-wise sums over the ranks."""
        total = torch.tensor(list(values), dtype=torch.float64, device=self.device)
        dist.all_reduce(total)
        return total.tolist()

    def all_ok(self, action: Callable[[], T]) -> T:
        """Run ``action`` on every rank; if it fails anywhere, fail everywhere: the rank that
        failed with its own error, the others with :class:`PeerFailed`."""
        try:
            result, error = action(), None
        except Exception as failure:  # any failure, reported to the peers and raised again
            result, error = None, failure
        if self.any(error is not None):
            raise error if error is not None else PeerFailed()
        return result  # type: ignore[return-value]

    def on_main(self, action: Callable[[], T]) -> T:
        """Run ``action`` on rank 0 alone while the others wait; every rank gets its result
        (picklable), or fails when it failed (rank 0 with its error, the others with :class:`PeerFailed`)."""
        outcome: list[Any] = [None, False]  # the result, and whether the action failed
        error: Exception | None = None
        if self.is_main:
            try:
                outcome = [action(), False]
            except Exception as failure:  # any failure, reported to the peers and raised again
                outcome, error = [None, True], failure
        dist.broadcast_object_list(outcome, src=0, device=self.device)
        if error is not None:
            raise error
        if outcome[1]:
            raise PeerFailed()
        return outcome[0]

    def gather_in_order(self, items: Sequence[Item], work: Callable[[list[Item]], list[Result]]) -> list[Result]:
        """``work`` over all ``items``, each rank doing every N-th one; every rank gets all results
        in the order of ``items``."""
        mine = work(list(items[self.rank :: self.size]))
        parts: list[Any] = [None] * self.size
        dist.all_gather_object(parts, mine)
        results: list[Any] = [None] * len(items)
        for rank, part in enumerate(parts):
            results[rank :: self.size] = part
        return results

    def wrap(self, net: nn.Module, teacher_weight: float = 0.0) -> nn.Module:
        """``net``'s loss behind DistributedDataParallel: called on a batch it returns the loss,
        and its backward averages the gradients over the ranks."""
        from torch.nn.parallel import DistributedDataParallel

        ids = [self.device.index] if self.device.type == "cuda" else None
        # Its buffers (the CRF's transition masks, a few hundred numbers) are sent before each
        # forward; the keyword that turns that off was renamed in torch 2.13, so it is left alone.
        return DistributedDataParallel(_Loss(net, teacher_weight), device_ids=ids)


class _Loss(nn.Module):
    """DDP synchronises gradients only through ``forward``; the network's loss is a method."""

    def __init__(self, net: nn.Module, teacher_weight: float = 0.0) -> None:
        super().__init__()
        self.net = net
        self.teacher_weight = teacher_weight

    def forward(self, batch: Any) -> torch.Tensor:
        return self.net.loss(batch, self.teacher_weight)


def shard(batches: Sequence[T], rank: int, size: int) -> list[T]:
    """Rank ``rank``'s share of ``batches``: every ``size``-th, after repeating the first ones so
    that every rank gets as many (a rank short of a step would leave the others waiting in it)."""
    if not 0 <= rank < size:
        raise ValueError(f"rank: expected 0 <= rank < {size}, got {rank}")
    if not batches:
        return []
    steps = -(-len(batches) // size)
    padded = [batches[i % len(batches)] for i in range(steps * size)]
    return padded[rank::size]


@contextmanager
def joined(device: str, environ: Mapping[str, str] = os.environ) -> Iterator[World | None]:
    """Inside, the process group torchrun asked for (None without torchrun), torn down after.

    The backend follows ``device``: NCCL with each rank on ``cuda:LOCAL_RANK``, gloo on the CPU.
    """
    place = launched_world(environ)
    if place is None:
        yield None
        return
    rank, size, local = place
    if torch.device(device).type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device {device!r}: no CUDA GPU is available to torch {torch.__version__}")
        where, backend = torch.device("cuda", local), "nccl"
        torch.cuda.set_device(where)
    else:
        where, backend = torch.device("cpu"), "gloo"
    dist.init_process_group(backend, rank=rank, world_size=size)
    try:
        yield World(rank, size, where)
    finally:
        # DDP leaves reference cycles behind; collected after the group is gone, at exit, they
        # sometimes abort the process ("terminate called without an active exception").
        gc.collect()
        dist.destroy_process_group()


def everywhere(world: World | None, action: Callable[[], T]) -> T:
    """``action()``; in a process group, failing on every rank if it fails on one."""
    return action() if world is None else world.all_ok(action)


def on_main(world: World | None, action: Callable[[], T]) -> T:
    """``action()``; in a process group, run by rank 0 alone, its result (or failure) shared."""
    return action() if world is None else world.on_main(action)
