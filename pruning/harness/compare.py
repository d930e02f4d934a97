"""The checks: a run against a baseline, one `Check` per expectation (obtained, expected, tolerance, status)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from pruning.evaluate.metrics import ThresholdRow, best_threshold, normalize_metric
from pruning.harness.artefacts import EVAL_DIR, LOSS_PARTS, ROW_FIELDS, RunArtifacts
from pruning.harness.baseline import Bands
from pruning.harness.checks import FAIL, INFO, PASS, SKIP, Check, not_in
from pruning.harness.setup_rows import check_setup
from pruning.harness.significance import paired_bootstrap

COUNT_FIELDS = ("tp", "fp", "tn", "fn")


@dataclass
class Comparison:
    """All checks of one run against one baseline."""

    run_dir: str
    baseline: str
    checks: list[Check] = field(default_factory=list)
    significance: dict[str, dict[str, Any]] = field(default_factory=dict)  # evaluation → paired bootstrap

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
            "significance": self.significance,
        }


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


def _sigma_note(delta: float, sigma: float | None) -> str:
    """'Δ = +0.004 (1.3 σ)': a difference in units of a calibrated baseline's spread; '' for any other baseline."""
    if sigma is None:
        return ""
    if sigma == 0:
        return f"Δ = {delta:+.4g} (σ = 0: the calibration runs agreed exactly)"
    return f"Δ = {delta:+.4g} ({abs(delta) / sigma:.1f} σ)"


def _limits(expected: float, tol: float | None) -> dict[str, float]:
    """A ± band as the check's `low` and `high`."""
    return {} if tol is None else {"low": expected - tol, "high": expected + tol}


def _sigmas(delta: float, sigma: float | None) -> dict[str, float]:
    """The check's `sigmas`: |Δ| in units of a calibrated spread (none without one, or when it is 0)."""
    return {"sigmas": abs(delta) / sigma} if sigma else {}


