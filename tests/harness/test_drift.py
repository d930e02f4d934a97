"""Per-context drift: pairing, order, flips at the threshold, and the context texts from the evaluation file."""

from __future__ import annotations

import json

import pytest

from pruning.harness import report_charts
from pruning.harness.drift import context_drift

pytestmark = pytest.mark.unit


def _result(scores, data=None, queries=("q1", "q2")):
    labels = [[1, 0, 0], [0, 1]]
    return {
        "data": data,
        "items": [{"query": q, "labels": y, "scores": s} for q, y, s in zip(queries, labels, scores, strict=True)],
    }


def test_largest_change_first_and_flips_counted_both_ways():
    base = _result([[0.8, 0.25, 0.05], [0.15, 0.65]])
    run = _result([[0.45, 0.35, 0.05], [0.15, 0.66]])
    drift = context_drift(run, base, 0.5)
    assert [(c.item, c.context) for c in drift.contexts] == [(0, 0), (0, 1), (1, 1), (0, 2), (1, 0)]
    first = drift.contexts[0]
    assert (first.old, first.new, first.label, first.flipped) == (0.8, 0.45, 1, True)
    assert first.delta == pytest.approx(-0.35)
    assert drift.flips == 1 and drift.flips_to_delete == 1  # 0.25 → 0.35 stays below 0.5
    drift = context_drift(run, base, 0.3)
    assert drift.flips == 1 and drift.flips_to_delete == 0  # at 0.3 only 0.25 → 0.35 flips, to keep
    assert drift.text_note == "the run's result does not name its evaluation file"


def test_a_score_at_the_threshold_is_kept_on_either_side():
    """The evaluator keeps a context whose score equals the threshold (score >= t), and so does the flip count."""
    base = _result([[0.5, 0.25, 0.05], [0.15, 0.65]])
    run = _result([[0.45, 0.25, 0.05], [0.15, 0.5]])
    flips = {(c.item, c.context) for c in context_drift(run, base, 0.5).contexts if c.flipped}
    assert flips == {(0, 0)}  # 0.5 kept → 0.45 deleted flips; 0.65 → 0.5 stays kept


def test_context_text_read_from_the_evaluation_file(tmp_path):
    data = tmp_path / "eval.json"
    data.write_text(
        json.dumps(
            [
                {"query": "q1", "contexts": ["a.", "b.", "c."], "labels": [1, 0, 0]},
                {"query": "q2", "contexts": ["d.", "e."], "labels": [0, 1]},
            ]
        )
    )
    base = _result([[0.8, 0.25, 0.05], [0.15, 0.65]], str(data))
    run = _result([[0.8, 0.25, 0.05], [0.35, 0.65]], str(data))
    drift = context_drift(run, base, 0.5)
    assert (drift.contexts[0].text, drift.text_note) == ("d.", "")
    other = _result([[0.8, 0.25, 0.05], [0.35, 0.65]], str(data), queries=("q1", "changed"))
    drift = context_drift(other, _result([[0.8, 0.25, 0.05], [0.15, 0.65]], str(data), ("q1", "changed")), 0.5)
    assert drift.contexts[0].text is None
    assert drift.text_note == f"the evaluation file {data} no longer holds the queries the run scored"
    data.write_text("[")
    assert context_drift(run, base, 0.5).text_note.startswith("the evaluation file cannot be read (")


def test_charts_are_repeatable_svg():
    deltas = [0.0, 0.01, 0.2]
    assert report_charts.drift_histogram(deltas, 0.05) == report_charts.drift_histogram(deltas, 0.05)
    assert report_charts.drift_histogram([], None).startswith("data:image/svg+xml;base64,")
