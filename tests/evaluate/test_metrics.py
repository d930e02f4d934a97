"""Metrics: the seed's own table, an independent oracle (scikit-learn), and properties of the sweep."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pruning.errors import PruningError
from pruning.evaluate.metrics import (
    METRICS,
    ThresholdRow,
    accuracy,
    best_row,
    best_row_with_min_recall,
    best_threshold,
    compression,
    confusion_counts,
    f1,
    f2,
    f2_5,
    f_beta,
    keep_everything_row,
    normalize_metric,
    precision,
    recall,
    sweep,
)
from pruning.evaluate.seed_baseline import load_seed_baseline

pytestmark = pytest.mark.unit

SEED = load_seed_baseline()
SLIPS = {(s.threshold, s.field): s for s in SEED.known_slips}

# ---------------------------------------------------------------------------------------------------------
# The seed table


@pytest.mark.parametrize("row", SEED.rows, ids=lambda r: f"t{r.threshold}")
def test_seed_table_recomputes_from_counts(row) -> None:
    derived = row.derived_printed()
    for field, printed in row.printed.items():
        slip = SLIPS.get((row.threshold, field))
        if slip is None:
            assert derived[field] == printed, (row.threshold, field)
        else:  # a recorded printing slip: the counts disagree with the printed cell
            assert derived[field] != printed
            assert derived[field] == slip.derived
            assert printed == slip.printed


def test_seed_slips_are_exactly_the_two_recorded() -> None:
    mismatches = {
        (row.threshold, field)
        for row in SEED.rows
        for field, value in row.derived_printed().items()
        if value != row.printed[field]
    }
    assert mismatches == {(0.3, "compression_pct"), (0.7, "f2_5")} == set(SLIPS)
    assert SEED.row_at(0.3).derived().compression == pytest.approx(335 / 1879)
    assert round(SEED.row_at(0.3).derived().compression * 100, 2) == 17.83
    assert round(SEED.row_at(0.7).derived().f2_5, 5) == SLIPS[(0.7, "f2_5")].exact == 0.07933


def test_seed_best_threshold_depends_on_metric() -> None:
    rows = SEED.derived_rows()
    assert best_threshold(rows, "f2_5") == 0.3 == SEED.best_threshold
    assert best_threshold(rows, "f2.5") == 0.3
    assert best_threshold(rows) == 0.3 and best_row(rows).threshold == 0.3  # F2.5 is the default
    assert normalize_metric("F2-5") == "f2_5" and normalize_metric(" F-2.5 ") == "f2_5"
    assert best_threshold(rows, "f2") == 0.4
    assert round(best_row(rows).f2_5, 4) == 0.8483


def test_seed_counts_reproduced_by_sweep() -> None:
    """Scores placed between the seed's thresholds so as to hit its counts give back exactly those rows."""
    ts = [r.threshold for r in SEED.rows]
    bounds = [0.0, *ts, 1.0]
    fn_below = [0, *(r.fn for r in SEED.rows), SEED.dataset.n_keep]  # positives scored below each bound
    tn_below = [0, *(r.tn for r in SEED.rows), SEED.dataset.n_delete]
    scores: list[float] = []
    labels: list[int] = []
    for k in range(len(bounds) - 1):
        mid = (bounds[k] + bounds[k + 1]) / 2
        n_pos, n_neg = fn_below[k + 1] - fn_below[k], tn_below[k + 1] - tn_below[k]
        scores += [mid] * (n_pos + n_neg)
        labels += [1] * n_pos + [0] * n_neg
    assert sweep(scores, labels, ts) == SEED.derived_rows()


# ---------------------------------------------------------------------------------------------------------
# Scalar functions


def test_scalar_values_and_zero_denominators() -> None:
    assert precision(0, 0) == recall(0, 0) == accuracy(0, 0, 0, 0) == compression(0, 0, 0, 0) == 0.0
    assert f_beta(0.0, 0.0, 2.5) == 0.0
    assert f1(0.5, 0.5) == pytest.approx(0.5)
    assert f2(1.0, 0.5) == pytest.approx(5 * 0.5 / (4 + 0.5))
    assert f2_5(0.5, 1.0) == pytest.approx(7.25 * 0.5 / (6.25 * 0.5 + 1.0))
    assert compression(1, 2, 3, 4) == pytest.approx(0.7)
    assert accuracy(1, 2, 3, 4) == pytest.approx(0.4)
    with pytest.raises(ValueError):
        f_beta(0.5, 0.5, 0.0)


