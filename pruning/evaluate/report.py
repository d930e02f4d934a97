"""Evaluation results: the stable JSON result schema, its text / markdown / JSON renderings, score files.

Result schema (a plain dict, written as JSON by ``pruning-exec --output-json``)::

    {
      "data": str,                # the evaluation file, as given
      "n_queries": int,
      "n_contexts": int,
      "n_keep": int,              # contexts labelled 1
      "thresholds": [             # ascending threshold order
        {"threshold": float, "tp": int, "fp": int, "tn": int, "fn": int,
         "accuracy": float, "precision": float, "recall": float,
         "f1": float, "f2": float, "f2_5": float, "compression": float}
      ],
      "best": {"metric": str, "threshold": float},   # metric is one of pruning.evaluate.metrics.METRICS
      "items": [{"query": str, "labels": [int], "scores": [float]}]   # aligned with the data file
    }

Optional, when a recall floor is asked for (``pruning-exec --min-recall R``)::

      "best_with_min_recall": {"metric": str, "min_recall": float, "threshold": float | null}
      # the best threshold by metric among those with recall >= min_recall; null when none reaches it

and with ``pruning-exec --diagnose`` (pruning.evaluate.diagnostics)::

      "diagnostics": {"item_auc": float | null, "within_item_auc": float | null, "items_with_both_labels": int,
                      "items_with_relevant": int,
                      "best_over_every_score": row,                          # every observed score a threshold
                      "min_recall": float, "best_over_every_score_with_min_recall": row | null,  # with --min-recall
                      "hardest_items": [{"index", "query", "relevant",
                      "lowest_relevant_score", "mean_score", "place_by_mean"}]}

Rates are fractions in [0, 1] (percent only in renderings). Keep = positive; a context is kept when
score >= threshold; compression = (TN+FN)/N. These keys are stable; callers may add top-level keys of
their own (e.g. "model", "input_format", "ranking_scores", "timing", "scores_file"), and readers must
ignore keys they do not know.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Sequence
from os import PathLike
from typing import TYPE_CHECKING, Any

from pruning.data.eval_files import EvalItem, read_json_file
from pruning.errors import PruningError
from pruning.evaluate.metrics import (
    ThresholdRow,
    best_row,
    best_row_with_min_recall,
    keep_everything_row,
    normalize_metric,
    sweep,
)

if TYPE_CHECKING:
    from pruning.evaluate.seed_baseline import SeedBaseline

logger = logging.getLogger(__name__)

RESULT_KEYS = ("data", "n_queries", "n_contexts", "n_keep", "thresholds", "best", "items")
OPTIONAL_KEYS = ("best_with_min_recall", "diagnostics")
ROW_KEYS = tuple(ThresholdRow.__dataclass_fields__)

_METRIC_LABELS = {
    "f2_5": "F2.5",
    "f2": "F2",
    "f1": "F1",
    "precision": "precision",
    "recall": "recall",
    "accuracy": "accuracy",
}


def _check_scores_shape(items: Sequence[EvalItem], scores: Sequence[Sequence[float]]) -> None:
    if len(scores) != len(items):
        raise ValueError(f"{len(scores)} score lists for {len(items)} items")
    for i, (item, s) in enumerate(zip(items, scores, strict=True)):
        if len(s) != len(item.contexts):
            raise ValueError(f"item {i}: {len(s)} scores for {len(item.contexts)} contexts")


def build_result(
    data_path: str | PathLike[str],
    items: Sequence[EvalItem],
    scores: Sequence[Sequence[float]],
    thresholds: Sequence[float],
    best_by: str = "f2_5",
    extra: dict[str, Any] | None = None,
    min_recall: float | None = None,
) -> dict[str, Any]:
    """Sweep `thresholds` over per-item `scores` (aligned with `items`) into the result schema above.

    `extra` adds caller-defined top-level keys; it may not replace the schema's own keys. `min_recall` adds
    ``best_with_min_recall``.
    """
    _check_scores_shape(items, scores)
    metric = normalize_metric(best_by)
    flat_scores = [float(v) for s in scores for v in s]
    flat_labels = [v for item in items for v in item.labels]
    rows = sweep(flat_scores, flat_labels, thresholds)
    best = best_row(rows, metric)
    result: dict[str, Any] = {
        "data": str(data_path),
        "n_queries": len(items),
        "n_contexts": len(flat_labels),
        "n_keep": sum(flat_labels),
        "thresholds": [row.as_dict() for row in rows],
        "best": {"metric": metric, "threshold": best.threshold},
        "items": [
            {"query": item.query, "labels": list(item.labels), "scores": [float(v) for v in s]}
            for item, s in zip(items, scores, strict=True)
        ],
    }
    if min_recall is not None:
        floor = best_row_with_min_recall(rows, min_recall, metric)
        result["best_with_min_recall"] = {
            "metric": metric,
            "min_recall": min_recall,
            "threshold": None if floor is None else floor.threshold,
        }
    if extra:
        clash = sorted(set(extra) & {*RESULT_KEYS, *OPTIONAL_KEYS})
        if clash:
            raise ValueError(f"extra keys may not replace schema keys: {clash}")
        result.update(extra)
    return result


def result_rows(result: dict[str, Any]) -> list[ThresholdRow]:
    """The result's threshold rows as ThresholdRow objects."""
    return [ThresholdRow(**{k: row[k] for k in ROW_KEYS}) for row in result["thresholds"]]


