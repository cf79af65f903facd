"""Raw text to tokens with character offsets, and long documents to bounded sentences.

Tokens are ``(start, end)`` offsets into the original string, so output always indexes the input
exactly, whatever the tokenizer did.
"""

from __future__ import annotations

import re
from array import array
from itertools import pairwise
from typing import Container, Iterable, Iterator, Sequence

from .records import Sentences, offset_typecode

Offsets = list[tuple[int, int]]

# English words are cut the way CoNLL-2003 (and the Penn Treebank before it) cut them, so that raw
# text reaches an English model in the shape it was trained on: clitics are tokens of their own
# ("Musk's" -> "Musk" "'s", "doesn't" -> "does" "n't", "can't" -> "ca" "n't") and abbreviations keep
# their period ("U.S.", "Inc.", "J. Smith"), while a period after an ordinary word is a token.
_APOSTROPHE = "['\u2019]"  # straight or curly
_CLITIC = rf"(?i:{_APOSTROPHE}(?:s|re|ve|ll|d|m)|n{_APOSTROPHE}t)(?!\w)"
_NOT = rf"(?i:n{_APOSTROPHE}t)(?!\w)"
# Abbreviations that CoNLL-2003 writes with their period, and common ones of the same kind. Words
# that are as often ordinary words at the end of a sentence ("May", "No", "Mass", "Wash") are left out.
_ABBREVIATIONS = (
    "Inc Corp Co Cos Ltd Bros Mr Mrs Ms Messrs Dr Prof Jr Sr St Mt Ft Ave Rev Gen Col Lt Capt Sgt Maj"
    " Gov Sen Rep Dept Univ vs etc vol"
    " Jan Feb Mar Apr Jun Jul Aug Sep Sept Oct Nov Dec"
    " Ala Ariz Ark Calif Colo Conn Del Fla Ga Ill Ind Kan Ky La Md Mich Minn Mo Mont Neb Nev Okla Ore"
    " Pa Penn Tenn Tex Va Vt Wis Wyo"
).split()
_KNOWN_ABBREVIATION = "|".join(sorted({w for a in _ABBREVIATIONS for w in (a, a.upper())}, key=len, reverse=True))
_INITIAL = "[A-Z\u00c0-\u00d6\u00d8-\u00de]"  # one capital letter, ASCII or Latin-1: "J." of "J. Smith"
# CoNLL-2003 never ends a sentence with an abbreviation's period: "... Apple Inc." is "Inc" ".", and
# "... the U.S." is "U.S" ".". Only the end of the text marks a sentence end surely enough to do the same.
_PERIOD_KEPT = r"\.(?!\w)(?!\s*\Z)"
_DOTTED = r"(?:[^\W_]\.)+[^\W_](?:\.(?!\s*\Z)|(?=\.\s*\Z))"  # U.S.  a.m.  F.A.I.
_STEM = rf"(?:\w+?(?={_NOT})|\w+)"  # "does" of "doesn't", "ca" of "can't", else the whole run
_WORD = re.compile(
    rf"""
      {_DOTTED}
    | (?<!\w)(?:{_KNOWN_ABBREVIATION}|{_INITIAL}){_PERIOD_KEPT}  # Inc.  Jan.  J.
    | \d+(?:[.,:/-]\d+)+                                     # 1996-08-22  1,000.5  10:30
    | {_CLITIC}                                               # 's  n't  're
    | {_STEM}(?:-(?:{_DOTTED}|{_STEM})|(?!{_CLITIC}){_APOSTROPHE}{_STEM})*   # O'Neil  co-operate  then-U.S.
    | [^\w\s]
    """,
    re.UNICODE | re.VERBOSE,
)
_RUN_CHARS = "A-Za-z0-9\uff10-\uff19\uff21-\uff3a\uff41-\uff5a"  # ASCII and full-width letters and digits
_RUN_CHAR = re.compile(f"[{_RUN_CHARS}]")
# Marks that belong to the character before them: decomposed accents (NFD text, as macOS and
# Vietnamese input often is), and in emoji variation selectors, skin tones and tag characters.
_COMBINING = "\u0300-\u036f\u0483-\u0489\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
_EXTEND = _COMBINING + "\ufe00-\ufe0f\U0001f3fb-\U0001f3ff\U000e0020-\U000e007f\U000e0100-\U000e01ef"
_BASE = r"[^\s\x00-\x1f\x7f-\x9f]"  # \s is str.isspace; the ranges are category Cc
_EMOJI = "[\u2600-\u27bf\U0001f000-\U0001faff]"
# One visible character: a flag's two regional indicators, emoji glued by zero-width joiners (a
# family, a person at a laptop), or a base with the marks that extend it. A joiner between other
# characters glues nothing (张三\u200d李四 stays two names), and at most 16 marks join one base,
# so no run of marks makes one endless token.
_MARKS = f"[{_EXTEND}]{{0,16}}"
_CHAR = re.compile(
    f"[\U0001f1e6-\U0001f1ff]{{2}}|{_EMOJI}{_MARKS}(?:\u200d{_EMOJI}{_MARKS})+|{_BASE}{_MARKS}"
)
_CHAR_OR_RUN = re.compile(f"(?:[{_RUN_CHARS}]{_MARKS})+|{_CHAR.pattern}")
_COMBINING_MARK = re.compile(f"[{_COMBINING}]")
_SENTENCE_END = frozenset("。！？；!?;…")
_CJK_RANGES = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x2FA1F))


