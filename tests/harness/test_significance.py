"""The paired bootstrap over queries: hand-worked cases, and an independent loop-based resampling."""

from __future__ import annotations

import numpy as np
import pytest

from pruning.evaluate.metrics import f2_5, recall
from pruning.harness.significance import SIGNIFICANT, WITHIN_NOISE, paired_bootstrap

pytestmark = pytest.mark.unit


def _file(queries: int = 257, contexts: int = 7, seed: int = 0):
    """A file like ja_v3: about a third of the contexts relevant, scores that mostly rank them first."""
    rng = np.random.default_rng(seed)
    labels = [list((rng.random(contexts) < 0.37).astype(int)) for _ in range(queries)]
    scores = [[float(np.clip(0.35 + 0.3 * y + rng.normal(0, 0.12), 0, 1)) for y in item] for item in labels]
    return labels, scores


def test_identical_runs_give_a_zero_width_interval_at_zero():
    labels, scores = _file()
    sig = paired_bootstrap(labels, scores, scores, 0.4)
    for name in ("f2_5", "recall", "fn"):
        assert (getattr(sig, name).delta, getattr(sig, name).low, getattr(sig, name).high) == (0.0, 0.0, 0.0)
    assert sig.verdict == WITHIN_NOISE and sig.changed == []
    assert (sig.queries, sig.resamples, sig.level) == (257, 2000, 0.95)


def test_many_flipped_keep_decisions_are_significant():
    labels, scores = _file()
    # the planted change: a relevant context in every third query drops below the threshold
    moved = [list(s) for s in scores]
    flipped = 0
    for i, (y, s) in enumerate(zip(labels, moved, strict=True)):
        j = next((j for j, v in enumerate(y) if v and s[j] >= 0.4), None)
        if i % 3 == 0 and j is not None:
            s[j], flipped = 0.1, flipped + 1
    sig = paired_bootstrap(labels, moved, scores, 0.4)
    assert sig.fn.delta == flipped > 50
    assert sig.fn.low > 0 and sig.recall.high < 0 and sig.f2_5.high < 0
    assert sig.verdict == SIGNIFICANT and sig.changed == ["f2_5", "recall", "fn"]


def test_one_changed_context_is_within_noise():
    labels, scores = _file()
    i, j = next((i, j) for i, y in enumerate(labels) for j, v in enumerate(y) if v and scores[i][j] >= 0.4)
    moved = [list(s) for s in scores]
    moved[i][j] = 0.0  # one relevant context removed: FN +1 on the full file
    sig = paired_bootstrap(labels, moved, scores, 0.4)
    assert sig.fn.delta == 1 and sig.f2_5.delta < 0
    # the query is left out of about e^-1 of the resamples, so 0 stays inside every interval
    assert sig.fn.low == 0 and sig.verdict == WITHIN_NOISE


def test_hand_worked_two_queries():
    # q0: one relevant context kept by both; q1: the run loses its relevant context (FN 0 -> 1)
    labels = [[1, 0], [1]]
    base = [[0.9, 0.1], [0.8]]
    run = [[0.9, 0.1], [0.2]]
    sig = paired_bootstrap(labels, run, base, 0.5, resamples=4000)
    assert sig.fn.delta == 1 and sig.recall.delta == pytest.approx(-0.5)
    assert sig.f2_5.delta == pytest.approx(f2_5(1.0, 0.5) - f2_5(1.0, 1.0))
    # a resample holds q1 k times out of 2 draws: ΔFN = k, with P(k = 0, 1, 2) = 1/4, 1/2, 1/4
    assert (sig.fn.low, sig.fn.high) == (0, 2)
    assert sig.recall.low == pytest.approx(-1.0) and sig.recall.high == 0


def test_a_score_at_the_threshold_is_kept():
    """As in the evaluator's sweep (score >= t): a relevant context scored exactly at the threshold is no FN."""
    labels = [[1, 0], [1]]
    sig = paired_bootstrap(labels, [[0.5, 0.1], [0.5]], [[0.9, 0.1], [0.8]], 0.5, resamples=50)
    assert (sig.fn.delta, sig.recall.delta, sig.f2_5.delta) == (0, 0, 0)


def test_matches_a_loop_over_resampled_queries():
    """An independent computation: draw query indices one resample at a time and score the concatenation."""
    labels, scores = _file(queries=40, seed=3)
    rng = np.random.default_rng(1)
    other = [[float(np.clip(v + rng.normal(0, 0.1), 0, 1)) for v in s] for s in scores]
    sig = paired_bootstrap(labels, other, scores, 0.45, resamples=300, seed=5)
    weights = np.random.default_rng(5).multinomial(40, np.full(40, 1 / 40), size=300)
    deltas = []
    for w in weights:
        picks = [q for q, k in enumerate(w) for _ in range(k)]

        def f_and_r(side, picks=picks):
            tp = sum(1 for q in picks for y, s in zip(labels[q], side[q], strict=True) if y and s >= 0.45)
            fp = sum(1 for q in picks for y, s in zip(labels[q], side[q], strict=True) if not y and s >= 0.45)
            fn = sum(1 for q in picks for y, s in zip(labels[q], side[q], strict=True) if y and s < 0.45)
            p, r = (tp / (tp + fp) if tp + fp else 0.0), recall(tp, fn)
            return f2_5(p, r)

        deltas.append(f_and_r(other) - f_and_r(scores))
    low, high = np.quantile(deltas, [0.025, 0.975])
    assert (sig.f2_5.low, sig.f2_5.high) == pytest.approx((low, high), abs=1e-12)


def test_bad_input():
    with pytest.raises(ValueError, match="no queries"):
        paired_bootstrap([], [], [], 0.5)
    with pytest.raises(ValueError, match="same contexts"):
        paired_bootstrap([[1, 0]], [[0.5]], [[0.5, 0.1]], 0.5)
    with pytest.raises(ValueError, match="resamples"):
        paired_bootstrap([[1]], [[0.5]], [[0.5]], 0.5, resamples=0)


def test_summary_and_dict():
    labels, scores = _file(queries=20)
    sig = paired_bootstrap(labels, scores, scores, 0.4, resamples=50)
    assert sig.summary() == "ΔF2.5 +0.0000 [+0.0000, +0.0000]; Δrecall +0.0000 [+0.0000, +0.0000]; ΔFN +0 [+0, +0]"
    d = sig.as_dict()
    assert d["verdict"] == WITHIN_NOISE and d["fn"] == {"delta": 0.0, "low": 0.0, "high": 0.0}
    assert d["resamples"] == 50 and d["threshold"] == 0.4
