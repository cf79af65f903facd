"""Training checkpoints: everything needed to continue a run exactly where an epoch ended.

The JSON half is one typed record, :class:`CheckpointState`, written and read here only; the
tensors (weights, optimizer moments, the weight average, random generator states) go to
safetensors, so a checkpoint is as safe to load as a model. A checkpoint is a folder beside the
model folder, replaced whole after every epoch through :mod:`nertag.safe_write`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from .averaging import WeightAverage
from .config import ModelConfig, TrainConfig, TrainingJob
from .errors import InputError
from .safe_write import write_folder
from .train_state import EpochLog, TrainingProgress

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


@dataclass(frozen=True)
class Checkpointing:
    """Where a run keeps its checkpoint, what it trains (kept there for ``--resume``), and whether
    it continues from that checkpoint."""

    path: Path
    job: TrainingJob | None = None
    resume: bool = False


@dataclass(frozen=True)
class RunFacts:
    """What a run was started with; a resumed run must be started with the same."""

    model: ModelConfig
    settings: TrainConfig
    job: TrainingJob | None
    vocab_sha256: str


@dataclass
class LiveRun:
    """The objects of a run in progress whose state a checkpoint keeps."""

    net: torch.nn.Module
    optimizer: torch.optim.Optimizer
    average: WeightAverage
    generator: torch.Generator
    progress: TrainingProgress
    best_state: dict[str, torch.Tensor] | None = None


@dataclass(frozen=True)
class CheckpointState:
    """The JSON half of a checkpoint."""

    facts: RunFacts
    progress: TrainingProgress
    ema_steps: int
    param_groups: list[dict[str, Any]]

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.facts.model.to_json(),
            "settings": asdict(self.facts.settings),
            "job": self.facts.job.to_json() if self.facts.job else None,
            "vocab_sha256": self.facts.vocab_sha256,
            "progress": {
                "epoch": self.progress.epoch,
                "best_f1": self.progress.best_f1,
                "stale": self.progress.stale,
                "history": [asdict(e) for e in self.progress.history],
            },
            "ema_steps": self.ema_steps,
            "param_groups": self.param_groups,
        }

    @classmethod
    def from_json(cls, data: Any, source: str) -> "CheckpointState":
        """The state in ``data``, or an :class:`~nertag.errors.InputError` naming ``source``."""
        try:
            steps = data.get("ema_steps", _NO_WARM_UP)
            if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
                raise ValueError(f"ema_steps: expected a count >= 0, got {steps!r}")
            saved = data["progress"]
            facts = RunFacts(
                ModelConfig.from_json(data["model"]),
                TrainConfig(**data["settings"]),
                TrainingJob.from_json(data["job"]) if data.get("job") else None,
                str(data["vocab_sha256"]),
            )
            progress = TrainingProgress(
                saved["epoch"], saved["best_f1"], saved["stale"], [EpochLog(**e) for e in saved["history"]]
            )
            return cls(facts, progress, steps, list(data["param_groups"]))
        except (AttributeError, KeyError, TypeError, ValueError) as error:
            raise InputError(source, None, f"not a usable nertag checkpoint ({error})") from None


def save_checkpoint(path: Path, run: LiveRun, facts: RunFacts) -> None:
    """Write the run's state after a finished epoch, replacing the previous checkpoint atomically."""
    tensors: dict[str, torch.Tensor] = {f"net/{k}": v for k, v in run.net.state_dict().items()}
    tensors.update({f"ema/{k}": v for k, v in run.average.shadow.items()})
    tensors.update({f"best/{k}": v for k, v in (run.best_state or {}).items()})
    optimizer_state = run.optimizer.state_dict()
    for index, values in optimizer_state["state"].items():
        for name, value in values.items():
            tensors[f"optim/{index}/{name}"] = value if torch.is_tensor(value) else torch.tensor(value)
    tensors["rng/torch"] = torch.get_rng_state()
    tensors["rng/generator"] = run.generator.get_state()
    state = CheckpointState(facts, run.progress, run.average.steps, optimizer_state["param_groups"])

    def fill(staging: Path) -> None:
        save_file({k: v.detach().cpu().contiguous() for k, v in tensors.items()}, str(staging / TENSORS))
        (staging / STATE).write_text(json.dumps(state.to_json(), indent=1), encoding="utf-8")

    write_folder(path, fill, kind="checkpoint")


def read_checkpoint(path: Path) -> tuple[CheckpointState, dict[str, torch.Tensor]]:
    """The state and the tensors of a checkpoint folder, refusing anything incomplete."""
    try:
        data = json.loads((path / STATE).read_text(encoding="utf-8"))
        tensors = load_file(str(path / TENSORS))
    except FileNotFoundError:
        raise InputError(str(path), None, "not a nertag training checkpoint (state.json or tensors missing)") from None
    except (ValueError, OSError) as error:
        raise InputError(str(path), None, f"unreadable checkpoint ({error})") from None
    return CheckpointState.from_json(data, str(path)), tensors


def restore(state: CheckpointState, tensors: dict[str, torch.Tensor], run: LiveRun) -> None:
    """Load a checkpoint into a freshly built run: weights, optimizer, random generators, the
    weight average with its update count (so its warm-up goes on where it stopped), progress."""

    def part(prefix: str) -> dict[str, torch.Tensor]:
        return {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}

    run.net.load_state_dict(part("net/"))
    for name, value in part("ema/").items():
        run.average.shadow[name].copy_(value)
    run.average.steps = state.ema_steps
    optimizer_state: dict[str, Any] = {"state": {}, "param_groups": state.param_groups}
    for key, value in part("optim/").items():
        index, name = key.split("/", 1)
        optimizer_state["state"].setdefault(int(index), {})[name] = value
    run.optimizer.load_state_dict(optimizer_state)
    torch.set_rng_state(tensors["rng/torch"])
    run.generator.set_state(tensors["rng/generator"])
    run.best_state = part("best/") or None
    run.progress = state.progress
