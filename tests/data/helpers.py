"""A valid context-relevance training row, for the tests that validate or write rows."""

from __future__ import annotations

from typing import Any


def good_row() -> dict[str, Any]:
    return {
        "query": "q",
        "texts": ["ab. cd.", "ef."],
        "labels": [1, 0],
        "context_spans": [[[0, 3], [4, 7]], [[0, 3]]],
        "context_spans_relevance": [[0, 1], [0]],
    }
