"""Sentence splitters for `Pruner.prune(question, str)`: text → character spans `(start, end)`.

`project` (the default) is `pruning.data.sentences.split_sentences`, the splitter the training rows were built
with. `fast-bunkai` (optional extra `pruning[bunkai]`) is the splitter the seed's successor uses; on 2,816
JaQuAD, JSQuAD and XQuAD paragraphs it agreed with `project` on 90 % of paragraphs and split more often, mostly
wrongly (inside 「…」, after parentheses and abbreviations), at 1.3–2× the speed of a step that costs tens of
microseconds a paragraph (docs/api.md). Any callable `str -> list[(start, end)]` also works.
"""

from __future__ import annotations

from collections.abc import Callable

from pruning.data.sentences import split_sentences
from pruning.errors import PruningError

Splitter = Callable[[str], list[tuple[int, int]]]
SPLITTERS = ("project", "fast-bunkai")


def fast_bunkai_splitter() -> Splitter:
    """fast-bunkai's end-of-sentence offsets, turned into trimmed, non-empty spans."""
    try:
        from fast_bunkai import FastBunkai
    except ImportError:
        raise PruningError("splitter 'fast-bunkai' needs the package: pip install 'pruning[bunkai]'") from None
    bunkai = FastBunkai()

    def split(text: str) -> list[tuple[int, int]]:
        spans, start = [], 0
        for end in [*bunkai.find_eos(text), len(text)]:
            a, b = start, min(end, len(text))
            while a < b and text[a].isspace():
                a += 1
            while b > a and text[b - 1].isspace():
                b -= 1
            if a < b:
                spans.append((a, b))
            start = max(start, end)
        return spans

    return split


def get_splitter(splitter: str | Splitter | None) -> Splitter:
    """A splitter by name (`project`, `fast-bunkai`), a callable as given, or the default for None."""
    if splitter is None or splitter == "project":
        return split_sentences
    if splitter == "fast-bunkai":
        return fast_bunkai_splitter()
    if callable(splitter):
        return splitter
    raise PruningError(f"splitter {splitter!r}: expected one of {', '.join(SPLITTERS)} or a callable")
