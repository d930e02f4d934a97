"""ONNX export: the graph gives torch's outputs on padded batches of any shape, and int8 stays close."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from transformers import AutoTokenizer

from pruning.data.eval_files import load_eval_file
from pruning.errors import PruningError
from pruning.evaluate.scoring import ContextScorer
from pruning.prune.onnx_backend import OnnxPrunerModel
from pruning.prune.onnx_export import ONNX_CONFIG, export_onnx

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
QUERIES = ["東京は？", "What is the capital of Japan?", "雨", "Osaka", "日本の首都はどこですか？", "a", "why"]
PASSAGES = [
    "東京は日本の首都です。大阪は大きな都市です。",
    "Tokyo is the capital of Japan.",
    "雨です。",
    "「こんにちは。」と彼は言った。東京は晴れです。今日は雨が降りました。",
    "Tokyo.",
    "Osaka is a large city. It rained in Tokyo today, and the weather was bad.",
    "東京",
]
#: Largest |int8 - fp32| seen on the tiny model: keep probability ~5e-3, ranking logit ~2e-4 (bounds ~4x that).
INT8_KEEP_TOLERANCE = 0.02
INT8_RANKING_TOLERANCE = 1e-3


def _batch(tokenizer, rows: list[int]) -> dict[str, torch.Tensor]:
    enc = tokenizer([QUERIES[r] for r in rows], [PASSAGES[r] for r in rows], padding=True, return_tensors="pt")
    return {k: enc[k] for k in ("input_ids", "attention_mask")}


@pytest.fixture(scope="module")
def fp32(onnx_dir) -> OnnxPrunerModel:
    return OnnxPrunerModel(onnx_dir, threads=1)


def test_the_directory_holds_graphs_config_and_a_working_tokenizer(onnx_dir, pruner_dir, tiny_tokenizer):
    meta = json.loads((onnx_dir / ONNX_CONFIG).read_text())
    assert meta["inputs"] == ["input_ids", "attention_mask", "token_type_ids"]  # BERT takes token types
    assert meta["files"] == {"fp32": "model.onnx", "int8": "model.int8.onnx"} and meta["quantized"] is True
    assert meta["opset"] == 17 and meta["source_model"] == str(pruner_dir.resolve())
    assert set(meta["versions"]) == {"torch", "transformers", "onnx", "onnxruntime"}
    assert (onnx_dir / "pruner_config.json").read_bytes() == (pruner_dir / "pruner_config.json").read_bytes()
    # dynamic axes, read from the graph itself: symbolic batch and sequence, only the class axis fixed
    import onnx  # here, not at the top: a test process that runs none of these tests does not load it

    graph = onnx.load(str(onnx_dir / "model.onnx"), load_external_data=False).graph

    def dims(values):
        return {v.name: [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim] for v in values}

    assert dims(graph.input) == {n: ["batch", "sequence"] for n in meta["inputs"]}
    assert dims(graph.output) == {"token_logits": ["batch", "sequence", 2], "ranking_logits": ["batch"]}
    copied = AutoTokenizer.from_pretrained(onnx_dir)
    text = "東京は日本の首都です。Tokyo."
    assert copied(text)["input_ids"] == tiny_tokenizer(text)["input_ids"]


@pytest.mark.parametrize("rows", [[0], [1, 2, 3], [3, 0, 6, 5, 4, 2, 1], [2, 2]], ids=["1", "3", "7", "2-unpadded"])
def test_fp32_equals_torch_on_padded_batches_of_any_shape(fp32, torch_pruner, tiny_tokenizer, rows):
    batch = _batch(tiny_tokenizer, rows)
    assert batch["input_ids"].shape[0] == len(rows)
    with torch.no_grad():
        expected = torch_pruner(**batch)
    got = fp32(**batch)
    assert got.token_logits.shape == (*batch["input_ids"].shape, 2) and got.ranking_logits.shape == (len(rows),)
    np.testing.assert_allclose(got.token_logits.numpy(), expected.token_logits.numpy(), rtol=0, atol=1e-4)
    np.testing.assert_allclose(got.ranking_logits.numpy(), expected.ranking_logits.numpy(), rtol=0, atol=1e-4)


def test_the_token_head_reads_the_last_hidden_state(fp32, torch_pruner, tiny_tokenizer):
    """Independent of the hook: head(hidden_states[-1]) of a plain backbone call, with non-zero token types."""
    batch = _batch(tiny_tokenizer, [3, 1, 6])
    types = (torch.arange(batch["input_ids"].shape[1]) % 3 == 0).long().expand_as(batch["input_ids"])
    with torch.no_grad():
        out = torch_pruner.backbone(**batch, token_type_ids=types, output_hidden_states=True)
        head = torch_pruner.pruning_head(out.hidden_states[-1])
        without_types = torch_pruner(**batch)
    got = fp32(**batch, token_type_ids=types)
    np.testing.assert_allclose(got.token_logits.numpy(), head.numpy(), rtol=0, atol=1e-4)
    np.testing.assert_allclose(got.ranking_logits.numpy(), out.logits.squeeze(-1).numpy(), rtol=0, atol=1e-4)
    # the token types are wired into the graph: they move the outputs
    assert np.abs(got.token_logits.numpy() - without_types.token_logits.numpy()).max() > 1e-3


def test_int8_is_quantised_and_close_to_fp32(onnx_dir, fp32, tiny_tokenizer):
    int8 = OnnxPrunerModel(onnx_dir, "int8", threads=1)
    import onnx

    ops = {n.op_type for n in onnx.load(str(onnx_dir / "model.int8.onnx")).graph.node}
    assert {"DynamicQuantizeLinear", "MatMulInteger"} <= ops
    batch = _batch(tiny_tokenizer, [3, 0, 6, 5, 4, 2, 1])
    a, b = fp32(**batch), int8(**batch)
    real = batch["attention_mask"].bool()
    keep_delta = (a.keep_probabilities() - b.keep_probabilities()).abs()[real].max().item()
    ranking_delta = (a.ranking_logits - b.ranking_logits).abs().max().item()
    assert 0 < keep_delta < INT8_KEEP_TOLERANCE
    assert ranking_delta < INT8_RANKING_TOLERANCE


def test_the_scorer_gives_torch_scores(fp32, torch_pruner, tiny_tokenizer):
    items = load_eval_file(ROOT / "pruning-config" / "pruning_data_easy_ja.json")
    expected = ContextScorer(torch_pruner, tiny_tokenizer, batch_size=8, device="cpu").score(items, progress=False)
    got = ContextScorer(fp32, tiny_tokenizer, batch_size=8, device="cpu").score(items, progress=False)
    assert len(got) == len(items) == 30
    for e, g in zip(expected, got, strict=True):
        np.testing.assert_allclose(g.scores, e.scores, rtol=0, atol=1e-4)
        assert g.ranking_logit == pytest.approx(e.ranking_logit, abs=1e-4)


def test_export_errors_are_pruning_errors(tmp_path, pruner_dir, monkeypatch):
    with pytest.raises(PruningError, match=r"opset 9: expected an integer in \[14, 20\]"):
        export_onnx(pruner_dir, tmp_path / "out", opset=9)
    with pytest.raises(PruningError, match="not a pruner model directory"):
        export_onnx(tmp_path / "nowhere", tmp_path / "out")
    with pytest.raises(PruningError, match="must differ from the model directory"):
        export_onnx(pruner_dir, pruner_dir)
    monkeypatch.setitem(__import__("sys").modules, "onnx", None)
    with pytest.raises(PruningError, match=r"needs 'onnx', which is not installed: pip install 'pruning\[onnx\]'"):
        export_onnx(pruner_dir, tmp_path / "out")
    assert not (tmp_path / "out").exists()  # nothing half-written
