"""The report page's pictures: matplotlib figures as self-contained SVG data URIs (text drawn as paths, no fonts)."""

from __future__ import annotations

import base64
import io
from typing import Any

from pruning.errors import PruningError
from pruning.train.plots import _pyplot

RUN_STYLE = {"linestyle": "-", "marker": "o", "markersize": 3}
BASE_STYLE = {"linestyle": "--", "marker": "s", "markersize": 3, "alpha": 0.75}
CURVES = (("precision", "precision", "tab:blue"), ("recall", "recall", "tab:orange"), ("f2_5", "F2.5", "tab:green"))


def _plt():
    plt = _pyplot()
    if plt is None:
        raise PruningError("the report draws its pictures with matplotlib: pip install 'pruning[plots]'")
    plt.rcParams["svg.hashsalt"] = "pruning-report"  # the same figure gives the same file
    return plt


def _data_uri(plt, fig) -> str:
    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="svg", metadata={"Date": None})
    finally:
        plt.close(fig)
    return "data:image/svg+xml;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def threshold_curves(got: dict[str, Any], want: dict[str, Any], metric: str) -> str:
    """Precision, recall and F2.5 against the threshold: the run solid, the baseline dashed, best thresholds marked."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7.0, 3.8), dpi=100)
    for key, label, colour in CURVES:
        for side, rows, style in (("run", got["thresholds"], RUN_STYLE), ("baseline", want["thresholds"], BASE_STYLE)):
            ax.plot(
                [r["threshold"] for r in rows], [r[key] for r in rows], color=colour, label=f"{label} ({side})", **style
            )
    ax.axvline(got["best"]["threshold"], color="black", linewidth=1.2, label=f"run best by {metric}")
    ax.axvline(want["best"]["threshold"], color="grey", linestyle="--", linewidth=1.2, label="baseline best")
    ax.set(xlabel="keep threshold", ylabel="value", ylim=(0, 1.02))
    ax.grid(alpha=0.3)
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8)
    fig.tight_layout()
    return _data_uri(plt, fig)


def loss_trajectory(
    got: list[dict[str, Any]], want: list[dict[str, Any]], band: tuple[float | None, float | None]
) -> str:
    """Each eval-loss part the baseline recorded: the baseline with its band shaded, the run on top."""
    parts = [p for p in ("loss", "ranking_loss", "pruning_loss") if any(pt.get(p) is not None for pt in want)]
    rel, abs_ = band
    plt = _plt()
    fig, axes = plt.subplots(1, len(parts), figsize=(3.4 * len(parts) + 0.6, 3.2), dpi=100, squeeze=False)
    for ax, part in zip(axes[0], parts, strict=True):
        base = [(p["step"], p[part]) for p in want if p.get(part) is not None]
        steps, values = [s for s, _ in base], [v for _, v in base]
        if rel is not None or abs_ is not None:
            width = [max(abs(v) * (rel or 0.0), abs_ or 0.0) for v in values]
            low, high = (
                [v - w for v, w in zip(values, width, strict=True)],
                [v + w for v, w in zip(values, width, strict=True)],
            )
            ax.fill_between(steps, low, high, color="grey", alpha=0.25, label="baseline band")
        ax.plot(steps, values, color="grey", **BASE_STYLE, label="baseline")
        run = [(p["step"], p[part]) for p in got if p.get(part) is not None]
        if run:
            ax.plot([s for s, _ in run], [v for _, v in run], color="tab:red", **RUN_STYLE, label="run")
        ax.set(xlabel="step", title=f"eval {part}")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    return _data_uri(plt, fig)


def drift_histogram(deltas: list[float], tolerance: float | None) -> str:
    """How many contexts moved by how much: |Δscore| in 40 bins, the band's limit marked."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7.0, 3.0), dpi=100)
    top = max(max(deltas, default=0.0), tolerance or 0.0) or 1e-6
    ax.hist(deltas, bins=40, range=(0, top * 1.02), color="tab:purple")
    if tolerance is not None:
        ax.axvline(tolerance, color="black", linestyle="--", linewidth=1.2, label=f"band ±{tolerance:g}")
        ax.legend(fontsize=8)
    ax.set(xlabel="|Δ score| (run − baseline)", ylabel="contexts")
    ax.set_yscale("symlog", linthresh=10)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return _data_uri(plt, fig)
