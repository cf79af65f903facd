"""Export a model's emission network to ONNX, so that onnxruntime can compute its emission scores.

An export folder holds ``emissions.onnx`` (everything :meth:`nertag.model.BiLstmCrf.emissions`
does in eval mode: embeddings, char encoder, bigram, segment and shape embeddings, lexicon input,
BiLSTM and the linear layer, with dynamic batch, time, form and character axes), ``crf.safetensors``
(the CRF's three score tensors), and the model's ``vocab.json`` and ``config.json``; the latter
gains an ``export`` section and checksums of the new files. Nothing is pickled. Viterbi and
confidences stay in torch (:mod:`nertag.onnx_backend` loads the folder).

Exporter: the TorchScript-based one, ``torch.onnx.export(..., dynamo=False)``. It writes each
``nn.LSTM``/``nn.GRU`` as one ONNX LSTM/GRU node, every axis named in ``dynamic_axes`` stays
dynamic, and nothing beyond torch and onnx is needed. The default dynamo exporter (torch 2.13 with onnxscript
0.7) was tried on zh-general: it could not turn ``dynamic_axes`` into its ``dynamic_shapes`` for
this module, and given ``dynamic_shapes`` directly it wrote a correct graph but declared the
output's time axis fixed at the example's length (onnxruntime then warns on every call), with
some twenty warnings at export. The TorchScript exporter is deprecated since torch 2.9 (its
warning is silenced here); when it goes, :class:`EmissionNetwork` is the module to hand to
``torch.onnx.export(..., dynamic_shapes=...)``, and the parity tests say whether that is enough.
"""

from __future__ import annotations

import importlib.util
import io
import json
import warnings
from pathlib import Path

import torch
from safetensors.torch import save_file
from torch import nn

from .batch import Batch
from .birnn import gather_time, reversal_index
from .config import ModelConfig
from .errors import ModelError
from .model import BiLstmCrf, CharEncoder
from .safe_write import check_folder_target, write_folder
from .serialize import CONFIG, VOCAB, load, sha256_of
from .tagger import Tagger
from .version import __version__

EMISSIONS, CRF_WEIGHTS = "emissions.onnx", "crf.safetensors"
OUTPUT = "emissions"
OPSET = 17  # the ONNX LSTM and GRU ops are unchanged since opset 14; 17 is read by onnxruntime >= 1.13
# The dynamic axes of each graph input (a Batch field); which inputs a model has: input_names().
_DYNAMIC_AXES = {
    "words": {0: "batch", 1: "time"},
    "lengths": {0: "batch"},
    "chars": {0: "forms", 1: "characters"},
    "char_lengths": {0: "forms"},
    "form_index": {0: "batch", 1: "time"},
    "bigrams": {0: "batch", 1: "time"},
    "segments": {0: "batch", 1: "time"},
    "shapes": {0: "batch", 1: "time"},
    "lexicon": {0: "batch", 1: "time"},
}