def _row_at(result: dict[str, Any], t: float) -> ThresholdRow:
    rows = result_rows(result)
    for row in rows:
        if row.threshold == t:
            return row
    raise ValueError(f"threshold {t} is not among the rows")


def _best(result: dict[str, Any]) -> ThresholdRow:
    return _row_at(result, result["best"]["threshold"])


def _floor_label(floor: dict[str, Any]) -> str:
    return f"{_METRIC_LABELS[floor['metric']]} with recall >= {floor['min_recall'] * 100:g} %"


def _fmt_t(t: float) -> str:
    """A threshold as short as it can be without losing digits (0.3, 0.25, 0.125)."""
    short = f"{t:g}"
    return short if float(short) == t else repr(t)


def render_threshold_block(row: ThresholdRow) -> str:
    """One threshold's totals, accuracy, P, R, F1, F2, F2.5 and confusion counts, as plain text."""
    return "\n".join(
        [
            f"threshold {_fmt_t(row.threshold)}",
            f"  kept {row.kept} / {row.n} contexts, removed {row.n - row.kept} "
            f"(compression {row.compression * 100:.2f} %)",
            f"  accuracy {row.accuracy * 100:.2f} %  precision {row.precision * 100:.2f} %  "
            f"recall {row.recall * 100:.2f} %",
            f"  F1 {row.f1:.4f}  F2 {row.f2:.4f}  F2.5 {row.f2_5:.4f}",
            f"  TP {row.tp}  FP {row.fp}  TN {row.tn}  FN {row.fn}",
        ]
    )


def _header_lines(result: dict[str, Any]) -> list[str]:
    n, keep = result["n_contexts"], result["n_keep"]
    share = keep / n * 100 if n else 0.0
    return [
        f"data: {result['data']}",
        f"queries: {result['n_queries']}  contexts: {n}  keep: {keep} ({share:.1f} %)  "
        f"delete: {n - keep} ({100 - share if n else 0.0:.1f} %)",
    ]


def _best_lines(result: dict[str, Any]) -> list[str]:
    """The best threshold by the metric, and on a line of its own the recall floor's choice (when asked for)."""
    metric = result["best"]["metric"]
    lines = [f"best threshold by {_METRIC_LABELS[metric]}: {_fmt_t(result['best']['threshold'])}"]
    floor = result.get("best_with_min_recall")
    if floor is not None:
        t = floor["threshold"]
        choice = "none of the thresholds" if t is None else _fmt_t(t)
        lines.append(f"best threshold by {_floor_label(floor)}: {choice}")
    return lines


def render_markdown_table(result: dict[str, Any]) -> str:
    """The seed document's table layout; the best row by the metric in bold (never the recall floor's)."""
    header = (
        "| threshold | precision % | recall % | F1 | F2 | F2.5 | TP | FP | TN | FN | compression % |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|"
    )
    best_t = result["best"]["threshold"]
    lines = [header]
    for row in result_rows(result):
        cells = [
            _fmt_t(row.threshold),
            f"{row.precision * 100:.2f}",
            f"{row.recall * 100:.2f}",
            f"{row.f1:.4f}",
            f"{row.f2:.4f}",
            f"{row.f2_5:.4f}",
            str(row.tp),
            str(row.fp),
            str(row.tn),
            str(row.fn),
            f"{row.compression * 100:.1f}",
        ]
        if row.threshold == best_t:
            cells = [f"**{c}**" for c in cells]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def render_markdown(result: dict[str, Any]) -> str:
    """Dataset line, the summary table and the best-threshold lines."""
    head = _header_lines(result)
    return "\n\n".join([*head, render_markdown_table(result), *(f"**{line}**" for line in _best_lines(result))])


def render_text(result: dict[str, Any]) -> str:
    """Dataset facts, one block per threshold, then the summary table and the best threshold."""
    parts = ["\n".join(_header_lines(result))]
    parts += [render_threshold_block(row) for row in result_rows(result)]
    parts += [render_markdown_table(result), "\n".join(_best_lines(result))]
    return "\n\n".join(parts)


