"""A standalone HTML page showing tagged documents, one colour per label, with a legend.

Like displaCy, rendering works from plain ``{text, entities}`` records and knows nothing of models.
"""

from __future__ import annotations

import colorsys
import re
from html import escape
from typing import Iterable, Sequence

from .records import Entity

_PAGE_START = """<!DOCTYPE html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<title>nertag</title>
<style>
body {{ font-family: sans-serif; line-height: 2.2; margin: 2em; }}
.doc {{ border-bottom: 1px solid #ddd; padding: 0.5em 0; white-space: pre-wrap; }}
mark {{ padding: 0.15em 0.3em; border-radius: 0.3em; }}
mark .label {{ font-size: 0.65em; font-weight: bold; margin-left: 0.3em; vertical-align: middle; }}
.legend mark {{ margin-right: 0.6em; }}
.control {{ color: #999; font-size: 0.8em; }}
</style>
</head>
<body>
<div class="legend">{legend}</div>
"""
_PAGE_END = """</body>
</html>
"""


# Characters a page cannot carry as they are: a parser turns NUL into U+FFFD and CR into a line
# break, and the other control characters are errors it may drop. Each is shown as a sign instead.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _shown_control(match: re.Match[str]) -> str:
    code = ord(match.group())
    sign = chr(0x2400 + code) if code < 0x20 else "\u2421" if code == 0x7F else f"U+{code:04X}"  # ␀ … ␟, ␡
    return f'<span class="control" title="U+{code:04X}">{sign}</span>'


def escape_text(text: str) -> str:
    """``text`` as page text: markup characters escaped, control characters shown as signs."""
    return _CONTROL.sub(_shown_control, escape(text))


def label_colours(labels: Iterable[str]) -> dict[str, str]:
    """A light, distinct colour per label, stable for a given label set."""
    ordered = sorted(set(labels))
    colours = {}
    for index, label in enumerate(ordered):
        red, green, blue = colorsys.hls_to_rgb(index / max(len(ordered), 1), 0.82, 0.7)
        colours[label] = f"#{int(red * 255):02x}{int(green * 255):02x}{int(blue * 255):02x}"
    return colours


def _mark(text: str, label: str, colour: str, confidence: float | None = None) -> str:
    title = f' title="{escape(label)} {confidence:.2f}"' if confidence is not None else f' title="{escape(label)}"'
    return (f'<mark class="entity" data-label="{escape(label)}" style="background: {colour}"{title}>'
            f'{escape_text(text)}<span class="label">{escape(label)}</span></mark>')


def page_start(labels: Iterable[str], chinese: bool) -> str:
    """The page up to its first document: styles and a legend of ``labels``."""
    legend = "".join(
        f'<mark class="entity" data-label="{escape(label)}" style="background: {colour}">{escape(label)}</mark>'
        for label, colour in label_colours(labels).items()
    )
    return _PAGE_START.format(lang="zh" if chinese else "en", legend=legend)


def render_document(text: str, found: Sequence[Entity], colours: dict[str, str]) -> str:
    """One document with its entities marked, as a line of the page."""
    pieces, position = [], 0
    for entity in sorted(found, key=lambda e: e.start):
        pieces.append(escape_text(text[position : entity.start]))
        pieces.append(_mark(entity.text, entity.label, colours[entity.label], entity.confidence))
        position = entity.end
    pieces.append(escape_text(text[position:]))
    return f'<div class="doc">{"".join(pieces)}</div>\n'


def page_end() -> str:
    return _PAGE_END


def looks_chinese_page(texts: Iterable[str]) -> bool:
    return any("\u4e00" <= c <= "\u9fff" for text in list(texts)[:20] for c in text[:200])
