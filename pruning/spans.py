"""Map tokens to character spans through a fast tokenizer's offset mapping (shared by training and scoring)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


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