class Bidirectional(nn.Module):
    """A bidirectional, batch_first RNN as two unidirectional copies per layer, computing what
    :func:`nertag.birnn.bidirectional` computes on CPU: the backward direction reads each sentence
    reversed within its length (a gather), so padding never enters a real token's state.

    ``torch._VF.lstm`` on a slice of the flat weights, which the CPU path uses, is not something
    an exporter can read; plain ``nn.LSTM`` modules holding copies of the same weights are.
    """

    def __init__(self, rnn: nn.RNNBase) -> None:
        super().__init__()
        if not (rnn.bidirectional and rnn.batch_first):
            raise ValueError("expected a bidirectional, batch_first RNN")
        self.forward_layers = nn.ModuleList()
        self.backward_layers = nn.ModuleList()
        for layer in range(rnn.num_layers):
            input_size = rnn.input_size if layer == 0 else 2 * rnn.hidden_size
            for suffix, layers in (("", self.forward_layers), ("_reverse", self.backward_layers)):
                copy = type(rnn)(input_size, rnn.hidden_size, bias=rnn.bias, batch_first=True)
                for name in ("weight_ih", "weight_hh") + (("bias_ih", "bias_hh") if rnn.bias else ()):
                    getattr(copy, f"{name}_l0").data.copy_(getattr(rnn, f"{name}_l{layer}{suffix}").data)
                layers.append(copy.eval())

    def forward(self, inputs: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """inputs: (batch, time, features); lengths: (batch,). Returns both directions, (batch, time, hidden) each."""
        flip = reversal_index(lengths, inputs.size(1))
        layer_input = inputs
        forward = backward = inputs
        for forward_rnn, backward_rnn in zip(self.forward_layers, self.backward_layers):
            forward = forward_rnn(layer_input)[0]
            backward = gather_time(backward_rnn(gather_time(layer_input, flip))[0], flip)
            layer_input = torch.cat([forward, backward], dim=2)  # eval: no dropout between layers
        return forward, backward


class ExportedCharEncoder(nn.Module):
    """:class:`nertag.model.CharEncoder` over :class:`Bidirectional`: (forms, chars) ids -> (forms, 2 * hidden)."""

    def __init__(self, encoder: CharEncoder) -> None:
        super().__init__()
        self.embedding = encoder.embedding
        self.rnn = Bidirectional(encoder.rnn)

    def forward(self, chars: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        forward, backward = self.rnn(self.embedding(chars), lengths)
        ends = (lengths - 1).view(-1, 1, 1).expand(-1, 1, forward.size(2))
        return torch.cat([forward.gather(1, ends).squeeze(1), backward[:, 0]], dim=1)


def input_names(config: ModelConfig) -> list[str]:
    """The :class:`~nertag.batch.Batch` fields a model of ``config`` reads, in the exported graph's input order."""
    names = ["words", "lengths"]
    if config.char_dim:
        names += ["chars", "char_lengths", "form_index"]
    if config.bigram_dim:
        names.append("bigrams")
    if config.segment_dim:
        names.append("segments")
    if config.shape_dim:
        names.append("shapes")
    if config.lexicon:
        names.append("lexicon")
    return names


class EmissionNetwork(nn.Module):
    """``net.emissions`` in eval mode as a module of plain tensor inputs (named by :func:`input_names`),
    sharing ``net``'s embedding and linear layers and holding copies of its RNN weights."""

    def __init__(self, net: BiLstmCrf) -> None:
        super().__init__()
        self.inputs = input_names(net.config)
        self.word_embedding = net.word_embedding
        self.char_encoder = ExportedCharEncoder(net.char_encoder) if net.char_encoder is not None else None
        self.bigram_embedding = net.bigram_embedding
        self.segment_embedding = net.segment_embedding
        self.segment_position_embedding = net.segment_position_embedding
        self.shape_embedding = net.shape_embedding
        self.lexicon = net.config.lexicon
        # A style model reads the embedding of the style it tags in: one constant vector.
        style = net.tag_style_vector().detach().clone() if net.style_embedding is not None else None
        self.style: torch.Tensor | None
        self.register_buffer("style", style)
        self.encoder = Bidirectional(net.encoder)
        self.emission = net.emission

    def forward(self, *tensors: torch.Tensor) -> torch.Tensor:
        """The tensors of :attr:`inputs`, in that order. Returns (batch, time, tags) float32."""
        named = dict(zip(self.inputs, tensors))
        parts = [self.word_embedding(named["words"])]
        if self.char_encoder is not None:
            per_form = self.char_encoder(named["chars"], named["char_lengths"])  # (forms, 2 * char_hidden)
            parts.append(per_form[named["form_index"]])  # (batch, time, 2 * char_hidden)
        if self.bigram_embedding is not None:
            parts.append(self.bigram_embedding(named["bigrams"]).flatten(2))  # (batch, time, 2 * bigram_dim)
        if self.segment_embedding is not None and self.segment_position_embedding is not None:
            segments = named["segments"]
            parts.append(self.segment_embedding(segments[..., 0]))
            parts.append(self.segment_position_embedding(segments[..., 1]))
        if self.shape_embedding is not None:
            parts.append(self.shape_embedding(named["shapes"][..., 0]))
        if self.lexicon:
            parts.append(named["lexicon"])
        if self.style is not None:
            words = named["words"]
            parts.append(self.style.expand(words.size(0), words.size(1), -1))
        encoded = torch.cat(self.encoder(torch.cat(parts, dim=2), named["lengths"]), dim=2)  # (batch, time, 2 * hidden)
        return self.emission(encoded)


def _example(tagger: Tagger) -> Batch:
    """A small batch to trace with: two sentences of different lengths, forms of different lengths."""
    return tagger.features.encode([["ab", "cde", "f"], ["gh", "ij"]]).batch(torch.arange(2))


def onnx_bytes(tagger: Tagger) -> bytes:
    """The emission network of a torch ``tagger`` (on CPU, float32) as a serialized ONNX model."""
    if tagger.net is None:
        raise ValueError("this tagger has no torch network to export (it already runs an export)")
    if importlib.util.find_spec("onnx") is None:  # torch's exporter needs it to write the graph
        raise ModelError("exporting to ONNX needs the onnx package, which is not installed (pip install 'nertag[onnx]')")
    if tagger.device.type != "cpu":
        raise ValueError("export a model loaded on the CPU")
    module = EmissionNetwork(tagger.net).eval()
    example = _example(tagger)
    args = tuple(getattr(example, name) for name in module.inputs)
    buffer = io.BytesIO()
    with torch.no_grad(), warnings.catch_warnings():
        # nn.LSTM's own check of its (zero) initial state's size warns under tracing, and the exporter
        # warns that an initial state sized from the example batch might not fit other batches: it
        # is built from the input's shape, dynamic like the rest (the parity tests vary the batch).
        warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
        warnings.filterwarnings("ignore", message="Exporting a model to ONNX with a batch_size other than 1")
        # The exporter is deprecated (see the module docstring) and says so, also from inside.
        warnings.filterwarnings("ignore", message="You are using the legacy TorchScript-based ONNX export")
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"torch\.onnx\.")
        torch.onnx.export(
            module, args, buffer, input_names=module.inputs, output_names=[OUTPUT],
            dynamic_axes={**{name: _DYNAMIC_AXES[name] for name in module.inputs}, OUTPUT: {0: "batch", 1: "time"}},
            opset_version=OPSET, dynamo=False,
        )
    return buffer.getvalue()


def crf_tensors(tagger: Tagger) -> dict[str, torch.Tensor]:
    """The CRF's learned scores by their state_dict names (the constraints are rebuilt on load)."""
    return {name: value.detach().float().cpu().contiguous() for name, value in tagger.crf.state_dict().items()}


def export_onnx(model_dir: str | Path, out: str | Path, style: str | None = None) -> Path:
    """Write the export folder of the model in ``model_dir`` to ``out`` (absent, empty, or an earlier
    nertag export; see :mod:`nertag.safe_write`). Returns the folder written.

    ``style``, for a model trained with corpus styles, is the one the graph computes in (see
    :func:`nertag.load`); None keeps the model's own tag style."""
    check_folder_target(out, kind="export")  # before the work, so a refused folder costs nothing
    model_dir = Path(model_dir)
    tagger = load(model_dir)
    if style is not None:
        tagger.style = style
    graph = onnx_bytes(tagger)
    meta = json.loads((model_dir / CONFIG).read_text(encoding="utf-8"))
    meta["model"]["tag_style"] = tagger.config.tag_style  # the style baked into the graph
    vocab = (model_dir / VOCAB).read_bytes()

    def fill(staging: Path) -> None:
        (staging / VOCAB).write_bytes(vocab)
        (staging / EMISSIONS).write_bytes(graph)
        save_file(crf_tensors(tagger), str(staging / CRF_WEIGHTS), metadata={"nertag_version": __version__})
        exported = {
            **meta,
            "sha256": {name: sha256_of(staging / name) for name in (VOCAB, EMISSIONS, CRF_WEIGHTS)},
            "export": {
                "format": "onnx", "inputs": input_names(tagger.config), "output": OUTPUT, "opset": OPSET,
                "exporter": "torch.onnx.export(dynamo=False)", "torch_version": torch.__version__,
                "nertag_version": __version__, "source_sha256": meta.get("sha256", {}),
            },
        }
        (staging / CONFIG).write_text(json.dumps(exported, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

    return write_folder(out, fill, kind="export")
