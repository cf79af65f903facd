"""A model directory: ``config.json``, ``vocab.json`` and ``weights.safetensors``; nothing is unpickled.

Saving goes through :mod:`nertag.safe_write`: a complete new folder is written and put in place by
renames, so a crash leaves either the old model or the new one, never a mix, and a folder holding
anything nertag did not write is refused.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from .config import FORMAT_VERSION, WEIGHTS_DTYPES, ModelConfig
from .errors import ModelError
from .features import FeatureEncoder
from .model import build_network, checked_device
from .safe_write import sha256_of, write_folder
from .tagger import Tagger
from .version import __version__

CONFIG, VOCAB, WEIGHTS = "config.json", "vocab.json", "weights.safetensors"
# An int8 table ``name`` is stored with its per-row scales under ``name + ROW_SCALE``.
ROW_SCALE = ".row_scale"


def save(
    tagger: Tagger, directory: str | Path, extra: dict[str, Any] | None = None, weights_dtype: str = "float32"
) -> Path:
    """Write ``tagger`` to ``directory`` atomically; ``extra`` goes into config.json (e.g. training facts).

    ``weights_dtype="float16"`` halves the file; ``"int8"`` also stores the embedding tables, which
    hold most of the weights, as int8 rows with one scale each. Loading casts back to float32.
    """
    if weights_dtype not in WEIGHTS_DTYPES:
        raise ValueError(f"weights_dtype must be one of {', '.join(WEIGHTS_DTYPES)}, got {weights_dtype!r}")
    if tagger.net is None:
        raise ValueError("this tagger runs an ONNX export, which holds no torch weights to save")

    def fill(staging: Path) -> None:
        (staging / VOCAB).write_text(json.dumps(tagger.features.to_json(), ensure_ascii=False), encoding="utf-8")
        weights = _stored_weights(tagger.net.state_dict(), weights_dtype)
        save_file(weights, str(staging / WEIGHTS), metadata={"nertag_version": __version__})
        config = {
            "format_version": FORMAT_VERSION,
            "nertag_version": __version__,
            "model": tagger.config.to_json(),
            "labels": tagger.labels,
            # Checked on load, so a tampered or half-copied file is refused rather than used.
            "sha256": {name: sha256_of(staging / name) for name in (VOCAB, WEIGHTS)},
            **(extra or {}),
        }
        (staging / CONFIG).write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        for name in (CONFIG, VOCAB, WEIGHTS):
            with open(staging / name, "rb") as handle:
                os.fsync(handle.fileno())

    return write_folder(directory, fill, kind="model")


def _stored_weights(state: dict[str, torch.Tensor], weights_dtype: str) -> dict[str, torch.Tensor]:
    """The tensors as written: float16 for float16 and int8 files, embedding rows quantized for int8."""
    float_dtype = torch.float32 if weights_dtype == "float32" else torch.float16
    stored: dict[str, torch.Tensor] = {}
    for name, value in state.items():
        value = value.detach().to("cpu")
        if weights_dtype == "int8" and _is_embedding_table(name, value):
            stored[name], stored[name + ROW_SCALE] = quantize_rows(value)
        else:
            stored[name] = value.to(float_dtype if value.is_floating_point() else value.dtype).contiguous()
    return stored


def _is_embedding_table(name: str, value: torch.Tensor) -> bool:
    return name.endswith("embedding.weight") and value.dim() == 2 and value.is_floating_point()


def quantize_rows(table: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Symmetric int8 per row: each row keeps its own scale, so rare and frequent rows stay exact to 1/254 of their range."""
    table = table.float()
    scale = table.abs().amax(dim=1) / 127.0
    scale = torch.where(scale > 0, scale, torch.ones_like(scale))
    quantized = torch.round(table / scale[:, None]).clamp(-127, 127).to(torch.int8)
    return quantized.contiguous(), scale.contiguous()


