"""Exports of annotation tools read as plain documents: a text and its labelled character spans.

doccano, Label Studio and spaCy-style files differ only in where they keep the text and the spans,
so each is read into one record, :class:`Annotated`, and checked the same way. Spans are half-open
character offsets. Every problem of a file is collected and reported as ``file:line: message``
(the first in full, then how many more and on which lines): a span is never dropped or moved to
make a file fit, except that whitespace at an entity's edges is trimmed, since no token holds it.

The formats, one JSON object a line, or one JSON list of them (records one after the other,
each named by the line it starts on), unless said otherwise:

- ``doccano``: ``{"text": ..., "label": [[start, end, label], ...]}``; also ``"labels"`` for
  ``"label"``, doccano 1.x's ``"data"`` for ``"text"``, and the newer
  ``"entities": [{"start_offset", "end_offset", "label"}, ...]``.
- ``label-studio``: the JSON export (one JSON list of tasks). The text is ``data.text``, or the
  first string field of ``data``; the spans are the ``labels`` results of the first annotation
  (``completions`` before Label Studio 1.0) that was not cancelled (``was_cancelled``): later
  annotators' versions are not merged in. A task with no such annotation is skipped (and counted
  in the log); an annotation with no results is a text without entities. The JSON-MIN export
  (``{"text": ..., "label": [{"start", "end", "labels"}, ...]}`` per task, the span list named
  after the labelling control) is read too. Label Studio counts offsets in UTF-16 units; where a
  span's ``text`` shows that, they are read so.
- ``spacy``: ``{"text": ..., "entities": [[start, end, label], ...]}`` as spaCy's training data
  writes it (or the tuple ``[text, {"entities": [...]}]``), Prodigy's
  ``"spans": [{"start", "end", "label"}, ...]`` and displaCy's ``"ents"`` alike. Prodigy examples
  whose ``answer`` is not ``accept`` are skipped.
- ``jsonl``: nertag's own output, ``{"text": ..., "entities": [{"start", "end", "label", "text"}]}``,
  read as ``spacy``.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any, Iterator

from .errors import InputError
from .schemes import Span, label_problem

log = logging.getLogger(__name__)

TEXT_FORMATS = ("doccano", "label-studio", "spacy", "jsonl")
_SHOWN_LINES = 5  # further problems are named by line number, this many at most


@dataclass(frozen=True)
class Annotated:
    """A text with its entities as character spans (sorted, not overlapping) and the line it came from."""

    text: str
    spans: tuple[Span, ...]
    line: int


class Problems:
    """The problems of one file, so that a single run names them all rather than one a try."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.found: list[tuple[int | None, str]] = []

    def add(self, line: int | None, message: str) -> None:
        self.found.append((line, message))

    def raise_if_any(self) -> None:
        """Raise an :class:`InputError` for the first problem, naming the lines of the others."""
        if not self.found:
            return
        found = sorted(self.found, key=lambda problem: problem[0] or 0)  # stable: a line's problems keep their order
        line, message = found[0]
        rest = [str(other) for other, _ in found[1:] if other is not None]
        if len(self.found) > 1:
            where = f", at line {', '.join(rest[:_SHOWN_LINES])}{', ...' if len(rest) > _SHOWN_LINES else ''}" if rest else ""
            message += f" (and {len(self.found) - 1} more problem{'s' if len(self.found) > 2 else ''}{where})"
        raise InputError(self.source, line, message)


def read_annotations(text: str, source: str, input_format: str, problems: Problems | None = None) -> list[Annotated]:
    """The documents of an annotation export held in ``text`` (``source`` names it in errors).

    Raises an :class:`~nertag.errors.InputError` naming every problem found, unless ``problems``
    is given to collect them (so that later checks add theirs); documents with a problem are left out.
    """
    if input_format not in TEXT_FORMATS:
        raise ValueError(f"input format: expected one of {', '.join(TEXT_FORMATS)}, got {input_format!r}")
    collecting = problems is not None
    problems = problems or Problems(source)
    if input_format == "label-studio":
        documents = _label_studio(text, problems)
    else:
        read = _doccano if input_format == "doccano" else _spacy
        documents = [doc for line, record in _records(text, problems) if (doc := read(record, line, problems))]
    if not documents and not problems.found:
        problems.add(None, "no documents: the file is empty or holds no annotated text")
    if not collecting:
        problems.raise_if_any()
    return documents