def is_cjk(char: str) -> bool:
    code = ord(char)
    return any(low <= code <= high for low, high in _CJK_RANGES)


_CJK_CLASS = "".join(f"{chr(low)}-{chr(high)}" for low, high in _CJK_RANGES)
_IDEOGRAPH = re.compile(f"[{_CJK_CLASS}]")
# A letter of another script: not an ideograph, nor Japanese kana, which writes with ideographs.
_OTHER_LETTER = f"(?![{_CJK_CLASS}\u3040-\u30ff])[^\\W\\d_]"
# A word in other letters: letters and digits, joined by . & ' - (R.U.S.E, D&D, www.fifa.com)
_OTHER_WORD = re.compile(f"{_OTHER_LETTER}(?:[.\uff0e&'\u2019-]?(?:{_OTHER_LETTER}|[0-9]))*")
# An HTML tag: a known element's name after "<" or "</", then attributes on the same line. Only
# known names, so that "<Titanic>" or "x<y and z>w" stay text.
_HTML_ELEMENTS = (
    "a|abbr|address|area|article|aside|audio|b|base|bdi|bdo|big|blockquote|body|br|button|canvas|caption|"
    "center|cite|code|col|colgroup|data|datalist|dd|del|details|dfn|dialog|div|dl|dt|em|embed|fieldset|"
    "figcaption|figure|font|footer|form|h[1-6]|head|header|hr|html|i|iframe|img|input|ins|kbd|label|legend|"
    "li|link|main|map|mark|meta|meter|nav|nobr|noscript|object|ol|optgroup|option|output|p|param|picture|"
    "pre|progress|q|rp|rt|ruby|s|samp|script|section|select|small|source|span|strike|strong|style|sub|"
    "summary|sup|svg|table|tbody|td|template|textarea|tfoot|th|thead|time|title|tr|track|tt|u|ul|var|video|wbr"
)
_ATTRIBUTE = r"""[ \t]+[^\s<>="'/]+(?:[ \t]*=[ \t]*(?:"[^"\n]*"|'[^'\n]*'|[^\s<>"']+))?"""
# A tag, or the opening of a comment; a comment, a script or a style element is then markup up to
# its end, found with one forward search, since what they hold is code, not text.
_MARKUP_PIECE = re.compile(rf"<!--|</?(?:{_HTML_ELEMENTS})(?:{_ATTRIBUTE})*[ \t]*/?>", re.IGNORECASE)
_CODE_OPENING = re.compile(r"<(script|style)\b", re.IGNORECASE)
_CLOSINGS = {"<!--": re.compile("-->"), "script": re.compile(r"</script[ \t]*>", re.IGNORECASE),
             "style": re.compile(r"</style[ \t]*>", re.IGNORECASE)}
_LINK_CHAR = r"[\x21-\x3b=\x3f-\x7e]"  # printable ASCII but < and >: a link ends at the first ideograph
_LINK = re.compile(f"(?:https?|ftp)://{_LINK_CHAR}*|\\bwww\\.{_LINK_CHAR}+", re.IGNORECASE)


def has_markup(text: str) -> bool:
    return "<" in text and _MARKUP_PIECE.search(text) is not None


def _reaching_kind(piece: str) -> str | None:
    """"<!--", "script" or "style" for a piece of markup that runs on to a closing; None for a tag."""
    if piece == "<!--":
        return piece
    code = _CODE_OPENING.match(piece)
    return code.group(1).lower() if code and not piece.endswith("/>") else None


