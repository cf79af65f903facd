"""Patterns for numbers and time, Chinese and English: dates, times, durations, money, percentages
and ages, which no shipped model tags. Off unless asked for (``--rules time,money``).

Each group gives one or two labels. Users add their own patterns from a file of
``LABEL<TAB>regular expression`` lines. Matches are leftmost-longest across all patterns in use
and never overlap one another.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Iterable, Sequence

from .conll import file_lines, read_text
from .errors import InputError
from .records import Entity

SOURCE = "rules"

_DIGIT = r"[0-9０-９]"
_HAN_NUMBER = r"[零〇一二两三四五六七八九十百千万亿]"
# A number begins only where a run of its characters begins: begun at every digit of a long run
# (a numeric CSV line), each attempt ran to the run's end, and a line of digits took minutes.
_NUMBER = rf"(?:(?<!{_DIGIT})(?<!{_DIGIT}[.,]){_DIGIT}+(?:[.,]{_DIGIT}+)*|(?<!{_HAN_NUMBER}){_HAN_NUMBER}+)"
_MONTHS = (
    r"(?:Jan(?:uary|\.)?|Feb(?:ruary|\.)?|Mar(?:ch|\.)?|Apr(?:il|\.)?|May|June?|July?|Aug(?:ust|\.)?"
    r"|Sep(?:t(?:ember)?|\.)?|Oct(?:ober|\.)?|Nov(?:ember|\.)?|Dec(?:ember|\.)?)"
)
_WEEKDAYS = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
_UNIT_WORDS = r"(?:seconds?|minutes?|hours?|days?|weeks?|months?|years?|decades?)"
_CURRENCY_WORDS = r"(?:dollars?|euros?|pounds?|yuan|yen|RMB|USD|EUR|GBP|CNY)"
_SCALE_WORDS = r"(?:thousand|million|billion|trillion|[kKmMbB]n?)"

# group -> (label, pattern) pairs; English patterns are anchored on word boundaries.
BUILTIN: dict[str, list[tuple[str, str]]] = {
    "time": [
        ("DATE", rf"(?:{_NUMBER}年)?{_NUMBER}月{_NUMBER}[日号]"),
        ("DATE", rf"{_NUMBER}年{_NUMBER}月(?!{_NUMBER}[日号])"),
        ("DATE", rf"(?:{_DIGIT}{{4}}|[零〇一二三四五六七八九]{{4}})年(?!{_NUMBER}月)"),
        ("DATE", r"(?:星期|礼拜|周)[一二三四五六日天]"),
        ("DATE", r"\b\d{4}-\d{1,2}-\d{1,2}\b"),
        ("DATE", r"\b\d{1,2}/\d{1,2}/\d{2,4}\b"),
        ("DATE", rf"\b{_MONTHS} \d{{1,2}}(?:st|nd|rd|th)?(?:, \d{{4}})?\b"),
        ("DATE", rf"\b\d{{1,2}}(?:st|nd|rd|th)? {_MONTHS}(?: \d{{4}})?\b"),
        ("DATE", rf"\b{_MONTHS} \d{{4}}\b"),
        ("DATE", rf"\b{_WEEKDAYS}\b"),
        ("TIME", rf"(?:凌晨|早上|上午|中午|下午|晚上)?{_NUMBER}[点时](?:{_NUMBER}分|半|整)?"),
        ("TIME", r"\b\d{1,2}[:：]\d{2}(?:[:：]\d{2})?(?:\s?[ap]\.?m\.?)?(?!\d)"),
        ("TIME", r"\b\d{1,2}\s?[ap]\.?m\.?(?!\w)"),
    ],
    "duration": [
        # at most three digits: a four-digit number before 年 is a year (a date), not a count
        ("DURATION", rf"(?<!{_DIGIT})(?:{_DIGIT}{{1,3}}(?:\.{_DIGIT}+)?|(?<!{_HAN_NUMBER}){_HAN_NUMBER}+)(?:个)?(?:多)?(?:秒钟?|分钟|小时|天|周|星期|个月|年)(?:多)?(?:之?[内间])?"),
        ("DURATION", rf"\b\d+(?:\.\d+)? {_UNIT_WORDS}\b"),
    ],
    "money": [
        ("MONEY", rf"[¥￥$€£]\s?{_DIGIT}+(?:[.,]{_DIGIT}+)*(?:\s?(?:万|亿|{_SCALE_WORDS}\b))?"),
        ("MONEY", rf"{_NUMBER}(?:多)?(?:万|亿|千)?(?:元|美元|欧元|英镑|日元|港元|港币|人民币|块钱?)"),
        ("MONEY", rf"\b(?<!\d[.,])\d+(?:[.,]\d+)*(?: {_SCALE_WORDS})? {_CURRENCY_WORDS}\b"),
    ],
    "percent": [
        ("PERCENT", rf"(?<!{_DIGIT}){_DIGIT}+(?:\.{_DIGIT}+)?\s?[%％]"),
        ("PERCENT", r"百分之[零〇一二两三四五六七八九十百点0-9.]+"),
        ("PERCENT", r"\b\d+(?:\.\d+)? (?:percent|per cent)\b"),
    ],
    "age": [
        ("AGE", rf"{_NUMBER}(?:周)?岁(?:半)?"),
        ("AGE", r"\b\d{1,3}[- ]years?[- ]old\b"),
        ("AGE", r"\b(?:aged|age) \d{1,3}\b"),
    ],
}
GROUPS = tuple(BUILTIN)


@dataclass(frozen=True)
class Pattern:
    label: str
    regex: re.Pattern[str]


class Rules:
    """Compiled patterns; :meth:`matches` finds them in a text."""

    def __init__(self, patterns: Sequence[Pattern]) -> None:
        self.patterns = list(patterns)

    @classmethod
    def of(cls, groups: Iterable[str] = (), pattern_file: str | os.PathLike | None = None) -> "Rules":
        """The built-in ``groups`` (names of :data:`GROUPS`, or "all") and a user's pattern file."""
        chosen = [g.strip() for g in groups if g.strip()]
        if "all" in chosen:
            chosen = list(GROUPS)
        unknown = sorted(set(chosen) - set(GROUPS))
        if unknown:
            raise ValueError(f"rules: unknown group {', '.join(unknown)}; expected some of {', '.join(GROUPS)} or all")
        patterns = [Pattern(label, re.compile(regex)) for group in chosen for label, regex in BUILTIN[group]]
        if pattern_file is not None:
            patterns.extend(read_patterns(pattern_file))
        return cls(patterns)

    def matches(self, text: str) -> list[Entity]:
        """Leftmost-longest matches of all patterns, as entities with ``source`` "rules"."""
        candidates = [
            (m.start(), m.end(), pattern.label)
            for pattern in self.patterns
            for m in pattern.regex.finditer(text)
            if m.end() > m.start()
        ]
        candidates.sort(key=lambda c: (c[0], c[0] - c[1]))
        found: list[Entity] = []
        reached = 0
        for start, end, label in candidates:
            if start >= reached:
                found.append(Entity(start, end, label, text[start:end], None, SOURCE))
                reached = end
        return found


def read_patterns(path: str | os.PathLike) -> list[Pattern]:
    """``LABEL<TAB>regular expression`` lines; blank and ``#`` lines skipped; a bad one named by line."""
    source = os.fspath(path)
    patterns = []
    for number, line in enumerate(file_lines(read_text(path)), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        label, tab, regex = line.partition("\t")
        if tab and any(c.isspace() for c in label.strip()):
            raise InputError(source, number, f"label {label.strip()!r}: expected one word such as TIME, no spaces")
        if not tab or not label.strip() or not regex:
            raise InputError(source, number, "expected LABEL<TAB>regular expression")
        try:
            compiled = re.compile(regex)
        except re.error as error:
            raise InputError(source, number, f"bad regular expression ({error})") from None
        if compiled.match(""):
            raise InputError(source, number, "the pattern matches empty text")
        patterns.append(Pattern(label.strip(), compiled))
    return patterns
