"""What the machine offers tagging: native bfloat16, and how many threads it can spare right now.

A busy machine is common (a training beside, other jobs): torch's default of one thread a core
then oversubscribes it, and two threads on a loaded 2-core machine tagged 4x slower than one.
"""

from __future__ import annotations

import os
import time
from functools import lru_cache

PRECISIONS = ("auto", "float32", "bfloat16")


@lru_cache(maxsize=1)
def cpu_has_native_bfloat16() -> bool:
    """True on x86 CPUs with AVX512-BF16 or AMX (Linux flags); elsewhere float32 is the safe pick."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return bool(flags & {"avx512_bf16", "amx_bf16"})
    except OSError:
        pass
    return False


def resolve_precision(precision: str, device_type: str) -> str:
    """``auto`` becomes bfloat16 where the hardware computes it natively, else float32."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision: expected one of {', '.join(PRECISIONS)}, got {precision!r}")
    if precision != "auto":
        return precision
    if device_type == "cuda":
        import torch

        return "bfloat16" if torch.cuda.is_bf16_supported() else "float32"
    return "bfloat16" if device_type == "cpu" and cpu_has_native_bfloat16() else "float32"


LOADAVG = "/proc/loadavg"
OWN_THREADS = "/proc/self/task"


def _own_runnable() -> int:
    """This process's threads that are runnable now (the reader among them; OpenMP threads still
    spinning after a parallel operation too): the machine-wide count includes them."""
    count = 0
    for task in os.listdir(OWN_THREADS):
        try:
            with open(os.path.join(OWN_THREADS, task, "stat"), encoding="ascii", errors="replace") as handle:
                count += handle.read().rpartition(")")[2].split()[0] == "R"
        except (OSError, IndexError):
            continue  # a thread that ended while being read
    return max(1, count)


def runnable_now(samples: int = 5) -> int | None:
    """Threads of other processes runnable right now: the median of a few readings of the running
    count in /proc/loadavg, a few milliseconds apart, less this process's own runnable threads
    (None where it cannot be read, or reads as less than this process alone, as some sandboxes
    report).

    The load average lags by a minute both ways: right after a run ends it still counts it
    (the next run in a shell loop then took one thread on an idle machine, 1.5x slower), and it
    misses a job that has just started beside this one. Like the load average, the count is
    machine-wide (a container's neighbours count) and a snapshot: a neighbour busy only now and
    then may be missed."""
    counts = []
    try:
        for sample in range(samples):
            if sample:
                time.sleep(0.002)
            own = _own_runnable()
            with open(LOADAVG, encoding="ascii") as handle:
                running = int(handle.read().split()[3].split("/")[0])
            if running < 1:
                return None  # not a real count: this process itself is running
            counts.append(max(0, running - own))
    except (OSError, ValueError, IndexError):
        return None
    return sorted(counts)[len(counts) // 2]


def spare_threads() -> int:
    """Cores this process may use minus those other work keeps busy right now (the last minute's
    load where the running count cannot be read), at least one."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    busy = runnable_now()
    if busy is None:
        try:
            busy = int(os.getloadavg()[0])  # whole cores kept busy over the last minute
        except (AttributeError, OSError):
            busy = 0
    return max(1, min(cores, cores - busy))


def use_threads(threads: int | None) -> int:
    """Set torch's intra-op threads: ``threads``, or (None) as many as the machine can spare."""
    import torch

    chosen = threads if threads is not None else spare_threads()
    if chosen < 1:
        raise ValueError(f"threads: expected an int >= 1, got {chosen}")
    torch.set_num_threads(chosen)
    return chosen