def render_json(result: dict[str, Any]) -> str:
    """The result as indented UTF-8 JSON (non-ASCII kept as is)."""
    return json.dumps(result, ensure_ascii=False, indent=2)


def render_comparison(result: dict[str, Any], seed: SeedBaseline | None = None) -> str:
    """This run's best row beside the seed's recorded best row and the keep-everything yardstick.

    Seed numbers are derived from its recorded counts (so its compression reads 17.83 %, not the printed
    17.9 %). With `seed` None only the yardstick is shown. A note is added when the data differs from
    the seed's evaluation set.
    """
    metric = result["best"]["metric"]
    label = _METRIC_LABELS[metric]
    labels = [v for item in result["items"] for v in item["labels"]]
    keep_all = keep_everything_row(labels)

    def line(name: str, row: ThresholdRow, threshold: str) -> str:
        return (
            f"| {name} | {threshold} | {row.f2_5:.4f} | {row.fn} | {row.recall * 100:.2f} | "
            f"{row.precision * 100:.2f} | {row.compression * 100:.2f} |"
        )

    best = _best(result)
    lines = [
        "| | threshold | F2.5 | FN | recall % | precision % | compression % |",
        "|---|---|---|---|---|---|---|",
        line(f"this run (best by {label})", best, _fmt_t(best.threshold)),
    ]
    notes: list[str] = []
    floor = result.get("best_with_min_recall")
    if floor is not None:
        name = f"this run (best by {_floor_label(floor)})"
        if floor["threshold"] is None:
            lines.append(f"| {name} | none | - | - | - | - | - |")
            notes.append(f"note: no swept threshold keeps recall >= {floor['min_recall'] * 100:g} %.")
        else:
            row = _row_at(result, floor["threshold"])
            lines.append(line(name, row, _fmt_t(row.threshold)))
    if seed is not None:
        seed_best = seed.best(metric)
        lines.append(line(f"seed {seed.provenance.date} (recorded)", seed_best, _fmt_t(seed_best.threshold)))
        ds = seed.dataset
        if (result["n_queries"], result["n_contexts"], result["n_keep"]) != (ds.n_queries, ds.n_contexts, ds.n_keep):
            notes.append(
                f"note: the seed was measured on {ds.file} ({ds.n_queries} queries, {ds.n_contexts} contexts, "
                f"{ds.n_keep} keep); this data differs, so its row is not comparable."
            )
    lines.append(line("keep everything", keep_all, "-"))
    return "\n".join(lines + ([""] + notes if notes else []))


def _fail(name: str, where: str, msg: str) -> PruningError:
    return PruningError(f"{name}: {where}: {msg}")


def _is_score(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float) and math.isfinite(value) and 0 <= value <= 1


def read_scores_file(path: str | PathLike[str], items: Sequence[EvalItem]) -> list[list[float]]:
    """Per-item scores from a result file (its "items"; other fields ignored), checked against `items`.

    It must have as many items as the data file, the same query at each index, one score per context,
    and every score a finite number in [0, 1]; otherwise PruningError naming file, item and field.
    """
    name = str(path)
    data = read_json_file(path)
    if not isinstance(data, dict):
        raise _fail(name, "top level", f"expected an object with 'items', got {type(data).__name__}")
    if "items" not in data:
        raise _fail(name, "top level", "field 'items': missing")
    raw_items = data["items"]
    if not isinstance(raw_items, list):
        raise _fail(name, "top level", f"field 'items': expected a list, got {type(raw_items).__name__}")
    if len(raw_items) != len(items):
        raise _fail(name, "top level", f"field 'items': {len(raw_items)} items != {len(items)} in the data file")
    out: list[list[float]] = []
    for i, (raw, item) in enumerate(zip(raw_items, items, strict=True)):
        where = f"item {i}"
        if not isinstance(raw, dict):
            raise _fail(name, where, f"expected an object, got {type(raw).__name__}")
        if "query" not in raw:
            raise _fail(name, where, "field 'query': missing")
        if raw["query"] != item.query:
            raise _fail(name, where, f"field 'query': {str(raw['query'])[:40]!r} differs from the data file's")
        if "scores" not in raw:
            raise _fail(name, where, "field 'scores': missing")
        s = raw["scores"]
        if not isinstance(s, list):
            raise _fail(name, where, f"field 'scores': expected a list, got {type(s).__name__}")
        if len(s) != len(item.contexts):
            raise _fail(name, where, f"field 'scores': length {len(s)} != {len(item.contexts)} contexts")
        for j, v in enumerate(s):
            if not _is_score(v):
                raise _fail(name, where, f"field 'scores[{j}]': expected a finite number in [0, 1], got {v!r}")
        if "labels" in raw and raw["labels"] != item.labels:
            logger.warning("%s: item %d: labels differ from the data file's; the data file's are used", name, i)
        out.append([float(v) for v in s])
    return out
