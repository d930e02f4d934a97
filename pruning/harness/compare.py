"""The checking engine: compare a finished run with a baseline, check by check.

A run directory (written by `pruning-train`, then `pruning-exec --output-json RUN/eval/<data>.json`) holds
`run_summary.json`, `log_history.json` and `eval/*.json`. A baseline is either one captured from such a run
(`capture`, JSON) or the user's recorded seed numbers (`baseline_from_seed`). `compare` returns one `Check` per
expectation — obtained, expected, tolerance, status — so reports and tests read the same result.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pruning.errors import PruningError
from pruning.evaluate.metrics import ThresholdRow, best_threshold, normalize_metric
from pruning.evaluate.seed_baseline import SeedBaseline

SCHEMA_VERSION = 1
EVAL_DIR = "eval"
PASS, FAIL, INFO, SKIP = "pass", "FAIL", "info", "skip"
COUNT_FIELDS = ("tp", "fp", "tn", "fn")
LOSS_PARTS = ("loss", "ranking_loss", "pruning_loss")


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


@dataclass
class Check:
    """One comparison. `status` is pass / FAIL / info (reported, cannot fail) / skip (nothing to compare)."""

    name: str
    obtained: Any
    expected: Any
    tolerance: str
    status: str
    detail: str = ""


@dataclass
class Comparison:
    """All checks of one run against one baseline."""

    run_dir: str
    baseline: str
    checks: list[Check] = field(default_factory=list)

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if c.status == FAIL]

    @property
    def ok(self) -> bool:
        return not self.failed

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_dir": self.run_dir,
            "baseline": self.baseline,
            "ok": self.ok,
            "checks": [asdict(c) for c in self.checks],
        }


# ---- artefacts ---------------------------------------------------------------------------------------------


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
    bad = [k for k, v in config.items() if v is not None and not isinstance(v, dict)]
    if bad:
        raise PruningError(f"{where}: field 'config.{bad[0]}' must be an object")
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


def load_run(run_dir: str | Path) -> RunArtifacts:
    """Read run_summary.json, log_history.json and every eval/*.json of a run directory."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise PruningError(f"{run_dir}: not a run directory")
    summary = _read_json(run_dir / "run_summary.json")
    if not isinstance(summary, dict):
        raise PruningError(f"{run_dir / 'run_summary.json'}: expected an object")
    _check_setup_shape(summary, str(run_dir / "run_summary.json"))
    history = _read_json(run_dir / "log_history.json")
    evaluations, files = {}, {}
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


# ---- baselines ---------------------------------------------------------------------------------------------


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
    for key in ("evaluations", "bands", "eval_trajectory"):
        if key not in baseline:
            raise PruningError(f"{path}: field {key!r} missing")
    if not isinstance(baseline["evaluations"], dict):
        raise PruningError(f"{path}: field 'evaluations' must map data file names to results")
    for name, want in baseline["evaluations"].items():
        _check_result_shape(want, f"{path}: evaluations[{name!r}]", need_items=False)
    if not isinstance(baseline["bands"], dict):
        raise PruningError(f"{path}: field 'bands' must be an object")
    Bands.from_dict(baseline["bands"], str(path))
    _check_setup_shape(baseline, str(path))
    trajectory = baseline["eval_trajectory"]
    if not isinstance(trajectory, list) or any(
        not isinstance(p, dict)
        or not _is_number(p.get("step"))
        or any(p.get(k) is not None and not _is_number(p[k]) for k in LOSS_PARTS)
        for p in trajectory
    ):
        raise PruningError(f"{path}: field 'eval_trajectory' must be a list of {{'step', 'loss', ...}} numbers")
    return baseline


# ---- checks ------------------------------------------------------------------------------------------------


def _within(obtained: float, expected: float, tol: float | None) -> str:
    if tol is None:
        return INFO
    return PASS if abs(obtained - expected) <= tol + 1e-12 else FAIL


def _rel_tol(expected: float, rel: float | None, abs_: float | None) -> float | None:
    if rel is None and abs_ is None:
        return None
    return max(abs(expected) * (rel or 0.0), abs_ or 0.0)


def _tol_text(tol: float | None, prefix: str = "±") -> str:
    return "report only" if tol is None else f"{prefix}{tol:g}"


def _row_at(rows: list[dict[str, Any]], threshold: float) -> dict[str, Any] | None:
    return next((r for r in rows if math.isclose(r["threshold"], threshold, abs_tol=1e-9)), None)


def _check_evaluation(name: str, got: dict[str, Any], want: dict[str, Any], bands: Bands) -> list[Check]:
    checks = []
    best_t = want["best"]["threshold"]
    metric = normalize_metric(want["best"]["metric"])
    # the baseline's metric decides, whatever --best-by the run was evaluated with
    got_best = best_threshold([ThresholdRow(**{k: r[k] for k in ROW_FIELDS}) for r in got["thresholds"]], metric)
    checks.append(
        Check(
            f"{name}: best threshold by {metric}",
            got_best,
            best_t,
            "exact",
            PASS if math.isclose(got_best, best_t) else FAIL,
        )
    )
    g_row, w_row = _row_at(got["thresholds"], best_t), _row_at(want["thresholds"], best_t)
    if g_row is None:
        checks.append(Check(f"{name}: row at {best_t:g}", None, best_t, "present", FAIL, "threshold not swept"))
        return checks
    checks.append(
        Check(
            f"{name}: F2.5 at {best_t:g}",
            round(g_row["f2_5"], 4),
            round(w_row["f2_5"], 4),
            _tol_text(bands.f2_5),
            _within(g_row["f2_5"], w_row["f2_5"], bands.f2_5),
        )
    )
    checks.append(
        Check(
            f"{name}: FN at {best_t:g}",
            g_row["fn"],
            w_row["fn"],
            _tol_text(bands.fn),
            _within(g_row["fn"], w_row["fn"], bands.fn),
        )
    )
    floor = bands.recall_min
    if floor is None and bands.recall_drop is not None:
        floor = w_row["recall"] - bands.recall_drop
    status = INFO if floor is None else (PASS if g_row["recall"] >= floor - 1e-12 else FAIL)
    checks.append(
        Check(
            f"{name}: recall at {best_t:g}",
            round(g_row["recall"], 4),
            round(w_row["recall"], 4),
            "report only" if floor is None else f">= {floor:.4f}",
            status,
        )
    )
    worst, worst_detail = 0.0, ""
    for w in want["thresholds"]:
        g = _row_at(got["thresholds"], w["threshold"])
        if g is None:
            checks.append(
                Check(f"{name}: row at {w['threshold']:g}", None, w["threshold"], "present", FAIL, "not swept")
            )
            continue
        for k in COUNT_FIELDS:
            delta = abs(g[k] - w[k])
            if delta > worst:
                worst, worst_detail = delta, f"{k.upper()} at {w['threshold']:g}: {g[k]} vs {w[k]}"
    checks.append(
        Check(
            f"{name}: threshold pattern (max cell Δ)",
            worst,
            0,
            _tol_text(bands.count),
            _within(worst, 0, bands.count),
            worst_detail,
        )
    )
    if "items" in want:
        checks.append(_check_scores(name, got["items"], want["items"], bands.score_drift))
    else:
        checks.append(Check(f"{name}: per-context scores", None, None, "", SKIP, "baseline has no per-context scores"))
    return checks


def _check_scores(name: str, got: list[dict], want: list[dict], tol: float | None) -> Check:
    if len(got) != len(want) or any(
        g["query"] != w["query"] or len(g["scores"]) != len(w["scores"]) for g, w in zip(got, want, strict=False)
    ):
        return Check(
            f"{name}: per-context scores", None, None, _tol_text(tol), FAIL, "inputs differ from the baseline's"
        )
    deltas = [
        (abs(gs - ws), i, j, gs, ws)
        for i, (g, w) in enumerate(zip(got, want, strict=True))
        for j, (gs, ws) in enumerate(zip(g["scores"], w["scores"], strict=True))
    ]
    deltas.sort(reverse=True)
    worst = deltas[0][0] if deltas else 0.0
    over = sum(1 for d in deltas if tol is not None and d[0] > tol)
    offenders = "; ".join(f"item {i} ctx {j}: {gs:.4f} vs {ws:.4f}" for _, i, j, gs, ws in deltas[:3])
    detail = f"{over} of {len(deltas)} beyond; worst: {offenders}"
    return Check(
        f"{name}: per-context scores (max |Δ|)", round(worst, 6), 0, _tol_text(tol), _within(worst, 0, tol), detail
    )


def _check_losses(run: RunArtifacts, baseline: dict[str, Any], bands: Bands) -> list[Check]:
    checks = []
    for group in ("final_train", "final_eval"):
        want = baseline.get(group) or {}
        got = run.summary.get(group) or {}
        for part in ("ranking_loss", "pruning_loss"):
            if want.get(part) is None:
                continue
            tol = _rel_tol(want[part], bands.loss_rel, None)
            value = got.get(part)
            status = FAIL if value is None else _within(value, want[part], tol)
            checks.append(Check(f"{group} {part}", value, want[part], _tol_text(tol), status))
    got_points = {p["step"]: p for p in run.eval_trajectory()}
    for point in baseline.get("eval_trajectory") or []:
        for part in LOSS_PARTS:
            if point.get(part) is None:
                continue
            tol = _rel_tol(point[part], bands.trajectory_rel, bands.trajectory_abs)
            got = got_points.get(point["step"], {}).get(part)
            status = FAIL if got is None else _within(got, point[part], tol)
            detail = "" if got is not None else f"no eval_{part} logged at step {point['step']}"
            checks.append(
                Check(f"eval {part} at step {point['step']}", got, point[part], _tol_text(tol), status, detail)
            )
    return checks


def _check_time(run: RunArtifacts, baseline: dict[str, Any], bands: Bands) -> Check:
    want, got = baseline.get("train_seconds"), run.summary.get("train_seconds")
    if want is None or got is None:
        return Check("training time (s)", got, want, "", SKIP, "not recorded")
    limit = _rel_tol(want, bands.train_time_rel, bands.train_time_abs)
    if limit is None:
        return Check("training time (s)", got, want, "report only", INFO)
    change = (got - want) / want * 100 if want else 0.0
    status = FAIL if got > want + limit else PASS
    detail = f"{change:+.0f} %" + (" (faster)" if got < want - limit else "")
    return Check("training time (s)", round(got, 1), round(want, 1), f"<= +{limit:g} s", status, detail)


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


def _flatten(tree: Any, prefix: str = "") -> dict[str, Any]:
    """Dotted paths to the leaves (lists are leaves); an explicit null and a missing key both read as '-'."""
    if not isinstance(tree, dict):
        return {prefix: tree}
    out: dict[str, Any] = {}
    for key, value in tree.items():
        out.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return out


def _differences(got: Any, want: Any) -> list[str]:
    """`key: run value vs baseline value` for every leaf that differs."""
    g, w = _flatten(got), _flatten(want)
    return [f"{k}: {g.get(k, '-')} vs {w.get(k, '-')}" for k in sorted(set(g) | set(w)) if g.get(k) != w.get(k)]


def _data_digest(files: dict[str, Any]) -> dict[str, list[str]]:
    """Split → SHA-256s: the same data under another path is the same data."""
    return {split: [f.get("sha256") for f in entries or []] for split, entries in files.items()}


def _code_label(code: Any) -> str:
    if not isinstance(code, dict):
        return "not a git checkout"
    if code.get("commit") is None:
        return f"unknown ({code.get('error', 'git failed')})"
    return str(code["commit"])[:10] + (" (uncommitted changes)" if code.get("dirty") else "")


def _code_detail(got: Any, want: Any) -> str:
    """ "differs", "" or, where uncommitted changes or a git failure hide the code, that it cannot be told."""
    sides = [c for c in (got, want) if isinstance(c, dict)]
    if any(c.get("commit") is None or c.get("dirty") is not False for c in sides):
        return "cannot tell: uncommitted changes or no commit on a side"
    return "" if _code_label(got) == _code_label(want) else "differs"


def _check_setup(run: RunArtifacts, baseline: dict[str, Any]) -> list[Check]:
    """What differs between the run and the baseline besides its results (report only: they explain, not judge).

    Rows appear for what the baseline recorded; a seed baseline recorded none of it.
    """
    s = run.summary
    checks = []
    for key in ("device", "precision"):
        if baseline.get(key) is not None:
            detail = "" if s.get(key) == baseline[key] else "differs"
            checks.append(_setup_check(key, s.get(key), baseline[key], detail))
    if isinstance(baseline.get("versions"), dict):
        diff = _differences(s.get("versions") or {}, baseline["versions"])
        checks.append(_setup_check("package versions", "same" if not diff else f"{len(diff)} differ", detail=diff))
    if baseline.get("config") is not None:
        diff = _differences(
            _comparable_config(s.get("config"), drop_paths=True),
            _comparable_config(baseline["config"], drop_paths=True),
        )
        checks.append(_setup_check("config", "same" if not diff else f"{len(diff)} differ", detail=diff))
    if baseline.get("data_files") is not None:
        checks.append(_data_row(s.get("data_files"), baseline["data_files"]))
    if "code" in baseline:
        got = _code_label(s["code"]) if "code" in s else "not recorded"
        detail = _code_detail(s["code"], baseline["code"]) if "code" in s else ""
        checks.append(_setup_check("code", got, _code_label(baseline["code"]), detail))
    return checks


def _data_row(got_files: Any, want_files: dict[str, Any]) -> Check:
    """Same training data, judged by the files' SHA-256 (paths aside); hub datasets have no files to hash."""
    if got_files is None:
        return _setup_check("training data", "not recorded")
    got, want = _data_digest(got_files), _data_digest(want_files)
    if not any(got.values()) and not any(want.values()):
        return _setup_check("training data", "not hashed", detail="hub dataset: see the config row")
    changed = [split for split in sorted(set(got) | set(want)) if got.get(split) != want.get(split)]
    if not changed:
        return _setup_check("training data", "same")
    detail = f"differs: the {' and '.join(changed)} files' SHA-256 changed, so results need not match"
    return _setup_check("training data", "other files", detail=detail)


def _setup_check(what: str, obtained: Any, expected: Any = "-", detail: str | list[str] = "") -> Check:
    """A report-only `setup:` row; a list detail is joined."""
    text = "; ".join(detail) if isinstance(detail, list) else detail
    return Check(f"setup: {what}", obtained, expected, "report only", INFO, text)


def compare(run: RunArtifacts, baseline: dict[str, Any], baseline_name: str = "baseline") -> Comparison:
    """Every check of `run` against `baseline`; a baseline evaluation the run lacks is a failure."""
    bands = Bands.from_dict(baseline.get("bands") or {}, baseline_name)
    result = Comparison(str(run.run_dir), baseline_name)
    for name, want in baseline["evaluations"].items():
        got = run.evaluations.get(name)
        if got is None:
            result.checks.append(
                Check(f"{name}: evaluation", None, name, "present", FAIL, f"no {EVAL_DIR}/ result for it")
            )
            continue
        result.checks.extend(_check_evaluation(name, got, want, bands))
    result.checks.extend(_check_losses(run, baseline, bands))
    result.checks.append(_check_time(run, baseline, bands))
    result.checks.extend(_check_setup(run, baseline))
    return result


def render_table(comparison: Comparison) -> str:
    """The pass/fail table for logs."""
    header = ("check", "obtained", "expected", "tolerance", "status", "detail")
    rows = [header] + [
        (c.name, _fmt(c.obtained), _fmt(c.expected), c.tolerance, c.status, c.detail) for c in comparison.checks
    ]
    widths = [max(len(str(r[i])) for r in rows) for i in range(5)]
    lines = []
    for n, r in enumerate(rows):
        lines.append(
            "  ".join(str(v).ljust(w) for v, w in zip(r[:5], widths, strict=True)) + (f"  {r[5]}" if r[5] else "")
        )
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    verdict = "PASS" if comparison.ok else f"FAIL ({len(comparison.failed)} of {len(comparison.checks)} checks)"
    lines.append(f"\n{comparison.run_dir} vs {comparison.baseline}: {verdict}")
    return "\n".join(lines)


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4f}" if abs(value) < 1000 else f"{value:.1f}"
    return str(value)
