"""What a finished run left behind (run_summary.json, log_history.json, eval/*.json), read and shape-checked."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pruning.errors import PruningError
from pruning.evaluate.metrics import ThresholdRow, normalize_metric

EVAL_DIR = "eval"
LOSS_PARTS = ("loss", "ranking_loss", "pruning_loss")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


ROW_FIELDS = tuple(ThresholdRow.__dataclass_fields__)


def _check_result_shape(result: Any, where: str, need_items: bool) -> None:
    """An evaluation (run result or baseline entry): threshold rows with every metric, a best threshold and
    metric, and per-context scores; a hand-edited file with a gap is a named error, not a crash mid-compare."""
    if not isinstance(result, dict):
        raise PruningError(f"{where}: expected an object, got {type(result).__name__}")
    rows = result.get("thresholds")
    if not isinstance(rows, list) or not rows:
        raise PruningError(f"{where}: field 'thresholds' must be a non-empty list of rows")
    for i, row in enumerate(rows):
        bad = [k for k in ROW_FIELDS if not isinstance(row, dict) or not _is_number(row.get(k))]
        if bad:
            raise PruningError(f"{where}: thresholds[{i}]: field {bad[0]!r} missing or not a number")
    best = result.get("best")
    if not isinstance(best, dict) or not isinstance(best.get("metric"), str) or not _is_number(best.get("threshold")):
        raise PruningError(f"{where}: field 'best' must be {{'metric': name, 'threshold': number}}, got {best!r}")
    normalize_metric(best["metric"])
    seen = best.get("seen")  # a calibrated baseline: every best threshold its runs chose
    if seen is not None and (not isinstance(seen, list) or not seen or not all(_is_number(t) for t in seen)):
        raise PruningError(f"{where}: field 'best.seen' must be a non-empty list of thresholds, got {seen!r}")
    items = result.get("items")
    if items is None and not need_items:
        return
    if not isinstance(items, list):
        raise PruningError(f"{where}: field 'items' must be a list")
    for i, item in enumerate(items):
        ok = (
            isinstance(item, dict)
            and isinstance(item.get("query"), str)
            and isinstance(item.get("scores"), list)
            and all(_is_number(v) for v in item["scores"])
        )
        if not ok:
            raise PruningError(f"{where}: items[{i}] must hold a 'query' string and a 'scores' list of numbers")


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PruningError(f"{path}: missing") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise PruningError(f"{path}: not valid JSON ({exc})") from None


@dataclass
class RunArtifacts:
    """What a finished run left behind."""

    run_dir: Path
    summary: dict[str, Any]
    history: list[dict[str, Any]]
    evaluations: dict[str, dict[str, Any]]  # data file name → pruning-exec result JSON

    def eval_trajectory(self) -> list[dict[str, float]]:
        points = []
        for h in self.history:
            if "eval_loss" in h and "step" in h:
                points.append({"step": h["step"], **{k: h.get(f"eval_{k}") for k in LOSS_PARTS}})
        # the final evaluate() repeats the last step's point; keep one point per step
        return list({p["step"]: p for p in points}.values())


def _check_setup_shape(record: dict[str, Any], where: str) -> None:
    """The provenance fields of a run summary or baseline, each optional (null), else of its recorded shape."""
    for key in ("device", "precision"):
        if record.get(key) is not None and not isinstance(record[key], str):
            raise PruningError(f"{where}: field {key!r} must be a string or null")
    for key in ("versions", "config"):
        if record.get(key) is not None and not isinstance(record[key], dict):
            raise PruningError(f"{where}: field {key!r} must be an object or null")
    code = record.get("code")
    if code is not None and not (isinstance(code, dict) and isinstance(code.get("commit"), str | None)):
        raise PruningError(f"{where}: field 'code' must be {{'commit': sha, 'dirty': bool}} or null")
    config = record.get("config") or {}
    # the argument groups are objects; the top-level `compat` preset is a name
    bad = [k for k, v in config.items() if v is not None and not isinstance(v, str if k == "compat" else dict)]
    if bad:
        kind = "a name" if bad[0] == "compat" else "an object"
        raise PruningError(f"{where}: field 'config.{bad[0]}' must be {kind}")
    files = record.get("data_files")
    ok = files is None or (
        isinstance(files, dict)
        and all(
            isinstance(entries, list) and all(isinstance(f, dict) and isinstance(f.get("sha256"), str) for f in entries)
            for entries in files.values()
        )
    )
    if not ok:
        raise PruningError(f"{where}: field 'data_files' must map splits to lists of {{'path', 'bytes', 'sha256'}}")


def _check_numbers(record: dict[str, Any], where: str) -> None:
    """The numbers a comparison reads from a run summary or baseline: `seed` an integer, `train_seconds` a number,
    `final_train` / `final_eval` objects of loss numbers; each may be null (not recorded), never another type."""
    seed = record.get("seed")
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
        raise PruningError(f"{where}: field 'seed' must be an integer or null, got {seed!r}")
    seconds = record.get("train_seconds")
    if seconds is not None and not _is_number(seconds):
        raise PruningError(f"{where}: field 'train_seconds' must be a number or null, got {seconds!r}")
    for group in ("final_train", "final_eval"):
        losses = record.get(group)
        if losses is None:
            continue
        if not isinstance(losses, dict):
            raise PruningError(f"{where}: field {group!r} must be an object of loss numbers or null, got {losses!r}")
        for part in LOSS_PARTS:
            if losses.get(part) is not None and not _is_number(losses[part]):
                raise PruningError(f"{where}: field '{group}.{part}' must be a number or null, got {losses[part]!r}")


def _check_history(history: Any, where: str) -> None:
    """The log entries a comparison reads: a list of objects whose step and eval losses are numbers (or null)."""
    if not isinstance(history, list) or not all(isinstance(h, dict) for h in history):
        raise PruningError(f"{where}: expected a list of log objects")
    for i, entry in enumerate(history):
        keys = ["step", *(f"eval_{k}" for k in LOSS_PARTS)] if "eval_loss" in entry else []
        bad = [k for k in keys if entry.get(k) is not None and not _is_number(entry[k])]
        if bad or (keys and not _is_number(entry.get("step"))):
            raise PruningError(f"{where}: entry {i}: field {(bad or ['step'])[0]!r} must be a number")


def load_run(run_dir: str | Path) -> RunArtifacts:
    """Read run_summary.json, log_history.json and every eval/*.json of a run directory."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise PruningError(f"{run_dir}: not a run directory")
    summary = _read_json(run_dir / "run_summary.json")
    if not isinstance(summary, dict):
        raise PruningError(f"{run_dir / 'run_summary.json'}: expected an object")
    _check_setup_shape(summary, str(run_dir / "run_summary.json"))
    _check_numbers(summary, str(run_dir / "run_summary.json"))
    history = _read_json(run_dir / "log_history.json")
    _check_history(history, str(run_dir / "log_history.json"))
    evaluations: dict[str, dict[str, Any]] = {}
    files: dict[str, str] = {}
    for path in sorted((run_dir / EVAL_DIR).glob("*.json")):
        result = _read_json(path)
        if not isinstance(result, dict) or not isinstance(result.get("data"), str):
            raise PruningError(f"{path}: field 'data' missing (not a pruning-exec result)")
        _check_result_shape(result, str(path), need_items=True)
        name = Path(result["data"]).name
        if name in evaluations:
            raise PruningError(
                f"{path}: evaluates {name} as {files[name]} does; keep one result per data file in {EVAL_DIR}/"
            )
        evaluations[name], files[name] = result, path.name
    return RunArtifacts(run_dir, summary, history, evaluations)
