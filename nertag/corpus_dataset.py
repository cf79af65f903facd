"""Corpora as ``datasets.Dataset`` objects, both ways, so corpora can be cached, sliced and mixed
with the datasets library and then handed to training like a file.

A Dataset has a ``tokens`` column (list of strings) and a tag column: ``tags`` as strings of any
scheme, or Hugging Face's usual ``ner_tags`` as ids of a ``ClassLabel``. Rows keep their index as
their "line", so a bad row is reported as ``<dataset>:ROW``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence, Union

from .conll import Sentence, read_conll, relabel_corpus
from .errors import InputError, TagError
from .schemes import Scheme, convert, split_tag

if TYPE_CHECKING:  # datasets is heavy; imported only when a Dataset is asked for
    import datasets

TAG_COLUMNS = ("tags", "ner_tags")
CorpusSource = Union[str, os.PathLike, "datasets.Dataset"]


def read_corpus(
    path: str | os.PathLike, tag_column: int = -1, label_map: dict[str, str] | None = None, encoding: str = "utf-8"
) -> "datasets.Dataset":
    """A CoNLL column file (BIO, IOB1, BIOES/BMES or BILOU) as a Dataset of ``tokens`` and BIO ``tags``."""
    sentences = relabel_corpus(read_conll(path, tag_column, encoding=encoding), label_map or {})
    return to_dataset([s.with_tags(convert(s.tags, Scheme.BIO)) for s in sentences])


def to_dataset(sentences: Sequence[Sentence]) -> "datasets.Dataset":
    """Sentences as a Dataset with columns ``tokens`` and ``tags`` (tags as they are)."""
    import datasets

    features = datasets.Features({
        "tokens": datasets.Sequence(datasets.Value("string")),
        "tags": datasets.Sequence(datasets.Value("string")),
    })
    return datasets.Dataset.from_dict(
        {"tokens": [list(s.tokens) for s in sentences], "tags": [list(s.tags) for s in sentences]}, features=features
    )


def is_saved_dataset(path: str | os.PathLike) -> bool:
    """True for a folder written by ``Dataset.save_to_disk`` (it holds dataset_info.json and state.json)."""
    folder = Path(path)
    return folder.is_dir() and (folder / "state.json").is_file() and (folder / "dataset_info.json").is_file()


def read_sentences(source: CorpusSource, tag_column: int = -1, encoding: str = "utf-8") -> list[Sentence]:
    """Tagged sentences from a column file (in ``encoding``), a folder saved by
    ``Dataset.save_to_disk``, or a Dataset."""
    if isinstance(source, (str, os.PathLike)):
        if Path(source).is_dir() and not is_saved_dataset(source):
            raise InputError(os.fspath(source), None, "a folder, but not a Dataset saved by save_to_disk; give a column file")
        if not is_saved_dataset(source):
            return read_conll(source, tag_column, encoding=encoding)
        import datasets

        return dataset_sentences(datasets.load_from_disk(os.fspath(source)), os.fspath(source))
    return dataset_sentences(source)


def dataset_sentences(dataset: "datasets.Dataset", source: str = "<dataset>") -> list[Sentence]:
    """The rows of ``dataset`` as sentences: ``tokens`` and ``tags`` (strings) or ``ner_tags`` (ClassLabel ids)."""
    import datasets

    if not isinstance(dataset, datasets.Dataset):
        raise TypeError(f"expected a path or a datasets.Dataset, got {type(dataset).__name__}")
    tag_name = next((name for name in TAG_COLUMNS if name in dataset.column_names), None)
    if "tokens" not in dataset.column_names or tag_name is None:
        raise InputError(source, None, f"a corpus Dataset needs a 'tokens' column and one of {', '.join(TAG_COLUMNS)}; it has {', '.join(dataset.column_names)}")
    names = _class_names(dataset.features[tag_name])
    sentences: list[Sentence] = []
    for row, (tokens, tags) in enumerate(zip(dataset["tokens"], dataset[tag_name])):
        if not tokens:
            continue
        tags = [names[t] if names is not None and isinstance(t, int) else t for t in tags]
        _check_row(source, row, tokens, tags)
        sentences.append(Sentence(tuple(tokens), tuple(tags), row))
    if not sentences:
        raise InputError(source, None, "no sentences: the Dataset has no rows with tokens")
    return sentences


def _class_names(feature: Any) -> list[str] | None:
    """Names of a ``Sequence(ClassLabel)`` (or ``List(ClassLabel)``) tag column; None for strings."""
    inner = getattr(feature, "feature", None)
    names = getattr(inner, "names", None)
    return list(names) if names else None


def _check_row(source: str, row: int, tokens: Sequence[Any], tags: Sequence[Any]) -> None:
    if len(tokens) != len(tags):
        raise InputError(source, row, f"{len(tokens)} tokens but {len(tags)} tags")
    for token, tag in zip(tokens, tags):
        if not isinstance(token, str) or not token:
            raise InputError(source, row, f"token {token!r}: expected a non-empty string")
        if not isinstance(tag, str):
            raise InputError(source, row, f"tag {tag!r}: expected a string (or ClassLabel ids)")
        try:
            split_tag(tag)
        except TagError as error:
            raise InputError(source, row, str(error)) from None


def source_name(source: CorpusSource, full: bool = False) -> str:
    """How a corpus source is named: a path's file name (the path as given with ``full``, for
    errors), or a Dataset by its size (the dev Dataset; training Datasets are named by their place
    in the list, as their styles are: :func:`nertag.commands.train.style_name`)."""
    if isinstance(source, (str, os.PathLike)):
        # normpath first: a folder given as "data/" is named "data", not "".
        return os.fspath(source) if full else os.path.basename(os.path.normpath(os.fspath(source)))
    return "<dataset>" if full else f"<Dataset of {len(source)} rows>"
