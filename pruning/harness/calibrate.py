"""Calibrated baselines: expected values and bands from the spread of repeated runs of one configuration.

A captured baseline holds one run and fixed bands; on a GPU two runs of one config and seed differ (atomics,
kernel choice), by an amount only repeated runs can tell. `calibrate` takes n >= 3 finished runs of one config
(same seed, or other seeds too) and writes a baseline whose expected values are the runs' means and whose band
for each kind of check is

    band = max(floor, k × spread)

- spread: the largest sample standard deviation, over the runs, among the quantities that kind of check reads
  (relative to the mean for the loss bands): every threshold row's F2.5 / FN / recall at the best thresholds the
  runs chose, every confusion cell, every per-context score, each final and logged eval loss component.
- k: the two-sided 99 % prediction factor for one new run given n runs, t(0.995, n−1) × √(1 + 1/n): a new run of
  the same process falls outside mean ± k × σ̂ once in a hundred checks of one quantity. It is large for few
  runs (11.5 for 3, 5.0 for 5, 3.4 for 10), because a spread measured on few runs is itself uncertain.
- floor: float noise that is no regression even where the n runs happened to agree exactly (CALIBRATION_FLOORS,
  the cpu_e2e tier's exact bands).

The baseline records how many runs it came from, their seeds and devices, k, the floors and each spread, so that
`compare` can state a difference in units of the spread ("Δ = 0.004 (1.3 σ)").
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from dataclasses import asdict
from typing import Any

from pruning.errors import PruningError
from pruning.harness.artefacts import LOSS_PARTS, RunArtifacts
from pruning.harness.baseline import Bands, _comparable_config, capture

MIN_RUNS = 3
#: t(0.995, dof): the 99 % two-sided Student-t quantile; a dof between two rows uses the smaller row (wider band).
T_995 = {1: 63.657, 2: 9.925, 3: 5.841, 4: 4.604, 5: 4.032, 6: 3.707, 7: 3.499, 8: 3.355, 9: 3.250, 10: 3.169}
T_995.update({12: 3.055, 15: 2.947, 20: 2.845, 30: 2.750, 60: 2.660, 120: 2.617})
T_995_NORMAL = 2.576
CALIBRATION_FLOORS = {
    "f2_5": 0.005,
    "fn": 1.0,
    "recall_drop": 0.005,
    "count": 1.0,
    "score_drift": 2e-3,
    "loss_rel": 2e-3,
    "trajectory_rel": 2e-3,
    "train_time_rel": 0.25,  # wall time depends on the machine's load more than on the run: not calibrated down
}
COUNT_FIELDS = ("tp", "fp", "tn", "fn")


def prediction_factor(n_runs: int) -> float:
    """K = t(0.995, n−1) × √(1 + 1/n)."""
    if n_runs < 2:
        raise ValueError(f"prediction_factor: needs at least 2 runs, got {n_runs}")
    dof = n_runs - 1
    below = [d for d in T_995 if d <= dof]
    t = T_995_NORMAL if dof > max(T_995) else T_995[max(below)]
    return t * math.sqrt(1 + 1 / n_runs)


def _mean_sd(values: list[Any]) -> tuple[float, float]:  # numbers, checked by the callers
    return statistics.fmean(values), statistics.stdev(values)


def _same(runs: list[RunArtifacts], what: str, get) -> Any:
    """The value `get(run)` all runs share; a run that differs is a named error."""
    first = get(runs[0])
    for run in runs[1:]:
        if get(run) != first:
            raise PruningError(f"{run.run_dir}: {what} differs from {runs[0].run_dir}'s; calibrate one configuration")
    return first


def _config_without_seed(run: RunArtifacts) -> Any:
    config = _comparable_config(run.summary.get("config"), drop_paths=True)
    if isinstance(config, dict):
        config = {**config, "training_args": {k: v for k, v in config["training_args"].items() if k != "seed"}}
    return config


def _check_runs(runs: list[RunArtifacts]) -> None:
    if len(runs) < MIN_RUNS:
        raise PruningError(f"calibrate needs at least {MIN_RUNS} runs to measure a spread, got {len(runs)}")
    _same(runs, "the config (seed and paths aside)", _config_without_seed)
    _same(runs, "the evaluated data files", lambda r: sorted(r.evaluations))
    for name in runs[0].evaluations:
        _same(
            runs,
            f"{name}: the threshold grid",
            lambda r, n=name: [t["threshold"] for t in r.evaluations[n]["thresholds"]],
        )
        _same(runs, f"{name}: the best-threshold metric", lambda r, n=name: r.evaluations[n]["best"]["metric"])
        _same(
            runs,
            f"{name}: the items (queries and context counts)",
            lambda r, n=name: [(it["query"], len(it["scores"])) for it in r.evaluations[n]["items"]],
        )
    _same(runs, "the logged eval steps", lambda r: [p["step"] for p in r.eval_trajectory()])


class _Spread:
    """The largest standard deviation seen per band kind."""

    def __init__(self) -> None:
        self.by_kind: dict[str, float] = {}

    def add(self, kind: str, values: list[Any], relative: bool = False) -> float:
        mean, sd = _mean_sd(values)
        if relative:
            sd = sd / abs(mean) if mean else 0.0
        self.by_kind[kind] = max(self.by_kind.get(kind, 0.0), sd)
        return mean


def _calibrate_evaluation(results: list[dict[str, Any]], spread: _Spread) -> dict[str, Any]:
    """Mean threshold rows and scores of one data file; the best thresholds the runs chose, the most common first."""
    chosen = Counter(r["best"]["threshold"] for r in results)
    seen = sorted(chosen, key=lambda t: (-chosen[t], [r["best"]["threshold"] for r in results].index(t)))
    rows = []
    for i, row in enumerate(results[0]["thresholds"]):
        column = [r["thresholds"][i] for r in results]
        mean_row = {"threshold": row["threshold"]}
        for key in row:
            if key == "threshold":
                continue
            values = [float(c[key]) for c in column]
            if key in COUNT_FIELDS:
                mean_row[key] = spread.add("count", values)
            else:
                mean_row[key] = statistics.fmean(values)
            if row["threshold"] in seen and key in ("f2_5", "fn", "recall"):
                spread.add("recall_drop" if key == "recall" else key, values)
        rows.append(mean_row)
    items = []
    for j, item in enumerate(results[0]["items"]):
        scores = [
            spread.add("score_drift", [r["items"][j]["scores"][c] for r in results]) for c in range(len(item["scores"]))
        ]
        items.append({"query": item["query"], "scores": scores})
    best = {"metric": results[0]["best"]["metric"], "threshold": seen[0], "seen": seen}
    return {"thresholds": rows, "best": best, "items": items}


def _mean_losses(runs: list[RunArtifacts], group: str, spread: _Spread) -> dict[str, float] | None:
    groups = [r.summary.get(group) or {} for r in runs]
    out = {}
    for part in LOSS_PARTS:
        values = [g.get(part) for g in groups]
        if all(isinstance(v, int | float) for v in values):
            out[part] = spread.add("loss_rel", values, relative=True)
    return out or None


def _mean_trajectory(runs: list[RunArtifacts], spread: _Spread) -> list[dict[str, Any]]:
    trajectories = [r.eval_trajectory() for r in runs]
    points = []
    for i, point in enumerate(trajectories[0]):
        mean_point: dict[str, Any] = {"step": point["step"]}
        for part in LOSS_PARTS:
            values = [t[i].get(part) for t in trajectories]
            if all(isinstance(v, int | float) for v in values):
                mean_point[part] = spread.add("trajectory_rel", values, relative=True)
        points.append(mean_point)
    return points


def calibrate(runs: list[RunArtifacts], k: float | None = None) -> dict[str, Any]:
    """A baseline (JSON-able dict, the captured layout plus `calibration`) from n >= 3 runs of one config."""
    _check_runs(runs)
    k = prediction_factor(len(runs)) if k is None else k
    if not k > 0:
        raise PruningError(f"calibrate: k must be > 0, got {k}")
    spread = _Spread()
    baseline = capture(runs[0])
    baseline["kind"] = "calibrated"
    baseline["captured_from"] = [str(r.run_dir) for r in runs]
    baseline["evaluations"] = {
        name: _calibrate_evaluation([r.evaluations[name] for r in runs], spread) for name in runs[0].evaluations
    }
    baseline["final_train"] = _mean_losses(runs, "final_train", spread)
    baseline["final_eval"] = _mean_losses(runs, "final_eval", spread)
    baseline["eval_trajectory"] = _mean_trajectory(runs, spread)
    seconds = [r.summary.get("train_seconds") for r in runs]
    time_sd = None
    if all(isinstance(s, int | float) for s in seconds):
        baseline["train_seconds"], time_sd = _mean_sd(seconds)
    bands = {kind: max(floor, k * spread.by_kind.get(kind, 0.0)) for kind, floor in CALIBRATION_FLOORS.items()}
    bands["train_time_rel"] = CALIBRATION_FLOORS["train_time_rel"]
    bands_obj = Bands(**bands, train_time_abs=None if time_sd is None else k * time_sd)
    baseline["bands"] = asdict(bands_obj)
    baseline["calibration"] = {
        "runs": len(runs),
        "seeds": [r.summary.get("seed") for r in runs],
        "devices": [r.summary.get("device") for r in runs],
        "formula": "band = max(floor, k × spread); spread = largest sample standard deviation of the kind",
        "k": k,
        "floors": dict(CALIBRATION_FLOORS),
        "spread": {kind: spread.by_kind.get(kind, 0.0) for kind in CALIBRATION_FLOORS if kind != "train_time_rel"}
        | ({"train_seconds": time_sd} if time_sd is not None else {}),
    }
    return baseline