def markup_spans(text: str) -> list[tuple[int, int]]:
    """Half-open spans of ``text`` that are HTML markup: tags of known elements on one line, and
    comments, scripts and styles whole. A comment never closed is text; a script or style never
    closed is its opening tag alone. Each closing is searched for once at most (one that is missing
    is missing for every later opening too), so no input makes this slower than linear."""
    spans: list[tuple[int, int]] = []
    missing: set[str] = set()
    position = 0
    while (found := _MARKUP_PIECE.search(text, position)) is not None:
        start, end = found.span()
        kind = _reaching_kind(found.group())
        if kind is not None and kind not in missing:
            closing = _CLOSINGS[kind].search(text, end)
            if closing is None:
                missing.add(kind)
            else:
                end = closing.end()
        if kind == "<!--" and end == found.end():  # an unclosed comment opening is text
            position = end
            continue
        spans.append((start, end))
        position = end
    return spans


def looks_chinese(text: str, sample: int = 2000) -> bool:
    """True when ``text`` (its first ``sample`` characters outside markup) has at least as many CJK
    ideographs as words in other letters, links left out.

    Any run of other letters counts as one word, however long: counted letter by letter, a Chinese
    line holding an HTML tag, a link or English names (``NBA常规赛，Los Angeles Lakers主场迎战Golden
    State Warriors``) read as English, and the English model, which cannot read ideographs, tagged
    spans running across the Chinese. Where a line could go either way it goes to Chinese, whose
    models read Latin letters too. Japanese kana count as neither.
    """
    head = _LINK.sub(" ", _outside_markup_text(text, sample))
    ideographs = len(_IDEOGRAPH.findall(head))
    return ideographs > 0 and ideographs >= len(_OTHER_WORD.findall(head))


def _outside_markup_text(text: str, limit: int) -> str:
    """The first ``limit`` characters of ``text`` that are not markup, pieces joined by spaces: a
    script or comment at the start of a saved page may run past ``limit`` characters."""
    if not has_markup(text):
        return text[:limit]
    pieces: list[str] = []
    position = size = 0
    for start, end in markup_spans(text):
        pieces.append(text[position:start])
        size += start - position
        position = end
        if size >= limit:
            break
    else:
        pieces.append(text[position:])
    return " ".join(pieces)[:limit]


def char_tokens(text: str, latin_runs: bool = False) -> Offsets:
    """One token per visible character that is neither space nor a control character (category Cc):
    a character with the combining marks after it, an emoji sequence or a flag is one token.

    Chinese models read text this way. With ``latin_runs`` a run of Latin letters and digits
    (half- or full-width: ``Google``, ``iPhone6``, ``ＣＡＰＣＯＭ``) is one token, as a word is, rather
    than one token a letter. A regular expression finds them several times faster than a Python
    loop; ``_CHAR`` and the loop are checked to agree in the tests.
    """
    return list(char_token_stream(text, latin_runs))


def char_token_stream(text: str, latin_runs: bool = False) -> Iterator[tuple[int, int]]:
    """:func:`char_tokens` one at a time, so that a huge text's tokens need not be held as tuples."""
    return (m.span() for m in (_CHAR_OR_RUN if latin_runs else _CHAR).finditer(text))


def is_run_char(char: str) -> bool:
    """A character that joins a Latin run (see :func:`char_tokens`)."""
    return _RUN_CHAR.fullmatch(char) is not None


def run_groups(tokens: Sequence[str], cuts: Container[int] = ()) -> list[tuple[int, int]]:
    """Pre-tokenized characters grouped as :func:`char_tokens` with ``latin_runs`` would cut them:
    half-open ``(first, end)`` token ranges that cover every token, a run of one-character
    Latin tokens in one range. No range crosses an index in ``cuts`` (an entity boundary)."""
    groups: list[tuple[int, int]] = []
    start = 0
    for index in range(1, len(tokens) + 1):
        joins = (
            index < len(tokens) and index not in cuts
            and len(tokens[index]) == 1 and len(tokens[index - 1]) == 1
            and is_run_char(tokens[index]) and is_run_char(tokens[index - 1])
        )
        if not joins:
            groups.append((start, index))
            start = index
    return groups


def word_tokens(text: str) -> Offsets:
    """Words, clitics, abbreviations and punctuation, cut as CoNLL-2003 cuts them.

    English models were trained on CoNLL's tokens; text cut any other way reaches them as words they
    never saw ("Musk's", "Inc" without its period) and loses entities. A decomposed accent stays
    in its word: the words are found in a copy where each combining mark reads as a letter.
    """
    return list(word_token_stream(text))


