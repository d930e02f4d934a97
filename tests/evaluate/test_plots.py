"""The plots render to PNG files (matplotlib with the Agg backend)."""

from __future__ import annotations

import pytest

from pruning.data.eval_files import EvalItem
from pruning.evaluate.plots import plot_sweep
from pruning.evaluate.report import build_result
from pruning.train.plots import plot_losses

pytestmark = pytest.mark.unit

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_sweep_and_loss_plots(tmp_path):
    items = [EvalItem("q", ["a", "b", "c"], [1, 0, 1])]
    result = build_result("d.json", items, [[0.9, 0.2, 0.4]], [0.1, 0.3, 0.5])
    assert plot_sweep(result, tmp_path / "s.png").read_bytes()[:8] == PNG_MAGIC
    history = [
        {"loss": 1.0, "ranking_loss": 0.3, "pruning_loss": 0.9, "step": 1},
        {"eval_loss": 0.8, "eval_ranking_loss": 0.25, "eval_pruning_loss": 0.7, "step": 1},
        {"loss": 0.5, "ranking_loss": 0.2, "pruning_loss": 0.45, "step": 2},
    ]
    assert plot_losses(history, tmp_path / "l.png").read_bytes()[:8] == PNG_MAGIC
