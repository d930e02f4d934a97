"""Rule-based sentence splitting for Japanese and English passages, as character spans.

The rules are language-agnostic and deliberately simple:

- a line break always ends a sentence;
- 。！？｡ end a sentence (also when followed by further terminators or closing brackets);
- ``!`` ``?`` ``.`` and ``．`` end a sentence only when followed by whitespace or the end of the line, and
  not when the next word starts with a lower-case ASCII letter or a digit (``"Stop!" she said``,
  ``No. 5``);
- ``.`` does not end a sentence after a common abbreviation (Mr. e.g. U.S. etc. Jan. ...) or a single
  capital initial (``J. R. R. Tolkien``), nor inside a number or a word (``3.14``, ``example.com``);
- nothing inside 「」『』（）()【】〔〕［］“” or straight double quotes ends a sentence; when such a
  bracket closes right after a terminator, the sentence ends after the bracket (``「行く。」次に`` splits
  after 」), except before the quotative particle と / って (``「行く。」と言った`` stays whole);
- closing quotes and brackets that directly follow a terminator stay with its sentence;
- a line whose brackets do not balance is split again ignoring brackets, so one stray 「 cannot glue a
  whole paragraph into one sentence.

Spans exclude leading and trailing whitespace, are ordered and non-overlapping, and together cover every
non-whitespace character of the text.
"""

from __future__ import annotations

import re

__all__ = ["split_sentences"]

# Runs of characters that are not line breaks (the same set str.splitlines() breaks on).
_LINES = re.compile(r"[^\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]+")

_CJK_TERMINATORS = frozenset("。！？｡")
_LATIN_TERMINATORS = frozenset(".!?．")
_TERMINATORS = _CJK_TERMINATORS | _LATIN_TERMINATORS
_PERIODS = frozenset(".．")

_PAIRS = {
    "「": "」",
    "『": "』",
    "（": "）",
    "(": ")",
    "【": "】",
    "〔": "〕",
    "［": "］",
    "“": "”",
    "〈": "〉",
    "《": "》",
    '"': '"',
}
_CLOSERS = frozenset(_PAIRS.values()) | frozenset("’'")

# Lower-cased tokens (without the final period) after which "." never ends a sentence.
# fmt: off
_ABBREVIATIONS = frozenset([
    "mr", "mrs", "ms", "dr", "st", "prof", "sr", "jr", "rev", "hon", "gen", "col", "lt", "capt", "sgt",
    "cmdr", "adm", "gov", "sen", "rep", "pres",
    "vs", "etc", "e.g", "i.e", "cf", "ca", "approx", "al", "viz",
    "u.s", "u.k", "u.n", "u.s.a", "e.u", "a.m", "p.m",
    "inc", "ltd", "co", "corp", "bros", "dept", "univ", "assn", "est",
    "fig", "figs", "vol", "vols", "pp", "eds",
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
    "mt", "ft", "ave", "blvd", "rd",
])
# fmt: on


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Character spans ``(start, end)`` of the sentences of ``text``, in order (see the module notes)."""
    spans: list[tuple[int, int]] = []
    for line in _LINES.finditer(text):
        start, end = line.span()
        cuts = _line_cuts(text, start, end, brackets=True)
        if cuts is None:
            cuts = _line_cuts(text, start, end, brackets=False)
            assert cuts is not None
        piece_start = start
        for cut in [*cuts, end]:
            span = _strip(text, piece_start, cut)
            if span is not None:
                spans.append(span)
            piece_start = cut
    return spans


def _strip(text: str, start: int, end: int) -> tuple[int, int] | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if start < end else None


def _line_cuts(text: str, start: int, end: int, *, brackets: bool) -> list[int] | None:
    """Positions inside one line after which a sentence ends; None when brackets do not balance."""
    cuts: list[int] = []
    stack: list[str] = []
    i = start
    while i < end:
        ch = text[i]
        if brackets and stack and ch == stack[-1]:
            stack.pop()
            i += 1
            if not stack and i - 2 >= start and text[i - 2] in _TERMINATORS:
                # A quotation or bracket that ended with a terminator: the sentence may end after it.
                run_start = i - 2
                while run_start > start and text[run_start - 1] in _TERMINATORS:
                    run_start -= 1
                j = _skip_closers(text, i, end)
                if _is_boundary(text, start, run_start, i - 1, j, end, after_closer=True):
                    cuts.append(j)
                i = j
            continue
        if brackets and ch in _PAIRS:
            stack.append(_PAIRS[ch])
            i += 1
            continue
        if not stack and ch in _TERMINATORS:
            run_end = i + 1
            while run_end < end and text[run_end] in _TERMINATORS:
                run_end += 1
            j = _skip_closers(text, run_end, end)
            if _is_boundary(text, start, i, run_end, j, end, after_closer=j > run_end):
                cuts.append(j)
            i = j
            continue
        i += 1
    if stack:
        return None
    return cuts


def _skip_closers(text: str, i: int, end: int) -> int:
    while i < end and text[i] in _CLOSERS:
        i += 1
    return i


def _next_visible(text: str, i: int, end: int) -> str:
    while i < end and text[i].isspace():
        i += 1
    return text[i] if i < end else ""


def _is_boundary(
    text: str, line_start: int, run_start: int, run_end: int, j: int, end: int, *, after_closer: bool
) -> bool:
    """Whether the terminator run ``text[run_start:run_end]`` (closers up to ``j``) ends a sentence."""
    run = text[run_start:run_end]
    nxt = _next_visible(text, j, end)
    if any(c in _CJK_TERMINATORS for c in run):
        # 「…。」と言った: a quotation followed by a quotative particle is part of the sentence.
        return not (after_closer and (text.startswith("と", j) or text.startswith("って", j)))
    if j < end and not text[j].isspace():
        # "3.14", "U.S.A", "example.com", "Yahoo!Japan"; a full-width period between non-digits is
        # Japanese-style punctuation and does end the sentence.
        return set(run) == {"．"} and not (text[run_start - 1 : run_start].isdigit() and text[j].isdigit())
    if nxt and ((nxt.isascii() and nxt.islower()) or nxt.isdigit()):
        return False
    return not (run == "." and _is_abbreviation(text, line_start, run_start))


def _is_abbreviation(text: str, line_start: int, period: int) -> bool:
    k = period
    while k > line_start and (text[k - 1].isalpha() or text[k - 1] == "."):
        k -= 1
    token = text[k:period]
    if not token or not token.isascii():
        return False
    if len(token) == 1 and token.isupper():
        return True  # an initial: "J. R. R. Tolkien"
    return token.lower() in _ABBREVIATIONS
