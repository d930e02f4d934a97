"""Fixtures of the serving tests: the tiny saved pruner (tests/conftest.py) loaded, and its ONNX export (fp32 + int8)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pruning.train.modeling import ContextPruner


@pytest.fixture(scope="session")
def torch_pruner(pruner_dir) -> ContextPruner:
    return ContextPruner.from_pretrained(pruner_dir)


@pytest.fixture(scope="session")
def onnx_dir(tmp_path_factory, pruner_dir) -> Path:
    from pruning.prune.onnx_export import export_onnx

    return export_onnx(pruner_dir, tmp_path_factory.mktemp("onnx"), quantize=True)
