"""Item-level and within-item AUC, and the hardest items, against hand counts and scikit-learn."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pruning.data.eval_files import EvalItem
from pruning.evaluate.diagnostics import (
    auc,
    best_over_every_score,
    diagnose,
    hardest_items,
    item_auc,
    render_diagnostics,
    within_item_auc,
)
from pruning.evaluate.metrics import best_row, sweep
from pruning.evaluate.report import build_result

pytestmark = pytest.mark.unit


def test_auc_counts_pairs_and_halves_ties() -> None:
    assert auc([0.9, 0.8], [0.1, 0.2]) == 1.0
    assert auc([0.1], [0.9]) == 0.0
    assert auc([0.5, 0.9], [0.5, 0.1]) == (0.5 + 1 + 1 + 1) / 4
    assert auc([], [0.3]) is None and auc([0.3], []) is None


@pytest.fixture(scope="module")
def roc_auc_score():
    """scikit-learn's AUC, imported by the one test that needs it (not at collection, so not by every worker) and
    before hypothesis times its first example."""
    from sklearn.metrics import roc_auc_score

    return roc_auc_score


@given(
    st.lists(st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.75, 1.0]), min_size=1, max_size=30),
    st.lists(st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.75, 1.0]), min_size=1, max_size=30),
)
def test_auc_agrees_with_scikit_learn(roc_auc_score, pos: list[float], neg: list[float]) -> None:
    expected = roc_auc_score([1] * len(pos) + [0] * len(neg), pos + neg)
    assert auc(pos, neg) == pytest.approx(expected, abs=1e-12)


LABELS = [[0, 1, 1, 0], [0, 0], [1, 0, 0], [1, 1]]
SCORES = [[0.2, 0.9, 0.7, 0.1], [0.3, 0.4], [0.2, 0.6, 0.1], [0.05, 0.8]]


def test_item_auc_uses_the_mean_score_of_each_item() -> None:
    # means: 0.475, 0.35, 0.3, 0.425; items with a relevant context: 0, 2, 3; without: 1
    assert item_auc(LABELS, SCORES) == pytest.approx(2 / 3)
    assert item_auc([[1], [1]], [[0.2], [0.3]]) is None  # no item without a relevant context


def test_within_item_auc_averages_the_items_with_both_labels() -> None:
    value, n = within_item_auc(LABELS, SCORES)
    assert n == 2  # items 0 and 2; item 1 has no relevant, item 3 no other context
    assert value == pytest.approx((1.0 + 0.5) / 2)
    assert within_item_auc([[1, 1]], [[0.1, 0.2]]) == (None, 0)


def test_hardest_items_are_ordered_by_their_lowest_relevant_score() -> None:
    hard = hardest_items(["a", "b", "c", "d"], LABELS, SCORES, n=2)
    assert [e["query"] for e in hard] == ["d", "c"]
    assert hard[0] == {
        "index": 3,
        "query": "d",
        "relevant": 2,
        "lowest_relevant_score": 0.05,
        "mean_score": 0.425,
        "place_by_mean": 2,
    }
    assert hard[1]["place_by_mean"] == 0  # item c has the lowest mean of all four


def test_diagnose_reads_a_result_and_renders_markdown() -> None:
    items = [EvalItem(q, [f"s{i}." for i in range(len(lab))], lab) for q, lab in zip("abcd", LABELS, strict=True)]
    result = build_result("d.json", items, SCORES, [0.1, 0.5])
    diag = diagnose(result, n_hardest=3)
    assert diag["item_auc"] == pytest.approx(2 / 3)
    assert diag["within_item_auc"] == pytest.approx(0.75)
    assert (diag["items_with_both_labels"], diag["items_with_relevant"]) == (2, 3)
    assert [e["query"] for e in diag["hardest_items"]] == ["d", "c", "a"]
    text = render_diagnostics(diag)
    assert "item AUC (mean score; 3 items with a relevant context): 0.667" in text
    assert "within-item AUC (mean over 2 items with both labels): 0.750" in text
    assert "| 3 | d | 2 | 0.0500 | 0.4250 | 2 |" in text


def test_best_over_every_score_tries_each_observed_score() -> None:
    # one relevant sentence scored 0.9 above four others: keeping only it is perfect, and 0.9 is not on a
    # 0.1-step grid's best (0.4 … 0.9 all give the same counts; the grid's lowest such threshold is 0.4)
    best = best_over_every_score([[1, 0, 0], [0, 0]], [[0.9, 0.3, 0.2], [0.1, 0.5]])
    assert best is not None
    assert (best["threshold"], best["tp"], best["fp"], best["fn"], best["f2_5"]) == (0.9, 1, 0, 0, 1.0)
    # LABELS/SCORES by hand: keeping everything (threshold 0.05, the lowest score) gives P 5/11, R 1, the best
    everything = best_over_every_score(LABELS, SCORES)
    assert everything is not None and (everything["threshold"], everything["fn"]) == (0.05, 0)
    assert everything["f2_5"] == pytest.approx(7.25 * (5 / 11) / (6.25 * 5 / 11 + 1))


def test_best_over_every_score_with_a_recall_floor() -> None:
    labels = [[1, 1, 1, 1, 0, 0, 0, 0, 0], [1, 0, 0, 0, 0, 0]]
    scores = [[0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1], [0.05, 0.45, 0.35, 0.25, 0.15, 0.12]]
    # at 0.6: TP 4, FP 0, FN 1: F2.5 = 7.25 x 0.8 / (6.25 + 0.8) = 0.823, the best; keeping everything (0.05):
    # P 5/15, R 1: F2.5 0.784, the best with recall 1
    assert best_over_every_score(labels, scores)["threshold"] == 0.6  # type: ignore[index]
    assert best_over_every_score(labels, scores, min_recall=0.8)["threshold"] == 0.6  # type: ignore[index]
    assert best_over_every_score(labels, scores, min_recall=1.0)["threshold"] == 0.05  # type: ignore[index]
    assert best_over_every_score([[0, 0]], [[0.2, 0.4]], min_recall=0.5) is None  # nothing relevant: recall 0


@given(
    st.lists(st.tuples(st.integers(0, 1), st.integers(0, 20)), min_size=1, max_size=40),
    st.lists(st.integers(0, 20), min_size=1, max_size=8, unique=True),
)
def test_no_threshold_grid_beats_the_finest_sweep(pairs: list[tuple[int, int]], grid: list[int]) -> None:
    labels, scores = [[y for y, _ in pairs]], [[v / 20 for _, v in pairs]]
    finest = best_over_every_score(labels, scores)
    assert finest is not None
    other = best_row(sweep(scores[0], labels[0], [g / 20 for g in grid]))
    assert finest["f2_5"] >= other.f2_5 - 1e-12
    assert finest["threshold"] in scores[0]


def test_diagnose_with_a_recall_floor_renders_both_bests() -> None:
    items = [EvalItem(q, [f"s{i}." for i in range(len(lab))], lab) for q, lab in zip("abcd", LABELS, strict=True)]
    diag = diagnose(build_result("d.json", items, SCORES, [0.1, 0.5]), min_recall=0.8)
    assert diag["min_recall"] == 0.8
    assert diag["best_over_every_score_with_min_recall"]["threshold"] == 0.05  # recall 0.8 at 0.2 scores less
    text = render_diagnostics(diag)
    assert "best over every observed score: F2.5 0.8580 at 0.05 (FN 0, recall 100.00%, compression 0.0%)" in text
    assert "... with recall >= 0.8: F2.5 0.8580 at 0.05" in text
    assert "min_recall" not in diagnose(build_result("d.json", items, SCORES, [0.1, 0.5]))
