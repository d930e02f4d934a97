"""PNG loss curves next to a training run, and the matplotlib set-up every plot shares (the `plots` extra)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from pruning.errors import PruningError

__all__ = ["plot_losses"]

logger = logging.getLogger(__name__)


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    return plt


def _save(plt, fig, path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path)
    except OSError as exc:
        raise PruningError(f"{path}: cannot write the plot: {exc.strerror or exc}") from None
    finally:
        plt.close(fig)


def plot_losses(history: list[dict[str, Any]], path: str | Path) -> Path | None:
    """Train and eval loss components against the optimizer step."""
    plt = _pyplot()
    if plt is None:
        logger.warning("matplotlib is not installed (pip install 'pruning[plots]'): no loss plot")
        return None
    fig, axes = plt.subplots(1, 2, figsize=(9.6, 3.6), dpi=120)
    for ax, part in zip(axes, ("pruning_loss", "ranking_loss"), strict=True):
        for prefix, style in (("", "-"), ("eval_", "o--")):
            points = [(h["step"], h[prefix + part]) for h in history if prefix + part in h and "step" in h]
            if points:
                ax.plot(*zip(*points, strict=True), style, label=f"{'eval' if prefix else 'train'}")
        ax.set(xlabel="step", title=part)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    # fixed margins rather than tight_layout(), which costs as much as drawing the figure (a run draws this once;
    # the test suite, ~60 times)
    fig.subplots_adjust(left=0.07, right=0.985, bottom=0.14, top=0.92, wspace=0.18)
    _save(plt, fig, Path(path))
    return Path(path)
