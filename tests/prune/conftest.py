"""Fixtures of the serving tests: a tiny random pruner saved with its tokenizer, and its ONNX export (fp32 + int8)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from pruning.train.modeling import ContextPruner


@pytest.fixture(scope="session")
def pruner_dir(tmp_path_factory, tiny_backbone_dir, tiny_tokenizer) -> Path:
    torch.manual_seed(3)
    model = ContextPruner.from_backbone(str(tiny_backbone_dir))
    return model.save_pretrained(tmp_path_factory.mktemp("pruner"), tokenizer=tiny_tokenizer)


@pytest.fixture(scope="session")
def torch_pruner(pruner_dir) -> ContextPruner:
    return ContextPruner.from_pretrained(pruner_dir)


@pytest.fixture(scope="session")
def onnx_dir(tmp_path_factory, pruner_dir) -> Path:
    from pruning.prune.onnx_export import export_onnx

    return export_onnx(pruner_dir, tmp_path_factory.mktemp("onnx"), quantize=True)
