"""Training checkpoints: everything needed to continue a run exactly where an epoch ended.

Tensors (weights, optimizer moments, the weight average, random generator states) go to
safetensors and the rest to JSON, so a checkpoint is as safe to load as a model.  A checkpoint is a
folder written beside the model folder and replaced atomically after every epoch.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from safetensors.torch import load_file, save_file

from .conll import InputError
from .safe_write import write_folder
from .train_state import EpochLog, TrainingProgress

if TYPE_CHECKING:
    from .train import WeightAverage

STATE, TENSORS = "state.json", "tensors.safetensors"

# Checkpoints written before the weight average warmed up carry no update count; so large a count
# turns the warm-up off, continuing them as the run that wrote them would have gone on.
_NO_WARM_UP = 2**62


def checkpoint_path(out_dir: str | Path) -> Path:
    """Where training into ``out_dir`` keeps its checkpoint."""
    out = Path(out_dir)
    return out.with_name(out.name + ".checkpoint")


def vocab_digest(vocab_json: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(vocab_json, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


def save_checkpoint(
    path: Path,
    net: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    average: WeightAverage,
    generator: torch.Generator,
    best_state: dict[str, torch.Tensor] | None,
    progress: TrainingProgress,
    meta: dict[str, Any],
) -> None:
    """Write the run's state after a finished epoch, replacing the previous checkpoint atomically."""
    tensors: dict[str, torch.Tensor] = {f"net/{k}": v for k, v in net.state_dict().items()}
    tensors.update({f"ema/{k}": v for k, v in average.shadow.items()})
    tensors.update({f"best/{k}": v for k, v in (best_state or {}).items()})
    optimizer_state = optimizer.state_dict()
    for index, values in optimizer_state["state"].items():
        for name, value in values.items():
            tensors[f"optim/{index}/{name}"] = value if torch.is_tensor(value) else torch.tensor(value)
    tensors["rng/torch"] = torch.get_rng_state()
    tensors["rng/generator"] = generator.get_state()
    state = {
        "progress": {
            "epoch": progress.epoch,
            "best_f1": progress.best_f1,
            "stale": progress.stale,
            "history": [asdict(e) for e in progress.history],
        },
        "param_groups": optimizer_state["param_groups"],
        "ema_steps": average.steps,
        **meta,
    }

    def fill(staging: Path) -> None:
        save_file({k: v.detach().cpu().contiguous() for k, v in tensors.items()}, str(staging / TENSORS))
        (staging / STATE).write_text(json.dumps(state, indent=1), encoding="utf-8")

    write_folder(path, fill, kind="checkpoint")


def read_checkpoint(path: Path) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """The JSON state and the tensors of a checkpoint folder, refusing anything incomplete."""
    try:
        state = json.loads((path / STATE).read_text(encoding="utf-8"))
        tensors = load_file(str(path / TENSORS))
    except FileNotFoundError:
        raise InputError(str(path), None, "not a nertag training checkpoint (state.json or tensors missing)") from None
    except (ValueError, OSError) as error:
        raise InputError(str(path), None, f"unreadable checkpoint ({error})") from None
    return state, tensors


def restore(
    state: dict[str, Any],
    tensors: dict[str, torch.Tensor],
    net: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    average: WeightAverage,
    generator: torch.Generator,
) -> tuple[dict[str, torch.Tensor] | None, TrainingProgress]:
    """Load a checkpoint's state into freshly built objects (the weight average with its update
    count, so its warm-up goes on where it stopped); returns the best weights and progress."""

    def part(prefix: str) -> dict[str, torch.Tensor]:
        return {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}

    net.load_state_dict(part("net/"))
    for name, value in part("ema/").items():
        average.shadow[name].copy_(value)
    steps = state.get("ema_steps", _NO_WARM_UP)
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
        raise InputError("checkpoint", None, f"ema_steps: expected a count >= 0, got {steps!r}")
    average.steps = steps
    optimizer_state: dict[str, Any] = {"state": {}, "param_groups": state["param_groups"]}
    for key, value in part("optim/").items():
        index, name = key.split("/", 1)
        optimizer_state["state"].setdefault(int(index), {})[name] = value
    optimizer.load_state_dict(optimizer_state)
    torch.set_rng_state(tensors["rng/torch"])
    generator.set_state(tensors["rng/generator"])
    best = part("best/") or None
    saved = state["progress"]
    progress = TrainingProgress(
        saved["epoch"], saved["best_f1"], saved["stale"], [EpochLog(**e) for e in saved["history"]]
    )
    return best, progress