def _records(text: str, problems: Problems) -> Iterator[tuple[int, Any]]:
    """The records of a JSON-lines file, or of a file that is one JSON list of records: objects,
    or lists as spaCy's ``[text, {"entities": ...}]`` tuples are. (One such tuple on its own line
    is a list of a string and an object: a JSON-lines file of one record.)"""
    if text.lstrip().startswith("["):
        try:
            whole = json.loads(text)
        except json.JSONDecodeError:
            whole = None  # lines of JSON, or broken JSON: the lines say where
        if isinstance(whole, list) and whole and (all(isinstance(r, dict) for r in whole) or all(isinstance(r, list) for r in whole)):
            yield from _json_array(text, problems, "records")
            return
    yield from _json_lines(text, problems)


def _json_lines(text: str, problems: Problems) -> Iterator[tuple[int, Any]]:
    # split("\n"), not splitlines(): U+2028 and friends may sit inside a JSON string.
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except json.JSONDecodeError as error:
            problems.add(number, f"bad JSON: {error.msg} (column {error.colno})")


def _doccano(record: Any, line: int, problems: Problems) -> Annotated | None:
    if not isinstance(record, dict):
        problems.add(line, f"expected a JSON object with text and label, got {type(record).__name__}")
        return None
    text = record.get("text", record.get("data"))
    if not isinstance(text, str):
        problems.add(line, "no text: expected a string field text (or data, as doccano 1.x writes)")
        return None
    key = next((k for k in ("label", "labels", "entities") if k in record), None)
    items = record.get(key, []) if key else []
    if not isinstance(items, list):
        problems.add(line, f"{key} should be a list of [start, end, label], got {type(items).__name__}")
        return None
    if any(isinstance(item, str) for item in items):
        problems.add(line, f"{key} holds bare labels, as a text-classification project exports; expected [start, end, label] spans")
        return None
    return _document(text, [_raw_span(item) for item in items], line, problems)


def _spacy(record: Any, line: int, problems: Problems) -> Annotated | None:
    if isinstance(record, list) and len(record) == 2 and isinstance(record[1], dict):
        record = {"text": record[0], **record[1]}  # spaCy v2 training tuples: [text, {"entities": [...]}]
    if not isinstance(record, dict):
        problems.add(line, f"expected a JSON object with text and entities, got {type(record).__name__}")
        return None
    if record.get("answer", "accept") != "accept":
        log.debug("line %d: skipped a Prodigy example answered %r", line, record["answer"])
        return None
    text = record.get("text")
    if not isinstance(text, str):
        problems.add(line, "no text: expected a string field text")
        return None
    given = [k for k in ("entities", "spans", "ents") if record.get(k)]
    if len({json.dumps(record[k], sort_keys=True) for k in given}) > 1:
        problems.add(line, f"the record gives different spans under {' and '.join(given)}; keep the one to convert")
        return None
    key = given[0] if given else next((k for k in ("entities", "spans", "ents") if k in record), None)
    items = record.get(key, []) if key else []
    if not isinstance(items, list):
        problems.add(line, f"{key} should be a list of spans, got {type(items).__name__}")
        return None
    return _document(text, [_raw_span(item) for item in items], line, problems)


@dataclass(frozen=True)
class _RawSpan:
    """A span as the file gives it, before it is checked: anything may be missing or of a wrong type."""

    start: Any
    end: Any
    label: Any
    text: Any = None  # the span's text, where the file repeats it


def _raw_span(item: Any) -> _RawSpan:
    if isinstance(item, (list, tuple)):
        return _RawSpan(*item[:3]) if len(item) == 3 else _RawSpan(None, None, None, item)
    if isinstance(item, dict):
        return _RawSpan(
            item.get("start", item.get("start_offset")), item.get("end", item.get("end_offset")),
            item.get("label"), item.get("text"),
        )
    return _RawSpan(None, None, None, item)


