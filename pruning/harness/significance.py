"""Is a change real? A paired bootstrap over queries of ΔF2.5, Δrecall and ΔFN between two scorings of one file.

Both scorings keep a context when its score >= the threshold. Each resample draws the file's queries with
replacement (the contexts of a query stay together, since they share the query and its passage), and both sides
are scored on the same draw, so the interval is of the *paired* difference: what the change did, with the noise of
which queries happened to be in the file. Vectorised: one multinomial draw of how often each query is taken, then
one matrix product of those weights with the per-query confusion counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from pruning.evaluate.metrics import precision_recall_fbeta

RESAMPLES = 2000
SEED = 20250730  # fixed: the same two runs always get the same interval
LEVEL = 0.95
WITHIN_NOISE, SIGNIFICANT = "within noise", "significant"


@dataclass(frozen=True)
class Interval:
    """The observed difference (run − baseline) and its bootstrap percentile interval."""

    delta: float
    low: float
    high: float

    @property
    def excludes_zero(self) -> bool:
        return self.low > 0 or self.high < 0


@dataclass(frozen=True)
class Significance:
    """The paired bootstrap of one evaluation at one threshold."""

    threshold: float
    queries: int
    resamples: int
    seed: int
    level: float
    f2_5: Interval
    recall: Interval
    fn: Interval

    @property
    def changed(self) -> list[str]:
        """The metrics whose interval excludes 0."""
        return [name for name in ("f2_5", "recall", "fn") if getattr(self, name).excludes_zero]

    @property
    def verdict(self) -> str:
        return SIGNIFICANT if self.changed else WITHIN_NOISE

    def summary(self) -> str:
        """'ΔF2.5 +0.0040 [-0.0031, +0.0112]; Δrecall …; ΔFN +1 [+0, +3]'."""
        f, r, n = self.f2_5, self.recall, self.fn
        return (
            f"ΔF2.5 {f.delta:+.4f} [{f.low:+.4f}, {f.high:+.4f}]; "
            f"Δrecall {r.delta:+.4f} [{r.low:+.4f}, {r.high:+.4f}]; "
            f"ΔFN {n.delta:+.0f} [{n.low:+.0f}, {n.high:+.0f}]"
        )

    def as_dict(self) -> dict:
        return {**asdict(self), "verdict": self.verdict, "changed": self.changed}


def _query_counts(labels: Sequence[Sequence[int]], scores: Sequence[Sequence[float]], threshold: float) -> np.ndarray:
    """Per-query (TP, FP, FN) at `threshold`: an array of shape (queries, 3)."""
    lengths = [len(item) for item in labels]
    if [len(s) for s in scores] != lengths:
        raise ValueError("the two sides must score the same contexts of the same queries")
    query = np.repeat(np.arange(len(lengths)), lengths)
    y = np.fromiter((v for item in labels for v in item), dtype=bool, count=int(sum(lengths)))
    keep = np.fromiter((v for item in scores for v in item), dtype=np.float64, count=y.size) >= threshold
    n = len(lengths)
    return np.stack(
        [np.bincount(query, weights=w, minlength=n) for w in (keep & y, keep & ~y, ~keep & y)],
        axis=1,
    )


def _metrics(totals: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """F2.5, recall and FN of count totals of shape (..., 3)."""
    tp, fp, fn = totals[..., 0], totals[..., 1], totals[..., 2]
    _, r, f = precision_recall_fbeta(tp, fp, fn, 2.5)
    return f, r, fn


def paired_bootstrap(
    labels: Sequence[Sequence[int]],
    run_scores: Sequence[Sequence[float]],
    baseline_scores: Sequence[Sequence[float]],
    threshold: float,
    resamples: int = RESAMPLES,
    seed: int = SEED,
    level: float = LEVEL,
) -> Significance:
    """The run's change against the baseline at `threshold`, with `level` percentile intervals.

    `labels` and both score lists are aligned per query (item) and per context.
    """
    if not labels:
        raise ValueError("no queries to resample")
    if resamples < 1 or not 0 < level < 1:
        raise ValueError(f"need resamples >= 1 and 0 < level < 1, got {resamples} and {level}")
    run, base = _query_counts(labels, run_scores, threshold), _query_counts(labels, baseline_scores, threshold)
    n = len(labels)
    weights = np.random.default_rng(seed).multinomial(n, np.full(n, 1.0 / n), size=resamples).astype(np.float64)
    observed = [a - b for a, b in zip(_metrics(run.sum(axis=0)), _metrics(base.sum(axis=0)), strict=True)]
    drawn = [a - b for a, b in zip(_metrics(weights @ run), _metrics(weights @ base), strict=True)]
    tail = (1 - level) / 2
    intervals = [
        Interval(float(obs), *(float(q) for q in np.quantile(d, [tail, 1 - tail])))
        for obs, d in zip(observed, drawn, strict=True)
    ]
    return Significance(float(threshold), n, resamples, seed, level, *intervals)
