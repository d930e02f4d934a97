"""Baselines: captured from a finished run or made from the user's seed numbers, with their tolerance bands."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pruning.errors import PruningError
from pruning.evaluate.seed_baseline import SeedBaseline
from pruning.harness.artefacts import (
    LOSS_PARTS,
    RunArtifacts,
    _check_numbers,
    _check_result_shape,
    _check_setup_shape,
    _is_number,
    _read_json,
)

SCHEMA_VERSION = 1
#: The top-level fields a baseline may hold: capture's, plus `calibration` from `pruning-baseline calibrate`.
BASELINE_FIELDS = (
    "schema_version",
    "kind",
    "captured_from",
    "captured_at",
    "config_file",
    "device",
    "precision",
    "versions",
    "code",
    "config",
    "data_files",
    "seed",
    "train_seconds",
    "final_train",
    "final_eval",
    "eval_trajectory",
    "evaluations",
    "bands",
    "calibration",
)
#: The fields a captured or calibrated baseline must hold (null where the run recorded none): a deleted one would
#: silently check less. `code` may be absent (captured from a run before it was recorded: its row says so).
REQUIRED_FIELDS = tuple(f for f in BASELINE_FIELDS if f not in ("code", "calibration"))
#: A seed baseline saved as JSON records only what the user's document holds (the setup rows say so).
SEED_FIELDS = (
    "schema_version",
    "kind",
    "captured_from",
    "seed",
    "train_seconds",
    "final_train",
    "final_eval",
    "eval_trajectory",
    "evaluations",
    "bands",
)


@dataclass
class Bands:
    """Tolerances. None: the check is reported (info) but cannot fail."""

    f2_5: float | None = 0.01
    fn: float | None = 2
    recall_min: float | None = None  # absolute floor; None: expected recall - recall_drop
    recall_drop: float | None = 0.01
    count: float | None = 2  # every confusion cell of every threshold row
    train_time_rel: float | None = 0.25  # a slowdown beyond this fails; a speed-up is reported
    train_time_abs: float | None = None  # absolute seconds (the seed's 120 s ± 30 s)
    loss_rel: float | None = 0.05  # final train / eval loss components
    trajectory_rel: float | None = 0.10  # each logged eval-loss point
    trajectory_abs: float | None = None
    score_drift: float | None = 0.05  # per-context score |Δ| (the seed's rule)

    @classmethod
    def from_dict(cls, raw: dict[str, Any], where: str) -> Bands:
        known = {f for f in cls.__dataclass_fields__}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise PruningError(f"{where}: unknown band {unknown[0]!r} (known: {', '.join(sorted(known))})")
        for key, value in raw.items():
            if value is not None and (not _is_number(value) or value < 0):
                raise PruningError(f"{where}: field 'bands.{key}': expected a number >= 0 or null, got {value!r}")
        return cls(**raw)


def capture(run: RunArtifacts, bands: Bands | None = None) -> dict[str, Any]:
    """A baseline (plain JSON-able dict) from a finished run."""
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": "captured",
        "captured_from": str(run.run_dir),
        "captured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "config_file": run.summary.get("config_file"),
        "device": run.summary.get("device"),
        "precision": run.summary.get("precision"),
        "versions": run.summary.get("versions"),
        **({"code": run.summary["code"]} if "code" in run.summary else {}),  # runs from before it was recorded
        "config": _comparable_config(run.summary.get("config")),
        "data_files": run.summary.get("data_files"),
        "seed": run.summary.get("seed"),
        "train_seconds": run.summary.get("train_seconds"),
        "final_train": run.summary.get("final_train"),
        "final_eval": run.summary.get("final_eval"),
        "eval_trajectory": run.eval_trajectory(),
        "evaluations": {
            name: {
                "thresholds": result["thresholds"],
                "best": result["best"],
                "items": [{"query": it["query"], "scores": it["scores"]} for it in result["items"]],
            }
            for name, result in run.evaluations.items()
        },
        "bands": asdict(bands or Bands()),
    }


def baseline_from_seed(seed: SeedBaseline) -> dict[str, Any]:
    """The user's recorded seed numbers in the captured-baseline layout (no per-context scores exist)."""
    acc = seed.acceptance
    rows = [r.as_dict() for r in seed.derived_rows()]
    t = seed.training
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": "seed (the user's recorded numbers)",
        "captured_from": seed.path,
        "seed": seed.provenance.seed,
        "train_seconds": acc.train_time_s.target,
        "final_train": None,
        "final_eval": None,
        "eval_trajectory": [
            {"step": t.eval_loss_first.step, "loss": t.eval_loss_first.loss},
            {"step": t.eval_loss_last.step, "loss": t.eval_loss_last.loss},
        ],
        "evaluations": {
            seed.dataset.file: {
                "thresholds": rows,
                "best": {"metric": acc.best_metric, "threshold": acc.best_threshold},
            }
        },
        "bands": asdict(
            Bands(
                f2_5=acc.f2_5.tolerance,
                fn=acc.fn.tolerance,
                recall_min=acc.recall_min,
                recall_drop=None,
                count=None,  # our evaluator scores exactly each context's tokens; the seed's was shifted
                train_time_rel=None,
                train_time_abs=acc.train_time_s.tolerance,
                loss_rel=None,
                trajectory_rel=0.25,
                score_drift=acc.score_drift_max,
            )
        ),
    }


