"""One picklable callable that tags a batch of rows, for the engines users already run.

``datasets.Dataset.map(DatasetTagger(...), batched=True, num_proc=N)``, Ray Data's
``map_batches(DatasetTagger, fn_constructor_kwargs=...)`` and plain Python all hand it a batch: a
mapping of columns (lists, or numpy arrays as Ray passes them) or a pandas DataFrame. It returns
the batch with an ``entities`` column added. Nothing heavy is pickled: the model loads on first
use, once per process, so every worker of an engine loads its own copy.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from .hardware import PRECISIONS

if TYPE_CHECKING:
    from .routing import ModelChoice

EntityRecord = dict[str, Any]  # start, end, label, text, confidence
# The fields of each record and their Arrow types; "source" is added when phrases or patterns are.
RECORD_TYPES = {"start": "int64", "end": "int64", "label": "string", "text": "string", "confidence": "float64"}


class DatasetTagger:
    """Tag the ``column`` of each batch and add ``output_column``: per row a list of
    ``{start, end, label, text, confidence}``, offsets into that row's text.

    ``model`` is a built-in name or a model folder; None sends each row to the default model of
    its language, as :func:`nertag.tag` does. ``batch_size`` texts go through the network together.
    ``threads``: torch threads per process; by default one in an engine's worker process (the
    engine's processes already fill the cores) unless OMP_NUM_THREADS says otherwise; torch's own
    setting in the process that made the tagger.

    ``style``, for a ``model`` trained with corpus styles, is the one to tag in (see
    :func:`nertag.load`).

    ``dictionary``, ``rules``, ``patterns`` and ``policy`` add phrase and pattern matches as
    :func:`nertag.load` does; each record then also has ``source`` ("dictionary", "rules", or None
    for the model). They are checked here, in the caller's process, and read again in each worker
    (only their paths and settings are pickled).
    """

    def __init__(
        self,
        model: str | os.PathLike | None = None,
        column: str = "text",
        batch_size: int = 256,
        output_column: str = "entities",
        precision: str = "float32",
        threads: int | None = None,
        dictionary: str | os.PathLike | Mapping[str, str] | None = None,
        rules: str | Sequence[str] | None = None,
        patterns: str | os.PathLike | None = None,
        policy: str = "dictionary",
        style: str | None = None,
    ) -> None:
        from .config import check_model_style

        check_model_style(model, style)
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size: expected an int >= 1, got {batch_size!r}")
        if precision not in PRECISIONS:
            raise ValueError(f"precision: expected one of {', '.join(PRECISIONS)}, got {precision!r}")
        if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int) or threads < 1):
            raise ValueError(f"threads: expected an int >= 1 or None, got {threads!r}")
        self.model = None if model is None else os.fspath(model)
        self.column, self.output_column = column, output_column
        self.batch_size, self.precision, self.threads = batch_size, precision, threads
        from .merge import extra_entities  # no torch: phrases and patterns are plain Python

        self.dictionary = os.fspath(dictionary) if isinstance(dictionary, os.PathLike) else dictionary
        if isinstance(self.dictionary, Mapping):
            self.dictionary = dict(self.dictionary)
        self.rules = rules if rules is None or isinstance(rules, str) else list(rules)
        self.patterns = None if patterns is None else os.fspath(patterns)
        self.policy = policy
        self.style = style
        self._extra = extra_entities(self.dictionary, self.rules, self.patterns, policy) is not None  # bad ones fail here
        self._home_pid = os.getpid()
        self._choice: ModelChoice | None = None

    def __getstate__(self) -> dict[str, Any]:
        """Pickle the settings only: each process loads its own model."""
        state = dict(self.__dict__)
        state["_choice"] = None
        return state

    def features(self, input_features: Any) -> Any:
        """The ``datasets.Features`` of a mapped dataset: ``input_features`` plus the typed output
        column. Pass it as ``Dataset.map(..., features=tagger.features(ds.features))``: without it
        datasets guesses the column's type from the first batch, and a first batch without one
        entity gives a type that later entities cannot be cast to."""
        from datasets import Features, Value

        record = {name: Value(kind) for name, kind in self._record_types().items()}
        return Features({**input_features, self.output_column: [record]})

    def __call__(self, batch: Any) -> Any:
        """``batch`` with ``output_column`` added (a new dict, a DataFrame copy, or for an Arrow
        table a new table whose column has its type spelled out)."""
        if _is_arrow_table(batch):
            return self._tag_arrow(batch)
        texts = _texts(batch, self.column)
        choice = self._models()
        entities: list[list[EntityRecord]] = []
        for first in range(0, len(texts), self.batch_size):
            for _, tagged in choice.tag(texts[first : first + self.batch_size]):
                entities.append([self._record(e) for e in tagged.entities])
        if hasattr(batch, "assign") and hasattr(batch, "columns"):  # a pandas DataFrame
            return batch.assign(**{self.output_column: entities})
        result = dict(batch)
        result[self.output_column] = entities
        return result

    def _tag_arrow(self, table: Any) -> Any:
        """An Arrow table (``with_format("arrow")``, Ray's ``batch_format="pyarrow"``) gets a typed
        column, so that a batch without entities has the same type as any other."""
        import pyarrow as pa

        if self.column not in table.column_names:
            raise KeyError(f"no column {self.column!r} in the batch (columns: {', '.join(table.column_names)}); pass column=...")
        entities = self({self.column: table.column(self.column).to_pylist()})[self.output_column]
        fields = [(name, pa.type_for_alias(kind)) for name, kind in self._record_types().items()]
        column = pa.array(entities, type=pa.list_(pa.struct(fields)))
        if self.output_column in table.column_names:
            table = table.drop_columns([self.output_column])
        return table.append_column(self.output_column, column)

    def _record_types(self) -> dict[str, str]:
        return {**RECORD_TYPES, "source": "string"} if self._extra else RECORD_TYPES

    def _record(self, entity: Any) -> EntityRecord:
        record = {"start": entity.start, "end": entity.end, "label": entity.label, "text": entity.text,
                  "confidence": entity.confidence}
        if self._extra:  # every record of this tagger has the same fields, as Arrow columns want
            record["source"] = entity.source
        return record

    def _models(self) -> "ModelChoice":
        if self._choice is None:
            from .api import load
            from .hardware import use_threads
            from .routing import ModelChoice

            if self.threads is not None:
                use_threads(self.threads)
            elif os.getpid() != self._home_pid and "OMP_NUM_THREADS" not in os.environ:
                use_threads(1)
            self._choice = ModelChoice(self.model, lambda name: load(
                name, precision=self.precision, dictionary=self.dictionary, rules=self.rules,
                patterns=self.patterns, policy=self.policy, style=self.style,
            ))
            self._choice.load_named()
        return self._choice


def _is_arrow_table(batch: Any) -> bool:
    return type(batch).__module__.startswith("pyarrow") and hasattr(batch, "column_names")


def _texts(batch: Any, column: str) -> list[str]:
    """The batch's ``column`` as a list of str, or a TypeError naming the column and the row."""
    if not isinstance(batch, Mapping) and not hasattr(batch, "columns"):
        raise TypeError(f"expected a batch of columns (a dict or a DataFrame), got {type(batch).__name__}")
    if column not in batch:
        names = list(batch.keys()) if isinstance(batch, Mapping) else list(batch.columns)
        raise KeyError(f"no column {column!r} in the batch (columns: {', '.join(map(str, names))}); pass column=...")
    values = batch[column]
    if isinstance(values, str):
        raise TypeError(f"column {column!r}: expected a column of texts, got one string (call with batched=True)")
    texts = list(values.tolist() if hasattr(values, "tolist") else values)
    for row, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"column {column!r}, row {row}: expected a string, got {type(text).__name__}")
    return texts
