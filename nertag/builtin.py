"""Models shipped inside the package, found by name, and the default pick for a text's language."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from .tokenize import looks_chinese

MODELS_DIR = Path(__file__).parent / "models"
MANIFEST = MODELS_DIR / "MODELS.json"
# The Chinese default is the general-domain model (news and web text; see BENCHMARKS.md): on web text
# of other domains it finds far more than the news-only zh-msra, which stays for MSRA-style news.
DEFAULT_CHINESE = "zh-general"
DEFAULT_OTHER = "en-conll03"


@dataclass(frozen=True)
class BuiltinModel:
    name: str
    path: Path
    labels: list[str]
    corpus: str
    test_f1: float
    command: str
    test_split: str = "test"  # what test_f1 was measured on
    notes: str = ""  # other figures worth knowing (held-out dev, other domains)


def builtin_models() -> dict[str, BuiltinModel]:
    """The shipped models, from the manifest written when they were trained and scored."""
    if not MANIFEST.is_file():
        return {}
    manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
    found = {}
    for name, card in manifest.items():
        path = MODELS_DIR / name
        if (path / "config.json").is_file():
            labels = json.loads((path / "config.json").read_text(encoding="utf-8"))["labels"]
            found[name] = BuiltinModel(
                name, path, labels, card["corpus"], card["test_f1"], card["command"],
                card.get("test_split", "test"), card.get("notes", ""),
            )
    return found


def resolve_model(model: str | Path | None, sample: str = "") -> Path:
    """A model directory for ``model``: a built-in name, a directory, or (None) the default for ``sample``'s language."""
    if model is None:
        model = DEFAULT_CHINESE if looks_chinese(sample) else DEFAULT_OTHER
        if model not in builtin_models():
            raise ValueError(f"the default model {model} is not installed; pass --model DIR")
    shipped = builtin_models()
    if isinstance(model, str) and model in shipped:
        return shipped[model].path
    return Path(model)
