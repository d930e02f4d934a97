"""Delete a query's content terms from passages, so that relevance must be read from meaning, not overlap.

JaQuAD questions share their key terms with the gold paragraph, so a pruner trained on them learns to trust
lexical overlap, and misses passages that answer a query in other words. Masking removes that shortcut from
some training rows. What counts as a shared term:
- kanji and katakana: any piece of at least `MIN_TERM` characters of one of the query's kanji/katakana runs
  (Japanese has no spaces, so a term is a substring), deleted wherever it occurs, longest match first;
- Latin letters and digits: whole words only, compared case-insensitively ("Paris" goes, "Parisian" and
  "1998" against "1989" stay; in English, function words the question shares go too).
Hiragana (particles, endings) and punctuation are never deleted, and a sentence that masking would leave blank
keeps its text. The training-row builder applies it to every passage of a row alike, so the masking itself does
not tell gold from negative.

    >>> delete_shared_terms("消費税は1989年に導入された。", "消費税が導入されたのは1989年か")
    'は年にされた。'
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["MIN_TERM", "QueryTerms", "delete_shared_terms", "mask_passage"]

MIN_TERM = 2
_CJK = r"\u3005\u3400-\u9fff\uf900-\ufaff\u30a1-\u30fa\u30fc-\u30ff\uff66-\uff9f"  # 々, kanji, katakana
_WORD = r"A-Za-z0-9\uff10-\uff19\uff21-\uff3a\uff41-\uff5a"  # Latin letters and digits, ASCII and full width
_RUN = re.compile(f"(?P<cjk>[{_CJK}]+)|(?P<word>[{_WORD}]+)")


@dataclass(frozen=True)
class QueryTerms:
    """The pieces of a query that masking deletes: kanji/katakana substrings and whole Latin/digit words."""

    cjk: frozenset[str]
    words: frozenset[str]
    longest: int

    @classmethod
    def of(cls, query: str) -> QueryTerms:
        cjk: set[str] = set()
        words: set[str] = set()
        longest = 0
        for m in _RUN.finditer(query):
            run = m.group()
            if m.lastgroup == "word":
                if len(run) >= MIN_TERM:
                    words.add(run.casefold())
                continue
            longest = max(longest, len(run))
            cjk.update(run[a:b] for a in range(len(run)) for b in range(a + MIN_TERM, len(run) + 1))
        return cls(frozenset(cjk), frozenset(words), longest)

    def delete_from(self, text: str) -> str:
        """`text` without these terms."""
        out: list[str] = []
        cursor = 0
        for m in _RUN.finditer(text):
            out.append(text[cursor : m.start()])
            run = m.group()
            if m.lastgroup == "word":
                out.append("" if run.casefold() in self.words else run)
            else:
                out.append(self._delete_cjk(run))
            cursor = m.end()
        out.append(text[cursor:])
        return "".join(out)

    def _delete_cjk(self, run: str) -> str:
        kept: list[str] = []
        i = 0
        while i < len(run):
            span = min(self.longest, len(run) - i)
            match = next((n for n in range(span, MIN_TERM - 1, -1) if run[i : i + n] in self.cjk), 0)
            if match:
                i += match
            else:
                kept.append(run[i])
                i += 1
        return "".join(kept)


def delete_shared_terms(text: str, query: str) -> str:
    """`text` without the content terms it shares with `query` (see the module docstring)."""
    return QueryTerms.of(query).delete_from(text)


def mask_passage(text: str, spans: Sequence[Sequence[int]], query: str) -> tuple[str, list[list[int]]]:
    """Mask each sentence span of `text`; the text between spans is kept as it is.
    Returns the new text and its sentence spans, one per input span, in order."""
    terms = QueryTerms.of(query)
    pieces: list[str] = []
    new_spans: list[list[int]] = []
    cursor = 0
    length = 0
    for start, end in spans:
        gap = text[cursor:start]
        pieces.append(gap)
        length += len(gap)
        sentence = text[start:end]
        masked = terms.delete_from(sentence)
        if not masked.strip():
            masked = sentence
        pieces.append(masked)
        new_spans.append([length, length + len(masked)])
        length += len(masked)
        cursor = end
    pieces.append(text[cursor:])
    return "".join(pieces), new_spans
