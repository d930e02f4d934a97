"""Synthetic rows: valid, deterministic, and the committed smoke files are exactly the generator's output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pruning.data.synthetic import make_rows
from pruning.data.training_rows import validate_relevance_row

pytestmark = pytest.mark.unit

SMOKE = Path(__file__).resolve().parents[2] / "pruning-config" / "smoke"


def test_rows_are_valid_and_deterministic():
    rows = make_rows(12, k=3, seed=5)
    for i, row in enumerate(rows):
        validate_relevance_row(row, f"row {i}")
        assert sum(row["context_spans_relevance"][0]) == 1 and row["labels"] == [1, 0, 0]
        assert all(sum(r) == 0 for r in row["context_spans_relevance"][1:])
    assert rows == make_rows(12, k=3, seed=5) and rows != make_rows(12, k=3, seed=6)


@pytest.mark.parametrize(("name", "n", "seed"), [("train", 96, 0), ("validation", 16, 1)])
def test_committed_smoke_files_come_from_the_generator(name, n, seed):
    want = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in make_rows(n, k=4, seed=seed))
    assert (SMOKE / f"{name}.jsonl").read_text(encoding="utf-8") == want