def _document(text: str, raw: list[_RawSpan], line: int, problems: Problems) -> Annotated | None:
    """The checked document: offsets in range and matching any text given, edges trimmed of
    whitespace, exact duplicates merged, overlaps reported."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:  # JSON can spell a lone surrogate; no file holds one
        problems.add(line, f"text: not valid Unicode ({error.reason}) at character {error.start}")
        return None
    checked: set[Span] = set()
    failed = False
    for item in raw:
        span = _check_span(text, item, line, problems)
        failed |= span is None
        if span is not None:
            checked.add(span)
    ordered = sorted(checked)
    reaching = None  # of the spans so far, the one that ends last
    for span in ordered:
        if reaching is not None and span.start < reaching.end:
            problems.add(line, f"overlapping entities {show_span(text, reaching)} and {show_span(text, span)}; nertag's entities do not overlap")
            failed = True
        if reaching is None or span.end > reaching.end:
            reaching = span
    return None if failed else Annotated(text, tuple(ordered), line)


def _check_span(text: str, item: _RawSpan, line: int, problems: Problems) -> Span | None:
    start, end, label = item.start, item.end, item.label
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (start, end)) or not isinstance(label, str):
        problems.add(line, f"expected a span [start, end, label] with whole-number offsets, got {json.dumps(_plain(item), ensure_ascii=False)}")
        return None
    if not label.strip():
        problems.add(line, f"entity [{start}, {end}) has an empty label")
        return None
    problem = label_problem(label, spaces_allowed=True)  # a column file refuses them when converting to one
    if problem is not None:
        problems.add(line, f"entity [{start}, {end}): label {shown_label(label)} {problem}")
        return None
    if not 0 <= start < end <= len(text):
        problems.add(line, f"entity [{start}, {end}) {shown_label(label)} lies outside the text of {len(text)} characters, or is empty")
        return None
    if item.text is not None and text[start:end] != item.text:
        problems.add(line, f"entity [{start}, {end}) {shown_label(label)} covers {text[start:end]!r}, but its text is {item.text!r}")
        return None
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start == end:
        problems.add(line, f"entity [{item.start}, {item.end}) {shown_label(label)} holds only whitespace")
        return None
    return Span(start, end, label)


def _plain(item: _RawSpan) -> Any:
    return item.text if item.start is item.end is item.label is None else [item.start, item.end, item.label]


def shown_label(label: str) -> str:
    """A label as an error line shows it: as given, or quoted with its escapes where it holds a
    line break or another character that would not print, so that the message stays one line."""
    return label if label.isprintable() else repr(label)


def show_span(text: str, span: Span) -> str:
    return f"[{span.start}, {span.end}) {shown_label(span.label)} {text[span.start:span.end]!r}"


# --- Label Studio -------------------------------------------------------------------------------


def _label_studio(text: str, problems: Problems) -> list[Annotated]:
    documents: list[Annotated] = []
    skipped = 0
    several: list[int] = []  # lines of the tasks annotated more than once
    for line, task in _json_array(text, problems, "tasks, as Label Studio's JSON and JSON-MIN exports write"):
        key = "annotations" if isinstance(task, dict) and "annotations" in task else "completions"  # before Label Studio 1.0
        if isinstance(task, dict) and "data" not in task and key not in task:
            document = _label_studio_min(task, line, problems)
            if document is not None:
                documents.append(document)
            continue
        if not isinstance(task, dict) or not isinstance(task.get("data"), dict) or not isinstance(task.get(key), list):
            problems.add(line, "expected a Label Studio task with data and annotations, as the JSON export writes, or a JSON-MIN task")
            continue
        usable = [a for a in task[key] if isinstance(a, dict) and not a.get("was_cancelled")]
        if not usable:
            skipped += 1
            continue
        if len(usable) > 1:
            several.append(line)
        annotation = usable[0]
        document = _label_studio_task(task["data"], annotation, line, problems)
        if document is not None:
            documents.append(document)
    if skipped:
        log.info("skipped %d Label Studio task%s with no annotation (or only cancelled ones)", skipped, "s" if skipped > 1 else "")
    if several:
        subject = "this task holds" if len(several) == 1 else f"this and {len(several) - 1} more tasks hold"
        log.warning(
            "nertag: warning: %s:%d: %s several annotations; the first of each was used (export one annotator's, "
            "or merge them in Label Studio, to choose)", problems.source, several[0], subject,
        )
    return documents


_MIN_METADATA = {"id", "annotator", "annotation_id", "created_at", "updated_at", "lead_time"}


def _label_studio_min(task: dict[str, Any], line: int, problems: Problems) -> Annotated | None:
    """A JSON-MIN task: the data fields at the top, and each control's results under its name;
    the spans are the list of ``{start, end, labels}`` objects (absent: a text without entities)."""
    text = task.get("text") if isinstance(task.get("text"), str) else next(
        (v for k, v in task.items() if isinstance(v, str) and k not in _MIN_METADATA), None
    )
    if text is None:
        problems.add(line, "expected a Label Studio JSON-MIN task with a text field")
        return None
    lists = [v for v in task.values() if isinstance(v, list) and v and all(isinstance(i, dict) and "labels" in i for i in v)]
    if len(lists) > 1:
        problems.add(line, "the task has more than one list of labelled spans; export one labelling control")
        return None
    annotation = {"result": [{"value": span} for span in lists[0]]} if lists else {"result": []}
    return _label_studio_task({"text": text}, annotation, line, problems)


def _label_studio_task(data: dict[str, Any], annotation: dict[str, Any], line: int, problems: Problems) -> Annotated | None:
    text = data.get("text") if isinstance(data.get("text"), str) else next((v for v in data.values() if isinstance(v, str)), None)
    if text is None:
        problems.add(line, "the task's data holds no text")
        return None
    raw: list[_RawSpan] = []
    for result in annotation.get("result") or []:
        value = result.get("value") if isinstance(result, dict) else None
        if not isinstance(value, dict) or "labels" not in value:
            continue  # relations, choices, text areas: not entities
        labels = value["labels"]
        if not isinstance(labels, list) or len(labels) != 1:
            problems.add(line, f"a span at [{value.get('start')}, {value.get('end')}) has labels {labels!r}; nertag's entities have exactly one")
            continue
        raw.append(_utf16_offsets(text, _RawSpan(value.get("start"), value.get("end"), labels[0], value.get("text"))))
    return _document(text, raw, line, problems)


def _utf16_offsets(text: str, span: _RawSpan) -> _RawSpan:
    """The span with its offsets read as UTF-16 units (as a browser counts them) when that, and
    only that, makes them cover the span's own text: they differ after any character beyond U+FFFF."""
    if span.text is None or not isinstance(span.start, int) or not isinstance(span.end, int):
        return span
    if text[span.start : span.end] == span.text or all(ord(c) <= 0xFFFF for c in text):
        return span
    index: dict[int, int] = {}
    units = 0
    for position, char in enumerate(text):
        index[units] = position
        units += 2 if ord(char) > 0xFFFF else 1
    index[units] = len(text)
    start, end = index.get(span.start), index.get(span.end)
    if start is not None and end is not None and text[start:end] == span.text:
        return _RawSpan(start, end, span.label, span.text)
    return span


