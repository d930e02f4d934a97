"""The sweep plot renders to a PNG file (matplotlib with the Agg backend)."""

from __future__ import annotations

import pytest

from pruning.data.eval_files import EvalItem
from pruning.evaluate.plots import plot_sweep
from pruning.evaluate.report import build_result

pytestmark = pytest.mark.unit

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_sweep_plot(tmp_path):
    items = [EvalItem("q", ["a", "b", "c"], [1, 0, 1])]
    result = build_result("d.json", items, [[0.9, 0.2, 0.4]], [0.1, 0.3, 0.5])
    assert plot_sweep(result, tmp_path / "s.png").read_bytes()[:8] == PNG_MAGIC
