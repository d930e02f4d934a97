"""Where a pruner's scores go wrong: item-level and within-item ranking quality, and the hardest items.

A sentence-level F-score mixes two abilities. *Item* ranking: does the passage as a whole score higher when it
holds something relevant (AUC of each item's mean score, items with a relevant context against items with
none)? *Within-item* ranking: inside one passage, do its relevant sentences score above its other sentences
(AUC per item with both kinds, averaged)? A recall floor is set by the relevant contexts that score lowest, so
the items that hold them are listed too. And since a sweep's best depends on the thresholds it tries, the best F2.5
over *every* observed score as a threshold (the finest sweep there is) is given, alone and with a recall floor.

AUC is the Mann-Whitney probability that a random positive outscores a random negative, ties counting half.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from pruning.evaluate.metrics import best_row, best_row_with_min_recall, sweep

__all__ = [
    "auc",
    "best_over_every_score",
    "diagnose",
    "hardest_items",
    "item_auc",
    "render_diagnostics",
    "within_item_auc",
]


def auc(positive: Sequence[float], negative: Sequence[float]) -> float | None:
    """P(positive > negative) + ½ P(tie); None when either side is empty."""
    pos, neg = np.asarray(positive, dtype=float), np.asarray(negative, dtype=float)
    if pos.size == 0 or neg.size == 0:
        return None
    neg = np.sort(neg)
    below = np.searchsorted(neg, pos, side="left")
    tied = np.searchsorted(neg, pos, side="right") - below
    return float((below.sum() + 0.5 * tied.sum()) / (pos.size * neg.size))


def item_auc(labels: Sequence[Sequence[int]], scores: Sequence[Sequence[float]]) -> float | None:
    """AUC of the items' mean scores: items with any relevant context against items with none."""
    means = [float(np.mean(s)) for s in scores]
    has = [any(lab) for lab in labels]
    return auc([m for m, h in zip(means, has, strict=True) if h], [m for m, h in zip(means, has, strict=True) if not h])


def within_item_auc(labels: Sequence[Sequence[int]], scores: Sequence[Sequence[float]]) -> tuple[float | None, int]:
    """Mean within-item AUC over the items that hold both relevant and other contexts, and how many those are."""
    values = []
    for lab, s in zip(labels, scores, strict=True):
        pos = [v for v, y in zip(s, lab, strict=True) if y]
        neg = [v for v, y in zip(s, lab, strict=True) if not y]
        value = auc(pos, neg)
        if value is not None:
            values.append(value)
    return (float(np.mean(values)) if values else None), len(values)


def hardest_items(
    queries: Sequence[str], labels: Sequence[Sequence[int]], scores: Sequence[Sequence[float]], n: int = 5
) -> list[dict[str, Any]]:
    """The n items whose lowest-scored relevant context scores lowest: what a recall floor has to reach.

    Each entry: index, query, relevant contexts, their lowest and the item's mean score, and the item's place
    among all items ordered by mean score (0 = lowest)."""
    means = np.asarray([float(np.mean(s)) for s in scores])
    place = np.empty(len(means), dtype=int)
    place[np.argsort(means, kind="stable")] = np.arange(len(means))
    entries = []
    for i, (lab, s) in enumerate(zip(labels, scores, strict=True)):
        relevant = [v for v, y in zip(s, lab, strict=True) if y]
        if relevant:
            entries.append((min(relevant), i, len(relevant)))
    entries.sort()
    return [
        {
            "index": i,
            "query": queries[i],
            "relevant": count,
            "lowest_relevant_score": round(lowest, 4),
            "mean_score": round(float(means[i]), 4),
            "place_by_mean": int(place[i]),
        }
        for lowest, i, count in entries[:n]
    ]


def best_over_every_score(
    labels: Sequence[Sequence[int]], scores: Sequence[Sequence[float]], min_recall: float | None = None
) -> dict[str, Any] | None:
    """The best-F2.5 row (pruning.evaluate.metrics schema) with every distinct observed score as a threshold,
    among those with recall >= `min_recall` when given (None when no threshold reaches it)."""
    flat_scores = [v for s in scores for v in s]
    flat_labels = [y for lab in labels for y in lab]
    rows = sweep(flat_scores, flat_labels, np.unique(np.asarray(flat_scores, dtype=np.float64)))
    row = best_row(rows) if min_recall is None else best_row_with_min_recall(rows, min_recall)
    return None if row is None else row.as_dict()


def diagnose(result: dict[str, Any], n_hardest: int = 5, min_recall: float | None = None) -> dict[str, Any]:
    """The diagnostics of an evaluation result (pruning.evaluate.report schema), as a JSON-ready dict; with
    `min_recall`, also the finest sweep's best at that recall floor."""
    queries = [it["query"] for it in result["items"]]
    labels = [it["labels"] for it in result["items"]]
    scores = [it["scores"] for it in result["items"]]
    within, n_mixed = within_item_auc(labels, scores)
    return {
        "item_auc": item_auc(labels, scores),
        "within_item_auc": within,
        "items_with_both_labels": n_mixed,
        "items_with_relevant": sum(1 for lab in labels if any(lab)),
        "best_over_every_score": best_over_every_score(labels, scores),
        **(
            {
                "min_recall": min_recall,
                "best_over_every_score_with_min_recall": best_over_every_score(labels, scores, min_recall),
            }
            if min_recall is not None
            else {}
        ),
        "hardest_items": hardest_items(queries, labels, scores, n_hardest),
    }


def render_diagnostics(diagnostics: dict[str, Any]) -> str:
    """Markdown: the two AUCs, then the hardest items as a table."""

    def fmt(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.3f}"

    def best(row: dict[str, Any] | None) -> str:
        if row is None:
            return "no threshold reaches it"
        return (
            f"F2.5 {row['f2_5']:.4f} at {row['threshold']:.4g} (FN {row['fn']}, recall {row['recall']:.2%}, "
            f"compression {row['compression']:.1%})"
        )

    lines = [
        f"item AUC (mean score; {diagnostics['items_with_relevant']} items with a relevant context): "
        f"{fmt(diagnostics['item_auc'])}  ",
        f"within-item AUC (mean over {diagnostics['items_with_both_labels']} items with both labels): "
        f"{fmt(diagnostics['within_item_auc'])}  ",
        f"best over every observed score: {best(diagnostics['best_over_every_score'])}",
    ]
    if "best_over_every_score_with_min_recall" in diagnostics:
        lines[-1] += "  "
        floor = diagnostics["min_recall"]
        lines.append(f"... with recall >= {floor:g}: {best(diagnostics['best_over_every_score_with_min_recall'])}")
    lines += [
        "",
        "| item | query | relevant | lowest relevant score | mean score | place by mean (0 = lowest) |",
        "|---|---|---|---|---|---|",
    ]
    for e in diagnostics["hardest_items"]:
        query = e["query"].replace("|", "\\|")
        lines.append(
            f"| {e['index']} | {query} | {e['relevant']} | {e['lowest_relevant_score']:.4f} | "
            f"{e['mean_score']:.4f} | {e['place_by_mean']} |"
        )
    return "\n".join(lines)