def _join(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


def _row_at(rows: list[dict[str, Any]], threshold: float) -> dict[str, Any] | None:
    return next((r for r in rows if math.isclose(r["threshold"], threshold, abs_tol=1e-9)), None)


def _check_evaluation(
    name: str, got: dict[str, Any], want: dict[str, Any], bands: Bands, spread: dict[str, float]
) -> list[Check]:
    checks = []
    best_t = want["best"]["threshold"]
    metric = normalize_metric(want["best"]["metric"])
    # the baseline's metric decides, whatever --best-by the run was evaluated with
    got_best = best_threshold([ThresholdRow(**{k: r[k] for k in ROW_FIELDS}) for r in got["thresholds"]], metric)
    # a calibrated baseline accepts any best threshold its runs chose
    seen = want["best"].get("seen") or [best_t]
    checks.append(
        Check(
            f"{name}: best threshold by {metric}",
            got_best,
            best_t,
            "exact" if len(seen) == 1 else "one of " + ", ".join(f"{t:g}" for t in seen),
            PASS if any(math.isclose(got_best, t) for t in seen) else FAIL,
        )
    )
    g_row, w_row = _row_at(got["thresholds"], best_t), _row_at(want["thresholds"], best_t)
    if g_row is None or w_row is None:
        checks.append(Check(f"{name}: row at {best_t:g}", None, best_t, "present", FAIL, "threshold not swept"))
        return checks
    checks.append(
        Check(
            f"{name}: F2.5 at {best_t:g}",
            round(g_row["f2_5"], 4),
            round(w_row["f2_5"], 4),
            _tol_text(bands.f2_5),
            _within(g_row["f2_5"], w_row["f2_5"], bands.f2_5),
            _sigma_note(g_row["f2_5"] - w_row["f2_5"], spread.get("f2_5")),
            **_limits(w_row["f2_5"], bands.f2_5),
            **_sigmas(g_row["f2_5"] - w_row["f2_5"], spread.get("f2_5")),
        )
    )
    checks.append(
        Check(
            f"{name}: FN at {best_t:g}",
            g_row["fn"],
            w_row["fn"],
            _tol_text(bands.fn),
            _within(g_row["fn"], w_row["fn"], bands.fn),
            _sigma_note(g_row["fn"] - w_row["fn"], spread.get("fn")),
            **_limits(w_row["fn"], bands.fn),
            **_sigmas(g_row["fn"] - w_row["fn"], spread.get("fn")),
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
            _sigma_note(g_row["recall"] - w_row["recall"], spread.get("recall_drop")),
            low=floor,
            **_sigmas(g_row["recall"] - w_row["recall"], spread.get("recall_drop")),
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
            _join(worst_detail, _sigma_note(worst, spread.get("count"))),
            high=bands.count,
            **_sigmas(worst, spread.get("count")),
        )
    )
    if "items" in want:
        checks.append(_check_scores(name, got["items"], want["items"], bands.score_drift, spread.get("score_drift")))
    else:
        checks.append(Check(f"{name}: per-context scores", None, None, "", SKIP, "baseline has no per-context scores"))
    return checks


def _same_inputs(got: list[dict], want: list[dict]) -> bool:
    """The same queries in the same order, each with as many contexts: scores that can be paired."""
    return len(got) == len(want) and all(
        g["query"] == w["query"] and len(g["scores"]) == len(w["scores"]) for g, w in zip(got, want, strict=True)
    )


def _check_scores(name: str, got: list[dict], want: list[dict], tol: float | None, sigma: float | None = None) -> Check:
    if not _same_inputs(got, want):
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
    detail = _join(f"{over} of {len(deltas)} beyond; worst: {offenders}", _sigma_note(worst, sigma))
    return Check(
        f"{name}: per-context scores (max |Δ|)",
        round(worst, 6),
        0,
        _tol_text(tol),
        _within(worst, 0, tol),
        detail,
        high=tol,
        **_sigmas(worst, sigma),
    )


def _check_significance(name: str, got: dict[str, Any], want: dict[str, Any]) -> tuple[Check, dict | None]:
    """Is the change at the baseline's best threshold real? A report-only row (harness.significance)."""
    t = want["best"]["threshold"]
    title = f"{name}: change at {t:g} (paired bootstrap)"
    why = ""
    if "items" not in want:
        why = "baseline has no per-context scores to pair with"
    elif not _same_inputs(got["items"], want["items"]):
        why = "inputs differ from the baseline's: nothing to pair"
    elif any(not isinstance(it.get("labels"), list) for it in got["items"]):
        why = "the run's result has no labels"
    if why:
        return Check(title, None, None, "report only", SKIP, why), None
    sig = paired_bootstrap(
        [it["labels"] for it in got["items"]],
        [it["scores"] for it in got["items"]],
        [it["scores"] for it in want["items"]],
        t,
    )
    detail = f"{sig.summary()} ({sig.level:.0%} interval, {sig.resamples} resamples of {sig.queries} queries)"
    return Check(title, sig.verdict, "-", "report only", INFO, detail), sig.as_dict()


def _rel_sigma(spread: dict[str, float], kind: str, want: float) -> float | None:
    """A relative spread (the loss kinds) in the units of `want`."""
    return None if kind not in spread else spread[kind] * abs(want)


def _check_losses(run: RunArtifacts, baseline: dict[str, Any], bands: Bands, spread: dict[str, float]) -> list[Check]:
    checks = []
    for group in ("final_train", "final_eval"):
        if not baseline.get(group):
            checks.append(Check(group, None, None, "", SKIP, not_in(baseline, group)))
            continue
        want = baseline[group]
        got = run.summary.get(group) or {}
        for part in ("ranking_loss", "pruning_loss"):
            if want.get(part) is None:
                checks.append(Check(f"{group} {part}", got.get(part), None, "", SKIP, not_in(baseline, part)))
                continue
            tol = _rel_tol(want[part], bands.loss_rel, None)
            value = got.get(part)
            status = FAIL if value is None else _within(value, want[part], tol)
            sigma = _rel_sigma(spread, "loss_rel", want[part])
            note, spread_units = (
                ("", {})
                if value is None
                else (_sigma_note(value - want[part], sigma), _sigmas(value - want[part], sigma))
            )
            checks.append(
                Check(
                    f"{group} {part}",
                    value,
                    want[part],
                    _tol_text(tol),
                    status,
                    note,
                    **_limits(want[part], tol),
                    **spread_units,
                )
            )
    got_points = {p["step"]: p for p in run.eval_trajectory()}
    if not baseline.get("eval_trajectory"):
        checks.append(Check("eval loss trajectory", None, None, "", SKIP, not_in(baseline, "eval loss points")))
    for point in baseline.get("eval_trajectory") or []:
        missing = [part for part in LOSS_PARTS if point.get(part) is None]
        if missing:
            name = f"eval {', '.join(missing)} at step {point['step']}"
            checks.append(Check(name, None, None, "", SKIP, not_in(baseline, ", ".join(missing))))
        for part in LOSS_PARTS:
            if point.get(part) is None:
                continue
            tol = _rel_tol(point[part], bands.trajectory_rel, bands.trajectory_abs)
            got = got_points.get(point["step"], {}).get(part)
            status = FAIL if got is None else _within(got, point[part], tol)
            sigma = _rel_sigma(spread, "trajectory_rel", point[part])
            detail = (
                _sigma_note(got - point[part], sigma)
                if got is not None
                else f"no eval_{part} logged at step {point['step']}"
            )
            checks.append(
                Check(
                    f"eval {part} at step {point['step']}",
                    got,
                    point[part],
                    _tol_text(tol),
                    status,
                    detail,
                    **_limits(point[part], tol),
                    **({} if got is None else _sigmas(got - point[part], sigma)),
                )
            )
    return checks


def _check_time(run: RunArtifacts, baseline: dict[str, Any], bands: Bands) -> Check:
    want, got = baseline.get("train_seconds"), run.summary.get("train_seconds")
    if want is None:
        return Check("training time (s)", got, want, "", SKIP, not_in(baseline, "train_seconds"))
    if got is None:
        return Check("training time (s)", got, want, "", SKIP, "not recorded: the run's summary has no train_seconds")
    limit = _rel_tol(want, bands.train_time_rel, bands.train_time_abs)
    if limit is None:
        return Check("training time (s)", got, want, "report only", INFO)
    change = (got - want) / want * 100 if want else 0.0
    status = FAIL if got > want + limit else PASS
    detail = f"{change:+.0f} %" + (" (faster)" if got < want - limit else "")
    return Check("training time (s)", round(got, 1), round(want, 1), f"<= +{limit:g} s", status, detail)


def compare(run: RunArtifacts, baseline: dict[str, Any], baseline_name: str = "baseline") -> Comparison:
    """Every check of `run` against `baseline`; a baseline evaluation the run lacks is a failure."""
    bands = Bands.from_dict(baseline.get("bands") or {}, baseline_name)
    spread = (baseline.get("calibration") or {}).get("spread") or {}
    result = Comparison(str(run.run_dir), baseline_name)
    for name, want in baseline["evaluations"].items():
        got = run.evaluations.get(name)
        if got is None:
            result.checks.append(
                Check(f"{name}: evaluation", None, name, "present", FAIL, f"no {EVAL_DIR}/ result for it")
            )
            continue
        result.checks.extend(_check_evaluation(name, got, want, bands, spread))
        check, significance = _check_significance(name, got, want)
        result.checks.append(check)
        if significance is not None:
            result.significance[name] = significance
    result.checks.extend(_check_losses(run, baseline, bands, spread))
    result.checks.append(_check_time(run, baseline, bands))
    result.checks.extend(check_setup(run, baseline))
    return result