def word_token_stream(text: str) -> Iterator[tuple[int, int]]:
    """:func:`word_tokens` one at a time."""
    if _COMBINING_MARK.search(text):
        text = _COMBINING_MARK.sub("a", text)  # one character for one: the offsets still fit
    return (m.span() for m in _WORD.finditer(text))


# Characters that make a token other than one character: spaces and control characters (no token),
# marks and joiners (glued to the character before), regional indicators (flags). Text without
# them is one token a character, and its sentences can be cut without a Python loop per token.
_NOT_ONE_A_CHARACTER = re.compile(f"[\\s\\x00-\\x1f\\x7f-\\x9f{_EXTEND}\u200d\U0001f1e6-\U0001f1ff]")
_NOT_ONE_A_CHARACTER_OR_RUN = re.compile(f"{_NOT_ONE_A_CHARACTER.pattern}|[{_RUN_CHARS}]")
_SENTENCE_END_CHAR = re.compile(f"[{''.join(sorted(_SENTENCE_END))}]")


def char_sentences(text: str, max_tokens: int, latin_runs: bool = False) -> list[Offsets] | None:
    """What ``sentences(text, char_tokens(text, latin_runs), max_tokens, "char")`` gives, found
    from the sentence ends alone, for text that is one token a character; None for other text."""
    bounds = char_sentence_bounds(text, max_tokens, latin_runs)
    if bounds is None:
        return None
    return [list(zip(range(a, b), range(a + 1, b + 1))) for a, b in pairwise(bounds)]


def char_sentence_bounds(text: str, max_tokens: int, latin_runs: bool = False) -> list[int] | None:
    """Where :func:`char_sentences`'s sentences begin, then the text's length (``[0]`` for no
    text); None for text that is not one token a character."""
    if (_NOT_ONE_A_CHARACTER_OR_RUN if latin_runs else _NOT_ONE_A_CHARACTER).search(text):
        return None
    bounds: list[int] = []
    start = 0
    for end in [m.end() for m in _SENTENCE_END_CHAR.finditer(text)] + [len(text)]:
        bounds.extend(range(start, end, max(max_tokens, 1)))  # below 1, as sentences(): a token each
        start = end
    bounds.append(len(text))
    return bounds


def outside_markup(text: str, tokens: Offsets) -> Offsets:
    """``tokens`` less those inside markup (:func:`markup_spans`: ``<div class="x">``, ``</b>``, a
    comment, a script): markup is no language, and read as text its letters came out as names (``div class="x"`` PER). The text on
    both sides of a tag stays one sentence, as a browser shows it: in ``<b>张</b>三`` the name is
    still read whole, and its entity's text holds the tag."""
    if "<" not in text:
        return tokens
    return list(tokens_outside_markup(text, tokens))


def tokens_outside_markup(text: str, tokens: Iterable[tuple[int, int]]) -> Iterable[tuple[int, int]]:
    """:func:`outside_markup` one token at a time."""
    tags = markup_spans(text) if "<" in text else []
    if not tags:
        return tokens
    return _outside(tags, tokens)


def _outside(tags: list[tuple[int, int]], tokens: Iterable[tuple[int, int]]) -> Iterator[tuple[int, int]]:
    tag = 0
    for start, end in tokens:
        while tag < len(tags) and tags[tag][1] <= start:  # tags wholly before this token
            tag += 1
        if tag < len(tags) and tags[tag][0] < end:  # the token overlaps a tag
            continue
        yield start, end


def sentences(text: str, tokens: Offsets, max_tokens: int, unit: str) -> list[Offsets]:
    """Group tokens into sentences: after sentence-final punctuation, and at most ``max_tokens`` long."""
    return list(compact_sentences(text, tokens, max_tokens, unit))


def compact_sentences(text: str, tokens: Iterable[tuple[int, int]], max_tokens: int, unit: str) -> Sentences:
    """:func:`sentences` kept in flat arrays (:class:`~nertag.records.Sentences`), the tokens read
    one at a time: no per-token tuple of a huge text is held."""
    enders = _SENTENCE_END | ({"."} if unit == "word" else set())
    code = offset_typecode(len(text) + 1)
    starts, ends, firsts = array(code), array(code), array(code, [0])
    in_sentence = 0
    for start, end in tokens:
        starts.append(start)
        ends.append(end)
        in_sentence += 1
        if text[start:end] in enders or in_sentence >= max_tokens:
            firsts.append(len(starts))
            in_sentence = 0
    if in_sentence:
        firsts.append(len(starts))
    return Sentences(starts, ends, firsts)
