"""The report page: one self-contained HTML file that takes a person from a red comparison to its cause.

Top to bottom: the verdict in one sentence, the checks (failures first), then per evaluation the threshold curves
over the baseline's, the paired bootstrap and the per-context drift, then the eval-loss trajectory and what else
differs between the two runs. No script, no font and no request elsewhere: the pictures are inline SVG data URIs.
Every text that comes from data or files is escaped. A section the baseline cannot support says so.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pruning.evaluate.metrics import normalize_metric
from pruning.harness import report_charts
from pruning.harness.artefacts import RunArtifacts
from pruning.harness.baseline import Bands
from pruning.harness.compare import FAIL, SKIP, Check, Comparison, _same_inputs
from pruning.harness.drift import Drift, context_drift
from pruning.harness.render import _fmt
from pruning.harness.significance import SIGNIFICANT
from pruning.train.atomic import atomic_write_text

WORST = 20
SNIPPET = 160
STATUS_ORDER = {FAIL: 0, "pass": 1, "info": 2, SKIP: 3}
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"  # nothing loads or runs but the page itself
CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI","Noto Sans CJK JP","Hiragino Sans","Yu Gothic",sans-serif;
margin:0 auto;max-width:1180px;padding:0 20px 40px;
color:#1d2430}
h1{font-size:22px;margin:22px 0 4px}h2{font-size:18px;margin:30px 0 8px;border-bottom:1px solid #d6dbe3}
h3{font-size:15px;margin:18px 0 6px}.meta{color:#5a6474;font-size:12px}
.verdict{padding:12px 16px;border-radius:6px;font-size:15px;margin:14px 0}
.verdict.pass{background:#e6f4ea;border:1px solid #9bd3ac}.verdict.fail{background:#fdecea;border:1px solid #f1a8a0}
table{border-collapse:collapse;margin:6px 0 10px;font-size:13px}
th,td{border:1px solid #d6dbe3;padding:3px 7px;text-align:left;vertical-align:top}th{background:#f2f4f7}
td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.FAIL td{background:#fdecea}tr.skip td{color:#6b7280}.status-FAIL{color:#b3261e;font-weight:600}
.note{background:#f6f7f9;border-left:3px solid #9aa4b2;padding:6px 10px;margin:8px 0}
.significant{color:#b3261e;font-weight:600}img{max-width:100%;display:block;margin:6px 0}
.snippet{max-width:520px;overflow-wrap:anywhere}
"""


def e(value: Any) -> str:
    """Escaped text for the page: every value from data, files or checks goes through here."""
    return html.escape("-" if value is None else str(value), quote=True)


