"""Item-level and within-item AUC, and the hardest items, against hand counts and scikit-learn."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.metrics import roc_auc_score

from pruning.data.eval_files import EvalItem
from pruning.evaluate.diagnostics import auc, diagnose, hardest_items, item_auc, render_diagnostics, within_item_auc
from pruning.evaluate.report import build_result

pytestmark = pytest.mark.unit


def test_auc_counts_pairs_and_halves_ties() -> None:
    assert auc([0.9, 0.8], [0.1, 0.2]) == 1.0
    assert auc([0.1], [0.9]) == 0.0
    assert auc([0.5, 0.9], [0.5, 0.1]) == (0.5 + 1 + 1 + 1) / 4
    assert auc([], [0.3]) is None and auc([0.3], []) is None


@given(
    st.lists(st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.75, 1.0]), min_size=1, max_size=30),
    st.lists(st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.75, 1.0]), min_size=1, max_size=30),
)
def test_auc_agrees_with_scikit_learn(pos: list[float], neg: list[float]) -> None:
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
