"""Weight averaging of models fine-tuned from one start (a "model soup", Wortsman et al., 2022).

Runs that start from the same model (``nertag train --init``) and differ only in their seed, and so
in data order and dropout, end close to one another in weight space. The mean of their weights is
one model of the same size and speed that scores about what a typical run scores, sometimes more;
unlike an ensemble it costs nothing more at tagging time. The models must agree on everything but
their weights (the same config, labels and vocabularies), so that every weight means the same
thing in each.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any, Sequence

import torch

from .errors import ModelError
from .finetune import TUNABLE, check_out_is_not_init, init_directory
from .safe_write import check_folder_target
from .serialize import CONFIG, load, save
from .tagger import Tagger

# Settings a soup's ingredients may differ in: they shape no weight, and the first's are kept.
# lexicon_classes may change under --init but not here: weights trained to read jieba's classes
# and weights trained to read LAC's do not average into either.
MAY_DIFFER = TUNABLE - {"lexicon_classes"}


def _same_model(first: Tagger, other: Tagger, name: str, first_name: str) -> None:
    """Raise ModelError naming what differs between two ingredients, if anything but weights does."""
    mine, theirs = dataclasses.asdict(first.config), dataclasses.asdict(other.config)  # every field, defaults too
    differing = sorted(k for k, v in theirs.items() if k not in MAY_DIFFER and mine[k] != v)
    if differing:
        raise ModelError(f"{name}: its config differs from {first_name}'s ({', '.join(differing)}); only models "
                         "trained from one start with the same options can be averaged")
    if other.features.to_json() != first.features.to_json():
        raise ModelError(f"{name}: its vocabularies differ from {first_name}'s; only models trained on the same "
                         "corpora from one start can be averaged")


def averaged_weights(states: Sequence[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """The mean of each floating-point tensor (computed in float64); other tensors must be equal."""
    mean: dict[str, torch.Tensor] = {}
    for name, value in states[0].items():
        if value.is_floating_point():
            total = sum(state[name].double() for state in states)
            mean[name] = (total / len(states)).to(value.dtype)
        elif all(torch.equal(state[name], value) for state in states[1:]):
            mean[name] = value.clone()
        else:
            raise ModelError(f"the models' {name} differ, and it is not a weight that can be averaged")
    return mean


def average_models(models: Sequence[str | Path], out: str | Path, weights_dtype: str = "float32") -> Path:
    """Write the weight average of ``models`` (built-in names or folders) to ``out``; returns the folder.

    Every model is checked against the first before anything is written. config.json records each
    ingredient's name and training facts.
    """
    if len(models) < 2:
        raise ValueError("averaging needs at least two models")
    for model in models:
        check_out_is_not_init(out, model, role="averaged model")
    check_folder_target(out)  # before any model is read
    taggers = [load(init_directory(model), "cpu") for model in models]
    first = taggers[0]
    for model, tagger in zip(models[1:], taggers[1:]):
        _same_model(first, tagger, str(model), str(models[0]))
    assert first.net is not None
    mean = averaged_weights([tagger.net.state_dict() for tagger in taggers if tagger.net is not None])
    first.net.load_state_dict(mean)
    ingredients: list[dict[str, Any]] = []
    for model in models:  # config.json alone: each model was read and checked whole above
        meta = json.loads((init_directory(model) / CONFIG).read_text(encoding="utf-8"))
        ingredients.append({"model": os.path.basename(os.path.normpath(str(model))), "training": meta.get("training")})
    return save(first, out, extra={"averaged": ingredients}, weights_dtype=weights_dtype)
