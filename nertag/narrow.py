"""Narrowing: a sentence encoder with fewer hidden units, cut from a wider trained one.

A narrow network trained from scratch learns less than a wide one. Started instead from the wide
one's weights, keeping each direction's most used units, it begins close to the wide model (the
embeddings, which hold most of what was learned, carry over whole) and a few epochs of
fine-tuning recover most of the rest, at the narrow network's speed (BENCHMARKS.md).

A unit's use is the size of what reads it: the weights that carry its output into the next layer
(or the emission layer) and into every gate of its own recurrence. Weights alone decide, so the
same model narrows the same way whatever text is at hand.
"""

from __future__ import annotations

import torch
from torch import nn


def _readers(state: dict[str, torch.Tensor], layer: int, layers: int) -> list[torch.Tensor]:
    """The weights reading layer ``layer``'s output, as (readers, 2 * hidden) matrices: the next
    layer's input weights of both directions, or the emission layer after the last."""
    if layer + 1 == layers:
        return [state["emission.weight"]]
    return [state[f"encoder.weight_ih_l{layer + 1}{suffix}"] for suffix in ("", "_reverse")]


def kept_units(state: dict[str, torch.Tensor], hidden: int, layers: int, width: int) -> list[torch.Tensor]:
    """For each layer and direction (forward, backward, next layer...), the sorted indices of the
    ``width`` units of ``hidden`` to keep: those whose outgoing weights are largest."""
    kept = []
    for layer in range(layers):
        readers = _readers(state, layer, layers)
        for direction, suffix in enumerate(("", "_reverse")):
            columns = slice(direction * hidden, (direction + 1) * hidden)
            use = sum(w[:, columns].float().pow(2).sum(0) for w in readers)
            use = use + state[f"encoder.weight_hh_l{layer}{suffix}"].float().pow(2).sum(0)
            kept.append(use.argsort(descending=True)[:width].sort().values)
    return kept


def narrowed_state(state: dict[str, torch.Tensor], rnn: nn.RNNBase, width: int) -> dict[str, torch.Tensor]:
    """``state`` (a network's state_dict whose sentence encoder is ``rnn``) with the encoder cut to
    ``width`` units a direction and the layers reading it cut to match; other weights unchanged."""
    hidden, layers = rnn.hidden_size, rnn.num_layers
    if not 0 < width <= hidden:
        raise ValueError(f"can narrow a {hidden}-unit encoder to 1-{hidden} units, not {width}")
    kept = kept_units(state, hidden, layers, width)
    gates = state["encoder.weight_hh_l0"].size(0) // hidden  # 4 for an LSTM, 3 for a GRU

    def both(layer: int) -> torch.Tensor:
        """Positions kept in layer ``layer``'s output, forward units then backward ones."""
        return torch.cat([kept[2 * layer], hidden + kept[2 * layer + 1]])

    narrowed = dict(state)
    for layer in range(layers):
        for direction, suffix in enumerate(("", "_reverse")):
            units = kept[2 * layer + direction]
            rows = torch.cat([gate * hidden + units for gate in range(gates)])
            for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                name = f"encoder.{kind}_l{layer}{suffix}"
                if name not in state:
                    continue
                value = state[name][rows]
                if kind == "weight_hh":
                    value = value[:, units]
                elif kind == "weight_ih" and layer > 0:
                    value = value[:, both(layer - 1)]
                narrowed[name] = value.contiguous()
    narrowed["emission.weight"] = state["emission.weight"][:, both(layers - 1)].contiguous()
    return narrowed
