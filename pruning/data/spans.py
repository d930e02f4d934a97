"""Character spans of sentences in a passage, and tokens → spans through a fast tokenizer's offset mapping."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: How an evaluation item becomes model input: `pair` = the training pair (query, joined contexts);
#: `seed` = the seed evaluator's single sequence query + sep + "".join(contexts).
INPUT_FORMATS = ("pair", "seed")
#: Which positions make a context's score (pruning.evaluate.scoring): its own tokens, or the seed evaluator's ranges.
RANGES = ("exact", "reference")
#: How a context's keep probabilities become its score: their mean, or the seed's majority vote.
RULES = ("mean", "majority")


def token_span_index(
    offsets: Sequence[Sequence[int]], in_text: Sequence[bool], spans: Sequence[Sequence[int]]
) -> np.ndarray:
    """For each token, the index of the span holding its first character, or -1.

    `in_text[t]` says whether token t belongs to the text the spans index into (e.g. the passage of a pair);
    zero-width tokens (special tokens, a bare "▁") get -1. Spans must be sorted and non-overlapping.
    """
    out = np.full(len(offsets), -1, dtype=np.int64)
    if len(spans) == 0:
        return out
    starts = np.asarray([s for s, _ in spans], dtype=np.int64)
    ends = np.asarray([e for _, e in spans], dtype=np.int64)
    offs = np.asarray(offsets, dtype=np.int64).reshape(-1, 2)
    valid = np.asarray(in_text, dtype=bool) & (offs[:, 1] > offs[:, 0])
    j = np.searchsorted(starts, offs[:, 0], side="right") - 1
    hit = valid & (j >= 0) & (offs[:, 0] < ends[np.clip(j, 0, None)])
    out[hit] = j[hit]
    return out


def join_contexts(contexts: Sequence[str], joiner: str | None = None) -> tuple[str, list[tuple[int, int]]]:
    """Concatenate contexts into one passage and return it with each context's character span.

    With `joiner=None`, two contexts are joined directly when either side of the seam is non-ASCII (Japanese
    has no spaces between sentences) and with one space otherwise.
    """
    parts: list[str] = []
    spans: list[tuple[int, int]] = []
    pos = 0
    for i, ctx in enumerate(contexts):
        if i:
            sep = (
                joiner if joiner is not None else ("" if not (parts[-1][-1:].isascii() and ctx[:1].isascii()) else " ")
            )
            parts.append(sep)
            pos += len(sep)
        parts.append(ctx)
        spans.append((pos, pos + len(ctx)))
        pos += len(ctx)
    return "".join(parts), spans
