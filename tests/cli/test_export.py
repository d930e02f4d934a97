"""pruning-export: writes a loadable ONNX directory; a bad model directory is one line and exit status 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from pruning.cli.export import main
from pruning.train.modeling import ContextPruner

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def saved_pruner(tmp_path_factory, tiny_backbone_dir, tiny_tokenizer) -> Path:
    torch.manual_seed(5)
    model = ContextPruner.from_backbone(str(tiny_backbone_dir))
    return model.save_pretrained(tmp_path_factory.mktemp("pruner"), tokenizer=tiny_tokenizer)


def test_export_writes_the_directory(saved_pruner, tmp_path, capsys):
    out = tmp_path / "onnx"
    assert main([str(saved_pruner), "--onnx", str(out), "--opset", "18"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["onnx_dir"] == str(out) and summary["opset"] == 18 and summary["files"] == {"fp32": "model.onnx"}
    assert summary["check_max_abs_diff_vs_torch"]["fp32"]["token_logits"] < 1e-4
    written = {p.name for p in out.iterdir()}
    assert {"model.onnx", "onnx_config.json", "config.json", "pruner_config.json", "tokenizer.json"} <= written
    assert "model.int8.onnx" not in written and "model.safetensors" not in written


def test_bad_model_dir_and_bad_options_exit_2_with_one_line(tmp_path, saved_pruner, capsys):
    assert main([str(tmp_path / "none"), "--onnx", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: {tmp_path / 'none'}: not a pruner model directory (pruner_config.json missing)"]
    assert main([str(saved_pruner), "--onnx", str(tmp_path / "out"), "--quantize", "int4"]) == 2
    assert "argument --quantize: invalid choice: 'int4'" in capsys.readouterr().err
    assert main([str(saved_pruner)]) == 2
    assert "the following arguments are required: --onnx" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
