"""Delete a query's content terms from passages, so that relevance must be read from meaning, not overlap.

JaQuAD questions share their key terms with the gold paragraph, so a pruner trained on them learns to trust
lexical overlap, and misses passages that answer a query in other words. Masking removes that shortcut from
some training rows: every run of content characters (kanji, katakana, Latin letters, digits) of at least
`MIN_TERM` characters that the query and a sentence share is deleted from the sentence, longest match first.
Kana-only runs (particles, endings) are never deleted, and a sentence that masking would leave blank keeps its
text. Applied to every passage of a row alike, so the masking itself does not tell gold from negative.

    >>> delete_shared_terms("消費税は1989年に導入された。", "消費税が導入されたのは何年か")
    'は1989年にされた。'
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["MIN_TERM", "delete_shared_terms", "mask_passage"]

MIN_TERM = 2
_CONTENT = re.compile(
    r"[\u3400-\u9fff\uf900-\ufaff"  # kanji
    r"\u30a0-\u30ff\uff66-\uff9f"  # katakana, full and half width
    r"A-Za-z0-9\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]+"  # Latin letters and digits, ASCII and full width
)


def _query_terms(query: str) -> tuple[set[str], int]:
    """Every substring of at least MIN_TERM characters of the query's content runs, and the longest length."""
    terms: set[str] = set()
    longest = 0
    for run in _CONTENT.findall(query):
        longest = max(longest, len(run))
        for a in range(len(run)):
            for b in range(a + MIN_TERM, len(run) + 1):
                terms.add(run[a:b])
    return terms, longest


def delete_shared_terms(text: str, query: str) -> str:
    """`text` without the content terms it shares with `query` (greedy, longest match first, left to right)."""
    terms, longest = _query_terms(query)
    if not terms:
        return text
    out: list[str] = []
    i = 0
    while i < len(text):
        match = next((n for n in range(min(longest, len(text) - i), MIN_TERM - 1, -1) if text[i : i + n] in terms), 0)
        if match:
            i += match
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def mask_passage(text: str, spans: Sequence[Sequence[int]], query: str) -> tuple[str, list[list[int]]]:
    """Mask each sentence span of `text` (see delete_shared_terms); the text between spans is kept as it is.
    Returns the new text and its sentence spans, one per input span, in order."""
    pieces: list[str] = []
    new_spans: list[list[int]] = []
    cursor = 0
    length = 0
    for start, end in spans:
        gap = text[cursor:start]
        pieces.append(gap)
        length += len(gap)
        sentence = text[start:end]
        masked = delete_shared_terms(sentence, query)
        if not masked.strip():
            masked = sentence
        pieces.append(masked)
        new_spans.append([length, length + len(masked)])
        length += len(masked)
        cursor = end
    pieces.append(text[cursor:])
    return "".join(pieces), new_spans