def load_baseline(path: str | Path) -> dict[str, Any]:
    """A captured baseline (JSON), or the seed YAML (recognised by its header) converted."""
    path = Path(path)
    if path.suffix in (".yaml", ".yml"):
        from pruning.evaluate.seed_baseline import load_seed_baseline

        return baseline_from_seed(load_seed_baseline(path))
    baseline = _read_json(path)
    if not isinstance(baseline, dict) or baseline.get("schema_version") != SCHEMA_VERSION:
        raise PruningError(f"{path}: field 'schema_version': expected {SCHEMA_VERSION}")
    for key in SEED_FIELDS if str(baseline.get("kind", "")).startswith("seed") else REQUIRED_FIELDS:
        if key not in baseline:
            raise PruningError(f"{path}: field {key!r} missing (null if the run did not record it)")
    unknown = [key for key in baseline if key not in BASELINE_FIELDS]
    if unknown:
        raise PruningError(
            f"{path}: field {unknown[0]!r} is not a baseline field (known: {', '.join(BASELINE_FIELDS)})"
        )
    if not isinstance(baseline["evaluations"], dict):
        raise PruningError(f"{path}: field 'evaluations' must map data file names to results")
    for name, want in baseline["evaluations"].items():
        _check_result_shape(want, f"{path}: evaluations[{name!r}]", need_items=False)
    if not isinstance(baseline["bands"], dict):
        raise PruningError(f"{path}: field 'bands' must be an object")
    Bands.from_dict(baseline["bands"], str(path))
    _check_setup_shape(baseline, str(path))
    _check_numbers(baseline, str(path))
    calibration = baseline.get("calibration")
    spread = calibration.get("spread") if isinstance(calibration, dict) else None
    if calibration is not None and (
        not isinstance(spread, dict) or not all(v is None or _is_number(v) for v in spread.values())
    ):
        raise PruningError(f"{path}: field 'calibration.spread' must map band kinds to numbers")
    trajectory = baseline["eval_trajectory"]
    if not isinstance(trajectory, list) or any(
        not isinstance(p, dict)
        or not _is_number(p.get("step"))
        or any(p.get(k) is not None and not _is_number(p[k]) for k in LOSS_PARTS)
        for p in trajectory
    ):
        raise PruningError(f"{path}: field 'eval_trajectory' must be a list of {{'step', 'loss', ...}} numbers")
    return baseline


def _comparable_config(raw: Any, drop_paths: bool = False) -> Any:
    """The run's config without its output folder, which differs between any two runs; with `drop_paths`
    also without the data file paths (the training-data row compares their contents)."""
    if not isinstance(raw, dict):
        return raw
    out = {**raw, "training_args": {k: v for k, v in (raw.get("training_args") or {}).items() if k != "output_dir"}}
    if drop_paths and isinstance(raw.get("data_args"), dict):
        skip = ("train_files", "validation_files")
        out["data_args"] = {k: v for k, v in raw["data_args"].items() if k not in skip}
    return out