def dequantize_rows(quantized: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    return quantized.float() * scale.float()[:, None]


def _restored_weights(stored: dict[str, torch.Tensor], path: Path) -> dict[str, torch.Tensor]:
    """Undo :func:`_stored_weights`: every tensor back to float32 (integer buffers untouched)."""
    weights: dict[str, torch.Tensor] = {}
    for name, value in stored.items():
        if name.endswith(ROW_SCALE):
            if name[: -len(ROW_SCALE)] not in stored:
                raise ModelError(f"{path}: row scales {name!r} without their table")
            continue
        if value.dtype == torch.int8:
            scale = stored.get(name + ROW_SCALE)
            if scale is None or value.dim() != 2 or scale.shape != (value.shape[0],):
                raise ModelError(f"{path}: int8 table {name!r} lacks matching row scales")
            weights[name] = dequantize_rows(value, scale)
        else:
            weights[name] = value.float() if value.is_floating_point() else value
    return weights


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(f"{path.parent}: not a complete nertag model, {path.name} is missing") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ModelError(f"{path}: not valid JSON ({error})") from None
    except RecursionError:
        raise ModelError(f"{path}: not a nertag file (JSON nested too deeply)") from None
    except OSError as error:
        raise ModelError(f"{path}: unreadable ({error.strerror or error})") from None


def read_model_files(directory: str | Path) -> tuple[dict[str, Any], ModelConfig, FeatureEncoder]:
    """config.json (as read), the model config and the feature encoder of a model or export folder,
    each checked; the one reading of these files shared by every loader."""
    directory = Path(directory)
    if not directory.is_dir():
        from .builtin import builtin_models

        names = ", ".join(sorted(builtin_models()))
        raise ModelError(f"{directory}: neither a built-in model ({names}) nor a model directory")
    meta = _read_json(directory / CONFIG)
    if not isinstance(meta, dict) or "format_version" not in meta:
        raise ModelError(f"{directory / CONFIG}: not a nertag model config (no format_version)")
    found = meta.get("format_version")
    if found != FORMAT_VERSION:
        raise ModelError(
            f"{directory}: model format {found} (saved by nertag {meta.get('nertag_version', '?')}) "
            f"cannot be read by nertag {__version__}, which reads format {FORMAT_VERSION}"
        )
    try:
        config = ModelConfig.from_json(meta["model"])
        features = FeatureEncoder.from_json(config, _read_json(directory / VOCAB))
    except ModelError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise ModelError(f"{directory}: inconsistent config.json or vocab.json ({error})") from None
    return meta, config, features


def check_digests(directory: Path, meta: dict[str, Any]) -> None:
    """Refuse a folder whose files differ from the checksums config.json recorded for them."""
    digests = meta.get("sha256") or {}
    if not isinstance(digests, dict):
        raise ModelError(f"{directory / CONFIG}: sha256 must map file names to checksums")
    for name, digest in digests.items():
        if not isinstance(name, str) or Path(name).name != name or name in (".", ".."):
            raise ModelError(f"{directory / CONFIG}: a checksum for {name!r}, which is not a file of the model folder")
        if (directory / name).is_file() and sha256_of(directory / name) != digest:
            raise ModelError(f"{directory / name}: contents do not match the checksum in config.json (altered or damaged)")


def load(directory: str | Path, device: str = "cpu", precision: str = "float32") -> Tagger:
    """Rebuild a :class:`Tagger` from a model directory, checking every file as it goes."""
    directory = Path(directory)
    meta, config, features = read_model_files(directory)
    if "export" in meta:
        raise ModelError(f"{directory}: an ONNX export, which holds no torch weights (nertag.load runs it with onnxruntime)")
    where = checked_device(device)
    try:
        net = build_network(config, features.tags.items, features.table_sizes(), where)
    except (KeyError, TypeError, ValueError) as error:  # e.g. tags of another scheme than config.json's
        raise ModelError(f"{directory}: inconsistent config.json or vocab.json ({error})") from None
    weights_path = directory / WEIGHTS
    if not weights_path.is_file():
        raise ModelError(f"{directory}: not a complete nertag model, {WEIGHTS} is missing")
    try:
        stored = load_file(str(weights_path))
    except (SafetensorError, OSError, ValueError) as error:
        raise ModelError(f"{weights_path}: unreadable weights, truncated or corrupted ({error})") from None
    weights = _restored_weights(stored, weights_path)
    check_digests(directory, meta)
    expected = net.state_dict()
    problems = sorted(set(expected) ^ set(weights)) + [
        k for k in expected if k in weights and weights[k].shape != expected[k].shape
    ]
    if problems:
        raise ModelError(f"{weights_path}: weights do not match config.json and vocab.json ({', '.join(problems[:3])})")
    check_finite(weights, weights_path)
    net.load_state_dict(weights)
    net.eval()
    return Tagger(config, features, net, precision)


def check_finite(weights: dict[str, torch.Tensor], path: Path) -> None:
    """Refuse weights holding a NaN or an infinity."""
    # A NaN or infinity anywhere makes the sum non-finite; summing is 5x faster than isfinite().all().
    if not all(bool(torch.isfinite(w.sum(dtype=torch.float64))) for w in weights.values() if w.is_floating_point()):
        raise ModelError(f"{path}: weights hold NaN or infinite values")