def _table(header: tuple[str, ...], rows: list[tuple[Any, ...]], classes: list[str] | None = None) -> str:
    head = "".join(f"<th>{e(h)}</th>" for h in header)
    body = []
    for n, row in enumerate(rows):
        cls = f' class="{e(classes[n])}"' if classes else ""
        cells = "".join(
            f'<td class="num">{e(v)}</td>' if isinstance(v, int | float) else f"<td>{e(v)}</td>" for v in row
        )
        body.append(f"<tr{cls}>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _note(text: str) -> str:
    return f'<p class="note">{e(text)}</p>'


def _img(uri: str, alt: str) -> str:
    return f'<img src="{e(uri)}" alt="{e(alt)}">'


def verdict_sentence(comparison: Comparison) -> str:
    """One sentence a person can paste into a ticket."""
    n = len(comparison.checks)
    if comparison.ok:
        return f"PASS: {comparison.run_dir} matches {comparison.baseline} on every check ({n} checks)."
    failed = comparison.failed
    named = "; ".join(f"{c.name} = {_fmt(c.obtained)} (baseline {_fmt(c.expected)}, {c.tolerance})" for c in failed[:3])
    more = f"; and {len(failed) - 3} more" if len(failed) > 3 else ""
    return (
        f"FAIL: {comparison.run_dir} against {comparison.baseline}: {len(failed)} of {n} checks failed: {named}{more}."
    )


def _distance(check: Check) -> str:
    """The difference in units of a calibrated baseline's spread."""
    return "" if check.sigmas is None else f"{check.sigmas:.1f} σ"


def _checks_section(comparison: Comparison) -> str:
    checks = [c for c in comparison.checks if not c.name.startswith("setup: ")]
    checks.sort(key=lambda c: STATUS_ORDER.get(c.status, 9))
    rows = [(c.status, c.name, _fmt(c.obtained), _fmt(c.expected), c.tolerance, _distance(c), c.detail) for c in checks]
    header = ("status", "check", "obtained", "baseline", "band", "distance", "detail")
    calibrated = any(_distance(c) for c in checks)
    note = "" if calibrated else _note("distance: the baseline is not calibrated, so it has no spread to measure in.")
    return f"<h2>Checks</h2>{note}{_table(header, rows, [c.status for c in checks])}"


def _significance_block(sig: dict[str, Any] | None, check: Check | None) -> str:
    if sig is None:
        why = check.detail if check is not None else "not computed"
        return f"<h3>Is the change real?</h3>{_note('No paired bootstrap: ' + why + '.')}"
    rows = [
        (
            label,
            f"{sig[k]['delta']:+.4g}",
            f"[{sig[k]['low']:+.4g}, {sig[k]['high']:+.4g}]",
            "yes" if k in sig["changed"] else "no",
        )
        for k, label in (("f2_5", "ΔF2.5"), ("recall", "Δrecall"), ("fn", "ΔFN"))
    ]
    verdict = sig["verdict"]
    cls = "significant" if verdict == SIGNIFICANT else ""
    threshold, level = f"{sig['threshold']:g}", f"{sig['level']:.0%}"
    method = (
        f"paired bootstrap: {sig['resamples']} resamples of the {sig['queries']} queries, contexts of a query kept "
        f"together, {level} percentile intervals, seed {sig['seed']}"
    )
    return (
        "<h3>Is the change real?</h3>"
        f'<p>At the baseline\'s best threshold {e(threshold)}: <span class="{cls}">{e(verdict)}</span> '
        f"({e(method)}).</p>" + _table(("change (run − baseline)", "observed", "interval", "interval excludes 0"), rows)
    )


def _drift_block(drift: Drift, tolerance: float | None) -> str:
    deltas = [abs(c.delta) for c in drift.contexts]
    over = sum(d > tolerance for d in deltas) if tolerance is not None else None
    summary = (
        f"{len(deltas)} contexts; largest |Δ| {max(deltas, default=0):.4g}"
        + (f"; {over} beyond the band ±{tolerance:g}" if tolerance is not None else "")
        + f". At the baseline's best threshold {drift.threshold:g}, {drift.flips} keep/delete decisions flip "
        f"({drift.flips_to_delete} kept by the baseline and deleted by the run, "
        f"{drift.flips - drift.flips_to_delete} the other way)."
    )
    rows = []
    for c in drift.contexts[:WORST]:
        text = c.text if c.text is not None else "(text unavailable)"
        snippet = text if len(text) <= SNIPPET else text[:SNIPPET] + "…"
        rows.append(
            (
                c.item,
                c.context,
                c.query,
                snippet,
                c.label,
                f"{c.old:.4f}",
                f"{c.new:.4f}",
                f"{c.delta:+.4f}",
                "yes" if c.flipped else "",
            )
        )
    table = _table(("item", "ctx", "query", "context", "label", "baseline", "run", "Δ", "flipped"), rows)
    text_note = _note(f"Context text not shown: {drift.text_note}.") if drift.text_note else ""
    return (
        "<h3>Per-context score drift</h3>"
        f"<p>{e(summary)}</p>{_img(report_charts.drift_histogram(deltas, tolerance), 'histogram of |Δscore|')}"
        f"<h3>The {min(WORST, len(rows))} contexts that moved most</h3>{text_note}{table}"
    )


def _evaluation_section(
    name: str, got: dict[str, Any] | None, want: dict[str, Any], comparison: Comparison, bands: Bands
) -> str:
    head = f"<h2>Evaluation: {e(name)}</h2>"
    if got is None:
        return head + _note("The run has no result for this evaluation, so there is nothing to draw or pair.")
    metric = normalize_metric(want["best"]["metric"])
    curves = _img(report_charts.threshold_curves(got, want, metric), f"threshold curves of {name}")
    out = [head, f"<h3>Threshold curves (run solid, baseline dashed)</h3>{curves}"]
    check = next((c for c in comparison.checks if c.name.startswith(f"{name}: change at")), None)
    out.append(_significance_block(comparison.significance.get(name), check))
    if "items" not in want:
        out.append(
            "<h3>Per-context score drift</h3>"
            + _note(
                "The baseline holds no per-context scores (a seed baseline records only its table), "
                "so no context can be compared."
            )
        )
    elif not _same_inputs(got["items"], want["items"]):
        out.append(
            "<h3>Per-context score drift</h3>"
            + _note(
                "The run scored other inputs than the baseline (queries or context counts differ), "
                "so contexts cannot be paired."
            )
        )
    else:
        out.append(_drift_block(context_drift(got, want, want["best"]["threshold"]), bands.score_drift))
    return "".join(out)


def _loss_section(run: RunArtifacts, baseline: dict[str, Any], bands: Bands) -> str:
    head = "<h2>Eval-loss trajectory</h2>"
    want = baseline.get("eval_trajectory") or []
    if not want:
        return head + _note("The baseline recorded no eval-loss trajectory.")
    got = run.eval_trajectory()
    missing = "" if got else _note("The run logged no evaluation losses; only the baseline is drawn.")
    chart = report_charts.loss_trajectory(got, want, (bands.trajectory_rel, bands.trajectory_abs))
    return head + missing + _img(chart, "eval-loss trajectory")


def _setup_section(comparison: Comparison) -> str:
    rows = [c for c in comparison.checks if c.name.startswith("setup: ")]
    head = "<h2>What else differs</h2>"
    if not rows:
        return head + _note(
            "The baseline recorded no setup (device, precision, versions, config, data, commit): "
            "a seed baseline holds only the user's numbers."
        )
    table = _table(
        ("what", "run", "baseline", "difference"),
        [(c.name.removeprefix("setup: "), _fmt(c.obtained), _fmt(c.expected), c.detail or "same") for c in rows],
    )
    return head + table


def render_page(run: RunArtifacts, baseline: dict[str, Any], comparison: Comparison) -> str:
    """The whole page as one HTML string."""
    bands = Bands.from_dict(baseline.get("bands") or {}, comparison.baseline)
    verdict = "pass" if comparison.ok else "fail"
    sections = [_checks_section(comparison)]
    for name, want in baseline["evaluations"].items():
        sections.append(_evaluation_section(name, run.evaluations.get(name), want, comparison, bands))
    sections += [_loss_section(run, baseline, bands), _setup_section(comparison)]
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        f"<title>{e(verdict.upper())}: {e(Path(comparison.run_dir).name)} vs "
        f"{e(Path(comparison.baseline).name)}</title>"
        f"<style>{CSS}</style></head><body>"
        f'<h1>Regression report</h1><p class="meta">run {e(comparison.run_dir)} · baseline {e(comparison.baseline)}'
        f" ({e(baseline.get('kind', 'captured'))}) · written {e(stamp)}</p>"
        f'<p class="verdict {verdict}" id="verdict">{e(verdict_sentence(comparison))}</p>'
        + "".join(sections)
        + "</body></html>\n"
    )


def write_report(run: RunArtifacts, baseline: dict[str, Any], comparison: Comparison, path: str | Path) -> Path:
    """Write the page to `path` (folders made as needed) and return it."""
    written = atomic_write_text(path, render_page(run, baseline, comparison))
    written.chmod(0o644)  # a page for people: readable by whoever serves or uploads it
    return written