def test_keep_everything_yardstick_on_seed_counts() -> None:
    row = keep_everything_row([1] * 691 + [0] * 1188)
    assert (row.tp, row.fp, row.tn, row.fn) == (691, 1188, 0, 0)
    assert round(row.f2_5, 4) == 0.8083
    assert row.recall == 1.0 and row.compression == 0.0
    assert row.threshold == 0.0  # keeping everything is the threshold 0


def test_confusion_counts_and_sweep_agree() -> None:
    scores, labels = [0.1, 0.3, 0.3, 0.9], [0, 1, 0, 1]
    assert confusion_counts(scores, labels, 0.3) == (2, 1, 1, 0)
    assert confusion_counts(scores, labels, 0.5) == (1, 0, 2, 1)  # tn and fp differ here
    for t in (0.0, 0.2, 0.3, 0.5, 0.95):
        (at_t,) = sweep(scores, labels, [t])
        assert confusion_counts(scores, labels, t) == (at_t.tp, at_t.fp, at_t.tn, at_t.fn)
    (row,) = sweep(scores, labels, [0.3])
    assert row == ThresholdRow.from_counts(0.3, 2, 1, 1, 0)
    assert row.as_dict()["tp"] == 2 and list(row.as_dict()) == list(ThresholdRow.__dataclass_fields__)


def test_metric_names() -> None:
    assert METRICS[0] == "f2_5"
    assert normalize_metric("F2.5") == "f2_5" and normalize_metric("recall") == "recall"
    with pytest.raises(PruningError, match="f2_5, f2, f1, precision, recall, accuracy"):
        normalize_metric("auc")
    with pytest.raises(PruningError):
        best_row([ThresholdRow.from_counts(0.5, 1, 0, 0, 0)], "compression")


def test_ties_go_to_the_lowest_threshold() -> None:
    rows = sweep([0.2, 0.9], [1, 0], [0.5, 0.1, 0.15, 0.3])  # 0.1 and 0.15 give identical counts
    assert best_threshold(rows, "f2_5") == 0.1
    assert best_threshold(rows, "recall") == 0.1
    assert best_threshold(rows, "precision") == 0.1


@pytest.mark.parametrize(
    ("scores", "labels", "thresholds"),
    [
        ([0.1, float("nan")], [0, 1], [0.5]),
        ([0.1, 0.2], [0, 1, 1], [0.5]),
        ([0.1, 0.2], [0, 2], [0.5]),
        ([0.1, 0.2], [0, 1], []),
        ([0.1, 0.2], [0, 1], [0.5, 0.5]),
        ([0.1, 0.2], [0, 1], [float("inf")]),
    ],
    ids=["nan_score", "length", "label_2", "no_thresholds", "duplicate", "inf_threshold"],
)
def test_sweep_rejects_bad_input(scores, labels, thresholds) -> None:
    with pytest.raises(ValueError):
        sweep(scores, labels, thresholds)


# ---------------------------------------------------------------------------------------------------------
# Independent oracle: scikit-learn


def _oracle(scores: np.ndarray, labels: np.ndarray, t: float) -> dict[str, float]:
    pred = (scores >= t).astype(int)
    # imported here, not at the top: a test process that runs none of these tests does not load scikit-learn
    from sklearn.metrics import confusion_matrix, fbeta_score, precision_recall_fscore_support

    tn, fp, fn, tp = confusion_matrix(labels, pred, labels=[0, 1]).ravel()
    p, r, f, _ = precision_recall_fscore_support(labels, pred, beta=1.0, average="binary", pos_label=1, zero_division=0)
    return {
        "tp": tp,
        "fp": fp,
        "tn": tn,
        "fn": fn,
        "precision": p,
        "recall": r,
        "f1": f,
        "f2": fbeta_score(labels, pred, beta=2.0, zero_division=0),
        "f2_5": fbeta_score(labels, pred, beta=2.5, zero_division=0),
    }


@pytest.mark.parametrize("seed", range(8))
def test_sklearn_oracle_agrees(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 300))
    labels = (rng.random(n) < rng.random()).astype(int)
    # coarse scores so that many of them sit exactly on a threshold (the >= edge is exercised)
    scores = np.round(np.clip(labels * 0.3 + rng.random(n) * 0.7, 0, 1), 1)
    thresholds = sorted(set(np.round(rng.random(6), 1).tolist()) | {0.0, 1.0})
    rows = sweep(scores.tolist(), labels.tolist(), thresholds)
    assert [r.threshold for r in rows] == thresholds
    for row in rows:
        want = _oracle(scores, labels, row.threshold)
        for key, value in want.items():
            assert getattr(row, key) == pytest.approx(value, abs=1e-12), (seed, row.threshold, key)


