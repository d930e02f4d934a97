"""The loss curves render to a PNG file (matplotlib with the Agg backend)."""

from __future__ import annotations

import pytest

from pruning.train.plots import plot_losses

pytestmark = pytest.mark.unit

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_loss_plot(tmp_path):
    history = [
        {"loss": 1.0, "ranking_loss": 0.3, "pruning_loss": 0.9, "step": 1},
        {"eval_loss": 0.8, "eval_ranking_loss": 0.25, "eval_pruning_loss": 0.7, "step": 1},
        {"loss": 0.5, "ranking_loss": 0.2, "pruning_loss": 0.45, "step": 2},
    ]
    assert plot_losses(history, tmp_path / "l.png").read_bytes()[:8] == PNG_MAGIC
