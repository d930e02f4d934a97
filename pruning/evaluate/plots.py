"""PNG plot of the threshold sweep next to an evaluation (matplotlib, the `plots` extra)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from pruning.train.plots import _pyplot, _save

__all__ = ["PLOT_SUFFIXES", "plot_sweep"]

logger = logging.getLogger(__name__)

PLOT_SUFFIXES = (".png", ".svg", ".pdf")  # formats matplotlib writes without extra packages


def plot_sweep(result: dict[str, Any], path: str | Path) -> Path | None:
    """Precision, recall, F2.5 and compression against the threshold; the best threshold marked."""
    plt = _pyplot()
    if plt is None:
        logger.warning("matplotlib is not installed (pip install 'pruning[plots]'): no sweep plot")
        return None
    rows = result["thresholds"]
    t = [r["threshold"] for r in rows]
    fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=120)
    for key, label in (
        ("precision", "precision"),
        ("recall", "recall"),
        ("f2_5", "F2.5"),
        ("compression", "compression"),
    ):
        ax.plot(t, [r[key] for r in rows], marker="o", label=label)
    best = result["best"]
    ax.axvline(best["threshold"], color="grey", linestyle="--", linewidth=1, label=f"best by {best['metric']}")
    ax.set(xlabel="keep threshold", ylabel="value", ylim=(0, 1.02), title=Path(result["data"]).name)
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    _save(plt, fig, Path(path))
    return Path(path)
