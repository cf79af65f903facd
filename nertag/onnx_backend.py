"""Tagging with onnxruntime: emission scores from an ONNX export (:mod:`nertag.onnx_export`);
features, Viterbi and confidences stay the torch code of :class:`nertag.tagger.Tagger`.

Only the emission network moves: it holds nearly all of a tagger's arithmetic, while the CRF's
dynamic programs are small tensor loops that gain nothing from a graph runtime.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file

from .batch import Batch
from .errors import ModelError
from .model import build_crf, checked_device
from .onnx_export import CRF_WEIGHTS, EMISSIONS, OUTPUT, input_names, onnx_bytes
from .serialize import check_digests, check_finite, read_model_files
from .tagger import Tagger

INSTALL_HINT = "pip install 'nertag[onnx]'"


def _onnxruntime() -> Any:
    try:
        import onnxruntime
    except ImportError:
        raise ModelError(f"the onnx backend needs onnxruntime, which is not installed ({INSTALL_HINT})") from None
    return onnxruntime


def _runtime_errors(onnxruntime: Any) -> tuple[type[BaseException], ...]:
    """The exceptions onnxruntime raises for a model it cannot read (they derive from Exception only)."""
    state = onnxruntime.capi.onnxruntime_pybind11_state
    names = ("Fail", "InvalidArgument", "NoSuchFile", "InvalidProtobuf", "InvalidGraph", "NotImplemented", "RuntimeException")
    return (OSError, *(getattr(state, name) for name in names if hasattr(state, name)))


class OnnxEmissions:
    """An :class:`~nertag.tagger.EmissionSource` running an exported emission network in an
    onnxruntime ``InferenceSession`` on the CPU.

    It uses as many intra-op threads as torch does when it is made (``torch.get_num_threads()``,
    which ``nertag tag --threads`` and the load-aware default set), so both backends share the
    machine alike; inter-op parallelism is off, as a single chain of LSTM nodes cannot use it.
    """

    def __init__(self, model: bytes | Path, inputs: Sequence[str], output: str, where: str, num_tags: int) -> None:
        """``model``: the serialized graph or its file; ``where`` names it in errors; ``num_tags``:
        the CRF's, which the graph's scores must match."""
        onnxruntime = _onnxruntime()
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = torch.get_num_threads()
        options.inter_op_num_threads = 1
        options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
        options.log_severity_level = 3  # errors only: its warnings would reach the user's stderr
        # onnxruntime's worker threads otherwise spin after each run, taking the cores from the
        # torch CRF and the Python feature code that run between batches.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            self.session = onnxruntime.InferenceSession(
                model if isinstance(model, bytes) else str(model), options, providers=["CPUExecutionProvider"]
            )
        except _runtime_errors(onnxruntime) as error:
            raise ModelError(f"{where}: onnxruntime cannot read it, damaged or not an export of this nertag ({_first_line(error)})") from None
        found = [node.name for node in self.session.get_inputs()]
        if sorted(found) != sorted(inputs) or output not in [node.name for node in self.session.get_outputs()]:
            raise ModelError(f"{where}: graph inputs {', '.join(found)} do not match the model config ({', '.join(inputs)})")
        width = next(node.shape for node in self.session.get_outputs() if node.name == output)[-1]
        if isinstance(width, int) and width != num_tags:
            raise ModelError(f"{where}: the graph scores {width} tags but the model config has {num_tags}; not this model's export")
        self.inputs, self.output, self.where = list(inputs), output, where
        self._errors = _runtime_errors(onnxruntime)

    def __call__(self, batch: Batch) -> torch.Tensor:
        """(batch, time, tags) float32 emission scores of a CPU ``batch``."""
        feed = {name: getattr(batch, name).numpy() for name in self.inputs}
        try:
            (scores,) = self.session.run([self.output], feed)
        except self._errors as error:  # e.g. ids beyond the graph's tables: a graph from another vocabulary
            raise ModelError(f"{self.where}: the graph does not fit this model's vocabulary ({_first_line(error)})") from None
        return torch.from_numpy(scores)


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def check_cpu(device: str) -> None:
    """Refuse a device other than the CPU (named clearly, as every loader names devices)."""
    if checked_device(device).type != "cpu":
        raise ValueError(f"device {device!r}: the onnx backend runs on the CPU only (use backend='torch' for a GPU)")


def is_export(directory: str | Path) -> bool:
    """True for a folder written by :func:`nertag.onnx_export.export_onnx` (it holds the graph)."""
    return (Path(directory) / EMISSIONS).is_file()


def load_export(directory: str | Path, device: str = "cpu", precision: str = "float32") -> Tagger:
    """A :class:`Tagger` running the ONNX export in ``directory``, each file checked as it is read."""
    check_cpu(device)
    directory = Path(directory)
    meta, config, features = read_model_files(directory)
    export = meta.get("export")
    if not isinstance(export, dict) or export.get("format") != "onnx":
        raise ModelError(f"{directory}: holds {EMISSIONS} but config.json has no onnx export section")
    for name in (EMISSIONS, CRF_WEIGHTS):
        if not (directory / name).is_file():
            raise ModelError(f"{directory}: not a complete nertag export, {name} is missing")
    check_digests(directory, meta)
    crf = build_crf(config, features.tags.items)
    path = directory / CRF_WEIGHTS
    try:
        weights = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as error:
        raise ModelError(f"{path}: unreadable CRF weights, truncated or corrupted ({error})") from None
    expected = crf.state_dict()
    if set(weights) != set(expected) or any(weights[k].shape != expected[k].shape for k in expected):
        raise ModelError(f"{path}: CRF weights do not match config.json ({', '.join(sorted(weights)[:3])})")
    check_finite(weights, path)
    crf.load_state_dict({name: value.float() for name, value in weights.items()})
    source = OnnxEmissions(
        directory / EMISSIONS, input_names(config), str(export.get("output", OUTPUT)), str(directory / EMISSIONS), len(features.tags)
    )
    return Tagger(config, features, None, precision, emissions=source, crf=crf.eval())


def onnx_tagger(tagger: Tagger, precision: str = "float32") -> Tagger:
    """The same model as a torch ``tagger`` (on the CPU), its emission network exported in memory
    and run by onnxruntime; nothing is written to disk, so there is no cache to go stale."""
    check_cpu(str(tagger.device))
    graph = onnx_bytes(tagger)
    source = OnnxEmissions(graph, input_names(tagger.config), OUTPUT, "exported network", len(tagger.tags))
    return Tagger(tagger.config, tagger.features, None, precision, emissions=source, crf=tagger.crf)
