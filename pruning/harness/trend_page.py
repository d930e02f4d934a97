"""`pruning-baseline history`: the key metrics over the nights of a ledger, as a PNG or a self-contained HTML page.

One panel per metric: the baseline (dashed) and its band (shaded), the nights' values with commits on the x axis,
failed nights marked with a red cross, and the drift alarms (harness.trend) in the panel's title. The HTML page adds
the alarms, the skipped ledger lines and the nights as tables.
"""

from __future__ import annotations

import base64
import io
import math
from pathlib import Path

from pruning.errors import PruningError
from pruning.harness.history import Ledger
from pruning.harness.report_page import CSP, CSS, _note, _table, e
from pruning.harness.trend import Alarm, Series, alarms, series_from
from pruning.train.atomic import atomic_write_text
from pruning.train.plots import _pyplot

COLUMNS = 2


def _figure(all_series: list[Series], found: dict[str, list[Alarm]]):
    plt = _pyplot()
    if plt is None:
        raise PruningError("the trend is drawn with matplotlib: pip install 'pruning[plots]'")
    plt.rcParams["svg.hashsalt"] = "pruning-trend"
    rows = math.ceil(len(all_series) / COLUMNS)
    fig, axes = plt.subplots(rows, COLUMNS, figsize=(6.2 * COLUMNS, 3.1 * rows), dpi=100, squeeze=False)
    for ax, s in zip(axes.flat, all_series, strict=False):
        x = list(range(len(s.values)))
        lows = [lo if lo is not None else math.nan for lo in s.lows]
        highs = [hi if hi is not None else math.nan for hi in s.highs]
        if any(not math.isnan(v) for v in lows + highs):
            ax.fill_between(x, lows, highs, color="grey", alpha=0.2, step="mid", label="band")
        ax.plot(x, s.baselines, color="grey", linestyle="--", linewidth=1, label="baseline")
        ax.plot(x, s.values, color="tab:blue", marker="o", markersize=3, label="night")
        bad = [i for i, f in enumerate(s.failed) if f]
        if bad:
            ax.plot(bad, [s.values[i] for i in bad], "x", color="tab:red", markersize=9, mew=2, label="failed")
        rules = ", ".join(a.rule for a in found.get(s.name, []))
        title = s.name + (f"  [DRIFT: {rules}]" if rules else "")
        ax.set_title(title, fontsize=9, color="tab:red" if rules else "black")
        step = max(1, len(x) // 12)
        ax.set_xticks(x[::step], s.commits[::step], rotation=45, ha="right", fontsize=7)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    for ax in list(axes.flat)[len(all_series) :]:
        ax.axis("off")
    fig.tight_layout()
    return plt, fig


def render(ledger: Ledger, path: str | Path, run_length: int) -> tuple[Path, list[Alarm]]:
    """Draw the ledger's trend to `path` (.png or .html); return the path and the alarms at the latest night."""
    path = Path(path)
    if path.suffix not in (".png", ".html"):
        raise PruningError(f"{path}: the trend is written as .png or .html")
    all_series = [s for s in series_from(ledger.entries) if s.values]
    if not all_series:
        raise PruningError(f"{path}: the ledger holds no metrics to draw")
    found: dict[str, list[Alarm]] = {s.name: alarms(s, run_length) for s in all_series}
    flat = [a for group in found.values() for a in group]
    plt, fig = _figure(all_series, found)
    buf = io.BytesIO()
    try:
        fmt = "png" if path.suffix == ".png" else "svg"
        fig.savefig(buf, format=fmt, metadata={"Software": None} if fmt == "png" else {"Date": None})
    finally:
        plt.close(fig)
    if path.suffix == ".png":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(buf.getvalue())
        return path, flat
    atomic_write_text(path, _page(ledger, buf.getvalue(), flat, run_length)).chmod(0o644)
    return path, flat


def _page(ledger: Ledger, svg: bytes, found: list[Alarm], run_length: int) -> str:
    uri = "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")
    alarm_html = (
        _table(("metric", "rule", "what it saw"), [(a.metric, a.rule, a.detail) for a in found])
        if found
        else _note(
            f"No drift alarm: no metric sits {run_length} nights on one side of its baseline, and no CUSUM "
            "passes its limit."
        )
    )
    skipped = (
        _note("Skipped ledger lines: " + "; ".join(f"line {n}: {why}" for n, why in ledger.skipped) + ".")
        if ledger.skipped
        else ""
    )
    nights = [
        (r.get("time"), str(r.get("commit") or "-")[:10], r.get("device"), r.get("verdict"), r.get("report"))
        for r in ledger.entries
    ]
    verdict = "drift" if found else "steady"
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}"><title>Trend: {e(verdict)}</title>'
        f"<style>{CSS}</style></head><body><h1>Nightly trend</h1>"
        f'<p class="meta">{len(ledger.entries)} nights</p>'
        f'<h2>Drift alarms</h2>{alarm_html}{skipped}<img src="{e(uri)}" alt="key metrics over the nights">'
        f"<h2>Nights</h2>{_table(('time', 'commit', 'device', 'verdict', 'report'), nights)}</body></html>\n"
    )