scores_labels = st.integers(min_value=1, max_value=60).flatmap(
    lambda n: st.tuples(
        st.lists(st.floats(0.0, 1.0, allow_nan=False), min_size=n, max_size=n),
        st.lists(st.integers(0, 1), min_size=n, max_size=n),
    )
)
threshold_lists = st.lists(st.floats(0.0, 1.0, allow_nan=False), min_size=1, max_size=12, unique=True)


@settings(max_examples=25, deadline=None)
@given(scores_labels, st.lists(st.floats(0.0, 1.0, allow_nan=False), min_size=1, max_size=5, unique=True))
def test_hypothesis_oracle_agrees(data, thresholds) -> None:
    scores, labels = np.array(data[0]), np.array(data[1])
    for row in sweep(data[0], data[1], thresholds):
        want = _oracle(scores, labels, row.threshold)
        for key, value in want.items():
            assert getattr(row, key) == pytest.approx(value, abs=1e-12)


# ---------------------------------------------------------------------------------------------------------
# Properties


@settings(max_examples=200, deadline=None)
@given(scores_labels, threshold_lists, st.randoms(use_true_random=False))
def test_sweep_properties(data, thresholds, rnd: random.Random) -> None:
    scores, labels = data
    n, n_pos = len(labels), sum(labels)
    rows = sweep(scores, labels, thresholds)
    assert [r.threshold for r in rows] == sorted(thresholds)
    for row in rows:
        assert row.tp + row.fp + row.tn + row.fn == n
        assert row.tp + row.fn == n_pos
        assert row == ThresholdRow.from_counts(row.threshold, row.tp, row.fp, row.tn, row.fn)
        if row.precision > 0 and row.recall > 0:
            for fb in (row.f1, row.f2, row.f2_5):
                assert min(row.precision, row.recall) - 1e-12 <= fb <= max(row.precision, row.recall) + 1e-12
    for lo, hi in zip(rows, rows[1:], strict=False):
        assert hi.kept <= lo.kept
        assert hi.recall <= lo.recall
        assert hi.compression >= lo.compression
    shuffled = list(thresholds)
    rnd.shuffle(shuffled)
    assert sweep(scores, labels, shuffled) == rows
    # each row depends on its own threshold only
    by_t = {r.threshold: r for r in rows}
    for t in shuffled[:3]:
        assert sweep(scores, labels, [t]) == [by_t[t]]


@settings(max_examples=100, deadline=None)
@given(
    # real rates are ratios of counts: zero, or at least 1/N (no subnormal floats)
    st.one_of(st.just(0.0), st.floats(1e-9, 1.0)),
    st.one_of(st.just(0.0), st.floats(1e-9, 1.0)),
    st.floats(0.1, 10.0),
)
def test_f_beta_between_precision_and_recall(p: float, r: float, beta: float) -> None:
    value = f_beta(p, r, beta)
    if p > 0 and r > 0:
        assert min(p, r) * (1 - 1e-12) <= value <= max(p, r) * (1 + 1e-12)
    else:
        assert value == 0.0
    assert not math.isnan(value)


@settings(max_examples=100, deadline=None)
@given(scores_labels, threshold_lists, st.sampled_from([0.0, 0.5, 0.9, 0.99, 1.0]))
def test_recall_floor_picks_the_best_row_that_keeps_enough(data, thresholds, floor: float) -> None:
    rows = sweep(data[0], data[1], thresholds)
    pick = best_row_with_min_recall(rows, floor)
    eligible = [r for r in rows if r.recall >= floor]
    if not eligible:
        assert pick is None
        return
    assert pick in eligible and pick.recall >= floor
    assert all(pick.f2_5 >= r.f2_5 for r in eligible)
    if floor == 0.0:
        assert pick == best_row(rows)


def test_recall_floor_on_the_seed_counts() -> None:
    rows = [ThresholdRow.from_counts(r.threshold, r.tp, r.fp, r.tn, r.fn) for r in SEED.rows]
    assert best_row_with_min_recall(rows, 0.99).threshold == 0.3  # the seed's best is above the floor
    assert best_row_with_min_recall(rows, 1.0).threshold == 0.2  # FN 0 at 0.1 and 0.2; 0.2 has the higher F2.5
    assert best_row_with_min_recall(rows[3:], 0.99) is None
    with pytest.raises(PruningError, match="minimum recall must lie in"):
        best_row_with_min_recall(rows, 1.5)