def _json_array(text: str, problems: Problems, what: str) -> Iterator[tuple[int, Any]]:
    """The items of a JSON list with the line each starts on, so a record's problems name its line;
    ``what`` the list should hold, for the message when the file is no list."""
    decoder = json.JSONDecoder()
    position, line, counted = 0, 1, 0

    def skip_blank(at: int) -> int:
        while at < len(text) and text[at] in " \t\r\n":
            at += 1
        return at

    def line_at(at: int) -> int:
        nonlocal line, counted
        line += text.count("\n", counted, at)
        counted = at
        return line

    position = skip_blank(position)
    if text[position : position + 1] != "[":
        problems.add(line_at(position), f"expected a JSON list of {what}")
        return
    position = skip_blank(position + 1)
    if text[position : position + 1] == "]":
        return
    while True:
        try:
            item, end = decoder.raw_decode(text, position)
        except json.JSONDecodeError as error:
            problems.add(error.lineno, f"bad JSON: {error.msg} (column {error.colno})")
            return
        yield line_at(position), item
        position = skip_blank(end)
        following = text[position : position + 1]
        if following == ",":
            position = skip_blank(position + 1)
        elif following == "]" and not text[position + 1 :].strip():
            return
        else:
            problems.add(line_at(position), f"bad JSON: expected ',' or the list's end, got {following or 'the end of the file'!r}")
            return
