"""Teacher scores: e5-style similarities mapped into [0, 1], independent of batching and row order."""

from __future__ import annotations

import copy
import logging

import numpy as np
import pytest
import torch

from pruning.data.synthetic import make_rows
from pruning.data.teacher import CENTRE, TEMPERATURE, E5Teacher, add_teacher_scores
from pruning.errors import PruningError

pytestmark = pytest.mark.unit


def _direct_embedding(teacher: E5Teacher, text: str) -> np.ndarray:
    enc = teacher.tokenizer([text], return_tensors="pt", truncation=True, max_length=teacher.max_length)
    with torch.no_grad():
        hidden = teacher.model(**enc).last_hidden_state[0]
    pooled = hidden.mean(0)  # one unpadded text: every position counts
    return (pooled / pooled.norm()).numpy()


def test_scores_are_scaled_cosines_of_prefixed_texts(tiny_backbone_dir) -> None:
    teacher = E5Teacher(str(tiny_backbone_dir), batch_size=3, device="cpu")
    rows = make_rows(4, seed=5)
    column = add_teacher_scores(rows, teacher)
    assert column == "teacher_scores.e5"
    for row in rows:
        q = _direct_embedding(teacher, "query: " + row["query"])
        for text, score in zip(row["texts"], row[column], strict=True):
            cosine = float(q @ _direct_embedding(teacher, "passage: " + text))
            assert score == pytest.approx(1 / (1 + np.exp(-(cosine - CENTRE) / TEMPERATURE)), abs=1e-4)
            assert 0 <= score <= 1


def test_scores_do_not_depend_on_batch_size_or_row_order(tiny_backbone_dir) -> None:
    rows = make_rows(6, seed=1)
    one = copy.deepcopy(rows)
    add_teacher_scores(one, E5Teacher(str(tiny_backbone_dir), batch_size=1, device="cpu"))
    many = copy.deepcopy(rows)[::-1]
    add_teacher_scores(many, E5Teacher(str(tiny_backbone_dir), batch_size=16, device="cpu"), name="x")
    for a, b in zip(one, many[::-1], strict=True):
        np.testing.assert_allclose(a["teacher_scores.e5"], b["teacher_scores.x"], atol=2e-3)


def test_batch_size_must_be_positive(tiny_backbone_dir) -> None:
    with pytest.raises(PruningError, match="teacher batch size must be >= 1"):
        E5Teacher(str(tiny_backbone_dir), batch_size=0)


def test_texts_past_max_length_are_counted_and_reported(tiny_backbone_dir, caplog) -> None:
    teacher = E5Teacher(str(tiny_backbone_dir), batch_size=2, max_length=8, device="cpu")
    with caplog.at_level(logging.WARNING, logger="pruning.data.teacher"):
        teacher.embed(["短い。", "これはとても長い文章で、八つのトークンには収まりません。" * 3, "x"], desc="probe")
    assert teacher.truncated_texts == 1
    assert "probe: 1 of 3 texts exceed 8 tokens" in caplog.text
