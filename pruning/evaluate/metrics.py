"""Pure metric functions: confusion counts, precision/recall/F-beta, compression, threshold sweeps.

Conventions (those of the seed baseline): a context is *kept* when its score >= threshold, and "keep" is
the positive class. P = TP/(TP+FP), R = TP/(TP+FN), F_beta = (1+b^2)PR/(b^2 P + R),
compression = contexts removed / all contexts = (TN+FN)/N. Any zero denominator gives 0.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import NamedTuple

import numpy as np

from pruning.errors import PruningError

#: Names accepted by :func:`best_row` / :func:`best_threshold`, the default (primary) one first.
METRICS: tuple[str, ...] = ("f2_5", "f2", "f1", "precision", "recall", "accuracy")

_ALIASES = {"f2.5": "f2_5", "f25": "f2_5", "f_2.5": "f2_5", "f_2_5": "f2_5"}


class Confusion(NamedTuple):
    """Confusion counts with keep as the positive class."""

    tp: int
    fp: int
    tn: int
    fn: int


def _ratio(num: float, den: float) -> float:
    return float(num) / float(den) if den else 0.0


def accuracy(tp: int, fp: int, tn: int, fn: int) -> float:
    """(TP+TN)/N; 0 when N = 0."""
    return _ratio(tp + tn, tp + fp + tn + fn)


def precision(tp: int, fp: int) -> float:
    """TP/(TP+FP); 0 when nothing is kept."""
    return _ratio(tp, tp + fp)


def recall(tp: int, fn: int) -> float:
    """TP/(TP+FN); 0 when there is nothing to keep."""
    return _ratio(tp, tp + fn)


def f_beta(p: float, r: float, beta: float) -> float:
    """F-beta from precision and recall: (1+b^2)PR/(b^2 P + R); 0 when the denominator is 0."""
    if not (beta > 0 and math.isfinite(beta)):
        raise ValueError(f"beta must be a positive finite number, got {beta!r}")
    b2 = beta * beta
    return _ratio((1.0 + b2) * p * r, b2 * p + r)


def f1(p: float, r: float) -> float:
    """F1 (harmonic mean of precision and recall)."""
    return f_beta(p, r, 1.0)


def f2(p: float, r: float) -> float:
    """F2 (recall weighted 2x)."""
    return f_beta(p, r, 2.0)


def f2_5(p: float, r: float) -> float:
    """F2.5 (recall weighted 2.5x): the seed's primary metric."""
    return f_beta(p, r, 2.5)


def compression(tp: int, fp: int, tn: int, fn: int) -> float:
    """Share of contexts removed, (TN+FN)/N; 0 when N = 0."""
    return _ratio(tn + fn, tp + fp + tn + fn)


@dataclass(frozen=True)
class ThresholdRow:
    """All metrics of one threshold. Rates are fractions in [0, 1] (not percent)."""

    threshold: float
    tp: int
    fp: int
    tn: int
    fn: int
    accuracy: float
    precision: float
    recall: float
    f1: float
    f2: float
    f2_5: float
    compression: float

    @classmethod
    def from_counts(cls, threshold: float, tp: int, fp: int, tn: int, fn: int) -> ThresholdRow:
        """Derive every metric from the four counts (scalar path; the sweep computes the same vectorised)."""
        p, r = precision(tp, fp), recall(tp, fn)
        return cls(
            threshold=float(threshold),
            tp=int(tp),
            fp=int(fp),
            tn=int(tn),
            fn=int(fn),
            accuracy=accuracy(tp, fp, tn, fn),
            precision=p,
            recall=r,
            f1=f1(p, r),
            f2=f2(p, r),
            f2_5=f2_5(p, r),
            compression=compression(tp, fp, tn, fn),
        )

    @property
    def n(self) -> int:
        """Number of contexts."""
        return self.tp + self.fp + self.tn + self.fn

    @property
    def kept(self) -> int:
        """Number of contexts kept at this threshold."""
        return self.tp + self.fp

    def as_dict(self) -> dict[str, float | int]:
        """Plain dict in field order (the JSON row schema)."""
        return asdict(self)


def _as_arrays(scores: Iterable[float], labels: Iterable[int]) -> tuple[np.ndarray, np.ndarray]:
    s = np.asarray(list(scores), dtype=np.float64)
    y = np.asarray(list(labels))
    if s.ndim != 1 or y.ndim != 1 or s.shape != y.shape:
        raise ValueError(f"scores and labels must be flat and of equal length, got {s.shape} and {y.shape}")
    if not np.all(np.isfinite(s)):
        raise ValueError("scores must be finite numbers")
    if y.size and not np.all((y == 0) | (y == 1)):
        raise ValueError("labels must be 0 or 1")
    return s, y.astype(bool)


def _check_thresholds(thresholds: Iterable[float]) -> np.ndarray:
    t = np.asarray(list(thresholds), dtype=np.float64)
    if t.ndim != 1 or t.size == 0:
        raise ValueError("at least one threshold is needed")
    if not np.all(np.isfinite(t)):
        raise ValueError("thresholds must be finite numbers")
    if np.unique(t).size != t.size:
        raise ValueError("thresholds must be distinct")
    return t


