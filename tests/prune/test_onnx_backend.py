"""The onnxruntime backend's contract: CPU only, clear errors for a missing package, file or bad input."""

from __future__ import annotations

import shutil
import sys

import numpy as np
import pytest
import torch

from pruning.errors import PruningError
from pruning.evaluate.scoring import ContextScorer
from pruning.prune.onnx_backend import OnnxPrunerModel

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def model(onnx_dir) -> OnnxPrunerModel:
    return OnnxPrunerModel(onnx_dir, threads=1)


def test_it_carries_the_backbone_config_and_runs_on_cpu_only(model, tiny_tokenizer):
    assert model.config.model_type == "bert" and model.config.max_position_embeddings == 256
    assert model.eval() is model and model.to("cpu") is model and model.to(torch.device("cpu")) is model
    with pytest.raises(PruningError, match=r"CPU only, not 'cuda:0': use device='cpu'"):
        model.to("cuda:0")
    with pytest.raises(PruningError, match="CPU only, not 'meta'"):
        ContextScorer(model, tiny_tokenizer, device="meta")


def test_token_types_default_to_zeros(model, tiny_tokenizer):
    enc = tiny_tokenizer(["東京は？", "雨"], ["東京です。", "雨です。晴れです。"], padding=True, return_tensors="pt")
    ids, mask = enc["input_ids"], enc["attention_mask"]
    implicit = model(ids, mask)
    explicit = model(ids, mask, torch.zeros_like(ids))
    assert torch.equal(implicit.token_logits, explicit.token_logits)
    assert implicit.token_logits.dtype == torch.float32 and implicit.ranking_logits.shape == (2,)
    numpy_in = model(ids.numpy().astype(np.int32), mask.numpy())  # any integer array is accepted
    assert torch.equal(numpy_in.ranking_logits, implicit.ranking_logits)


def test_bad_inputs_are_pruning_errors(model):
    ids = torch.ones((2, 5), dtype=torch.long)
    with pytest.raises(PruningError, match=r"input_ids must be a 2-D integer array, got shape \(5,\)"):
        model(ids[0], ids[0])
    with pytest.raises(PruningError, match="attention_mask must be a 2-D integer array.*float32"):
        model(ids, ids.float())
    with pytest.raises(PruningError, match=r"attention_mask shape \(2, 4\) != input_ids \(2, 5\)"):
        model(ids, ids[:, :4])


def test_missing_onnxruntime_says_how_to_install(onnx_dir, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # `import onnxruntime` now raises ImportError
    with pytest.raises(PruningError, match=r"needs onnxruntime, which is not installed: pip install 'pruning\[onnx\]'"):
        OnnxPrunerModel(onnx_dir)


def test_missing_files_and_bad_arguments_name_what_is_wrong(onnx_dir, tmp_path):
    with pytest.raises(PruningError, match=rf"^{tmp_path}/model.onnx: no ONNX model here"):
        OnnxPrunerModel(tmp_path)
    fp32_only = tmp_path / "fp32"
    fp32_only.mkdir()
    for name in ("model.onnx", "config.json"):
        shutil.copy2(onnx_dir / name, fp32_only / name)
    with pytest.raises(PruningError, match=r"model.int8.onnx: no ONNX model here \(export with --quantize int8\)"):
        OnnxPrunerModel(fp32_only, "int8")
    assert OnnxPrunerModel(fp32_only).variant == "fp32"
    with pytest.raises(PruningError, match="ONNX variant 'fp16': expected one of fp32, int8"):
        OnnxPrunerModel(onnx_dir, "fp16")
    with pytest.raises(PruningError, match="ONNX threads 0: expected a positive integer"):
        OnnxPrunerModel(onnx_dir, threads=0)
    (fp32_only / "model.onnx").write_bytes(b"not a graph")
    with pytest.raises(PruningError, match="model.onnx: onnxruntime cannot load it"):
        OnnxPrunerModel(fp32_only)


def test_the_pruner_api_on_the_onnx_backend_matches_torch(pruner_dir, onnx_dir):
    """Pruner.from_pretrained(backend="onnx") scores as the torch model does (the same scoring path)."""
    from pruning import Pruner

    context = "東京は日本の首都です。大阪は西にあります。Tokyo is big."
    torch_result = Pruner.from_pretrained(pruner_dir, device="cpu").prune("首都は？", context, threshold=0.5)
    onnx_result = Pruner.from_pretrained(onnx_dir, backend="onnx").prune("首都は？", context, threshold=0.5)
    assert [s.text for s in onnx_result.sentences] == [s.text for s in torch_result.sentences]
    for a, b in zip(onnx_result.sentences, torch_result.sentences, strict=True):
        assert a.score == pytest.approx(b.score, abs=1e-4)
    assert onnx_result.reranking_score == pytest.approx(torch_result.reranking_score, abs=1e-4)