def confusion_counts(scores: Sequence[float], labels: Sequence[int], threshold: float) -> Confusion:
    """Counts at one threshold: a context is kept when score >= threshold."""
    s, y = _as_arrays(scores, labels)
    keep = s >= threshold
    return Confusion(
        tp=int(np.sum(keep & y)), fp=int(np.sum(keep & ~y)), tn=int(np.sum(~keep & ~y)), fn=int(np.sum(~keep & y))
    )


def _safe_div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    out = np.zeros(np.broadcast(num, den).shape, dtype=np.float64)
    np.divide(num, den, out=out, where=den != 0)
    return out


def precision_recall_fbeta(
    tp: np.ndarray, fp: np.ndarray, fn: np.ndarray, beta: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vectorised precision, recall and F-beta from arrays of counts (any zero denominator gives 0)."""
    tp, fp, fn = (np.asarray(a, dtype=np.float64) for a in (tp, fp, fn))
    p, r = _safe_div(tp, tp + fp), _safe_div(tp, tp + fn)
    b2 = beta * beta
    return p, r, _safe_div((1.0 + b2) * p * r, b2 * p + r)


def sweep(scores: Iterable[float], labels: Iterable[int], thresholds: Iterable[float]) -> list[ThresholdRow]:
    """Metrics at every threshold, rows in ascending threshold order.

    Vectorised: the counts come from binary searches in the sorted positive and negative scores, so every
    row depends only on its own threshold (the order of `thresholds` changes nothing). Thresholds must be
    finite and distinct; scores finite; labels 0/1 — otherwise ValueError.
    """
    s, y = _as_arrays(scores, labels)
    t = np.sort(_check_thresholds(thresholds))
    pos = np.sort(s[y])
    neg = np.sort(s[~y])
    # side="left" counts the scores strictly below t: exactly the ones that are removed (score < t).
    fn = np.searchsorted(pos, t, side="left").astype(np.int64)
    tn = np.searchsorted(neg, t, side="left").astype(np.int64)
    tp = pos.size - fn
    fp = neg.size - tn
    n = np.full(t.shape, s.size, dtype=np.int64)

    acc = _safe_div((tp + tn).astype(np.float64), n)
    p = _safe_div(tp.astype(np.float64), (tp + fp).astype(np.float64))
    r = _safe_div(tp.astype(np.float64), (tp + fn).astype(np.float64))
    comp = _safe_div((tn + fn).astype(np.float64), n)

    def fb(beta: float) -> np.ndarray:
        b2 = beta * beta
        return _safe_div((1.0 + b2) * p * r, b2 * p + r)

    f1s, f2s, f25s = fb(1.0), fb(2.0), fb(2.5)
    return [
        ThresholdRow(
            threshold=float(t[i]),
            tp=int(tp[i]),
            fp=int(fp[i]),
            tn=int(tn[i]),
            fn=int(fn[i]),
            accuracy=float(acc[i]),
            precision=float(p[i]),
            recall=float(r[i]),
            f1=float(f1s[i]),
            f2=float(f2s[i]),
            f2_5=float(f25s[i]),
            compression=float(comp[i]),
        )
        for i in range(t.size)
    ]


def normalize_metric(name: str) -> str:
    """Map a user-facing metric name ('F2.5', 'f2_5', 'recall', ...) onto one of METRICS."""
    key = name.strip().lower().replace("-", "_")
    key = _ALIASES.get(key, key)
    if key not in METRICS:
        raise PruningError(f"unknown metric {name!r}; choose one of: {', '.join(METRICS)} (f2.5 = f2_5)")
    return key


def best_row(rows: Sequence[ThresholdRow], metric: str = "f2_5") -> ThresholdRow:
    """The row that maximises `metric`; on ties the lowest threshold (it keeps more, the safer choice)."""
    key = normalize_metric(metric)
    if not rows:
        raise ValueError("no rows to choose from")
    return min(rows, key=lambda row: (-getattr(row, key), row.threshold))


def best_row_with_min_recall(
    rows: Sequence[ThresholdRow], min_recall: float, metric: str = "f2_5"
) -> ThresholdRow | None:
    """:func:`best_row` among the rows whose recall is at least `min_recall`; None when no row reaches it."""
    if not 0.0 <= min_recall <= 1.0:
        raise PruningError(f"minimum recall must lie in [0, 1], got {min_recall}")
    eligible = [row for row in rows if row.recall >= min_recall]
    return best_row(eligible, metric) if eligible else None


def best_threshold(rows: Sequence[ThresholdRow], metric: str = "f2_5") -> float:
    """Threshold of :func:`best_row`."""
    return best_row(rows, metric).threshold


def keep_everything_row(labels: Iterable[int]) -> ThresholdRow:
    """The yardstick of keeping every context (threshold 0): recall 1, precision = share of keep labels."""
    y = [int(v) for v in labels]
    n_keep = sum(y)
    return ThresholdRow.from_counts(0.0, n_keep, len(y) - n_keep, 0, 0)
