"""Export a saved pruner to ONNX (fp32, optionally int8) for fast CPU serving with onnxruntime.

The exported directory holds:
    model.onnx           inputs input_ids, attention_mask (+ token_type_ids where the backbone takes them), all
                         (batch, seq) int64; outputs token_logits (batch, seq, 2) and ranking_logits (batch,)
    model.int8.onnx      (with quantize) the same graph with int8 dynamically quantised MatMul weights
    onnx_config.json     format, opset, inputs, files, the versions used and the check against torch
    config.json, pruner_config.json and the tokenizer files, copied from the model directory

The graph is traced with torch's TorchScript exporter on a padded two-row batch, so the forward hook that feeds
the token head is traced like any other op; every export is then run once in onnxruntime on a batch of another
shape and compared with torch, so a graph that baked in a shape or lost the padding mask fails here, not in use.
"""

from __future__ import annotations

import inspect
import json
import logging
import shutil
import warnings
from pathlib import Path

import numpy as np
import torch
import transformers
from torch import nn

from pruning.errors import PruningError
from pruning.train.modeling import PRUNER_CONFIG, ContextPruner

logger = logging.getLogger(__name__)

ONNX_CONFIG = "onnx_config.json"
INSTALL_HINT = "pip install 'pruning[onnx]'"
FORMAT = "pruning-onnx"
FORMAT_VERSION = 1
#: Graph files by variant: what `export_onnx` writes and `OnnxPrunerModel` loads.
MODEL_FILES = {"fp32": "model.onnx", "int8": "model.int8.onnx"}
OUTPUTS = ("token_logits", "ranking_logits")
DEFAULT_OPSET = 17  # LayerNormalization is a single op from 17 on; the TorchScript exporter supports up to 20
MIN_OPSET, MAX_OPSET = 14, 20
#: Files besides the tokenizer's that the exported directory needs (the backbone config for AutoConfig).
CONFIG_FILES = ("config.json", PRUNER_CONFIG)
TOKENIZER_PATTERNS = (
    "tokenizer*.json",
    "special_tokens_map.json",
    "added_tokens.json",
    "vocab*.txt",
    "vocab.json",
    "merges.txt",
    "*.model",
)
#: Largest |torch - onnxruntime| on the check batch's token and ranking logits for the fp32 graph; above it the
#: export is wrong (a bug), not imprecise.
FP32_TOLERANCE = 1e-3
#: The torch reference batch for the check: shapes differ from the traced batch in both axes.
CHECK_TEXTS = [
    ("What is the capital of Japan?", "Tokyo is the capital. Osaka is a large city. It rained today."),
    ("日本の首都は？", "東京です。"),
    ("Which city?", "Kyoto was the capital for a thousand years, and many temples remain there today."),
]


class _Graph(nn.Module):
    """ContextPruner with positional inputs and a tuple output, the shape torch.onnx.export traces."""

    def __init__(self, pruner: ContextPruner, with_token_types: bool):
        super().__init__()
        self.pruner = pruner
        self.with_token_types = with_token_types

    def forward(self, input_ids, attention_mask, token_type_ids=None):
        out = self.pruner(input_ids, attention_mask, token_type_ids if self.with_token_types else None)
        return out.token_logits, out.ranking_logits


def takes_token_types(model: ContextPruner) -> bool:
    """Whether the backbone's forward accepts token_type_ids (BERT, XLM-R do; ModernBERT does not)."""
    return "token_type_ids" in inspect.signature(model.backbone.forward).parameters


def _require(module: str):
    try:
        return __import__(module)
    except ImportError:
        raise PruningError(f"ONNX export needs {module!r}, which is not installed: {INSTALL_HINT}") from None


def _batch(tokenizer, pairs: list[tuple[str, str]], with_token_types: bool) -> dict[str, torch.Tensor]:
    """Query/passage pairs right-padded as ContextScorer pads them (pad id or 0; token types 0 where absent)."""
    enc = tokenizer([q for q, _ in pairs], [p for _, p in pairs])
    width = max(len(ids) for ids in enc["input_ids"])
    shape = (len(pairs), width)
    batch = {name: torch.zeros(shape, dtype=torch.long) for name in ("input_ids", "attention_mask", "token_type_ids")}
    batch["input_ids"].fill_(tokenizer.pad_token_id or 0)
    for row, ids in enumerate(enc["input_ids"]):
        batch["input_ids"][row, : len(ids)] = torch.tensor(ids)
        batch["attention_mask"][row, : len(ids)] = 1
        if "token_type_ids" in enc:
            batch["token_type_ids"][row, : len(ids)] = torch.tensor(enc["token_type_ids"][row])
    if not with_token_types:
        del batch["token_type_ids"]
    if bool(batch["attention_mask"].all()):
        raise RuntimeError("the trace/check batch must contain padding, or the graph may drop the mask")
    return batch


def _copy_side_files(model_dir: Path, out_dir: Path) -> list[str]:
    copied = []
    for name in CONFIG_FILES:
        shutil.copy2(model_dir / name, out_dir / name)
        copied.append(name)
    tokenizer_files = sorted({p for pattern in TOKENIZER_PATTERNS for p in model_dir.glob(pattern) if p.is_file()})
    if not tokenizer_files:
        raise PruningError(f"{model_dir}: no tokenizer files (tokenizer.json, vocab.txt, ...) to copy")
    for path in tokenizer_files:
        shutil.copy2(path, out_dir / path.name)
        copied.append(path.name)
    return copied


def _run_onnx(path: Path, batch: dict[str, torch.Tensor]) -> tuple[np.ndarray, np.ndarray]:
    ort = _require("onnxruntime")
    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    feed = {i.name: batch[i.name].numpy() for i in session.get_inputs()}
    token_logits, ranking_logits = session.run(list(OUTPUTS), feed)
    return token_logits, ranking_logits


def _max_diffs(path: Path, batch: dict[str, torch.Tensor], expected) -> dict[str, float]:
    """Largest |onnxruntime - torch| over the real (unpadded) positions, for logits and keep probabilities."""
    token_logits, ranking_logits = _run_onnx(path, batch)
    real = batch["attention_mask"].numpy().astype(bool)
    keep = torch.softmax(torch.from_numpy(token_logits), -1)[..., 1].numpy()
    return {
        "token_logits": float(np.abs(token_logits - expected.token_logits.numpy())[real].max()),
        "ranking_logits": float(np.abs(ranking_logits - expected.ranking_logits.numpy()).max()),
        "keep_probability": float(np.abs(keep - expected.keep_probabilities().numpy())[real].max()),
    }


def quantize_int8(source: Path, target: Path) -> dict:
    """Dynamic int8 quantisation of the MatMul weights (activations quantised per batch at run time)."""
    _require("onnx")
    from onnxruntime.quantization import QuantType, quantize_dynamic

    settings = {"method": "dynamic", "weight_type": "QInt8", "per_channel": True, "op_types": ["MatMul"]}
    # The quantiser logs a line per tensor on the root logger, and advises a pre-processing step whose symbolic
    # shape inference fails on these graphs.
    logging.disable(logging.WARNING)
    try:
        quantize_dynamic(
            str(source),
            str(target),
            weight_type=QuantType.QInt8,
            per_channel=True,
            op_types_to_quantize=["MatMul"],
        )
    finally:
        logging.disable(logging.NOTSET)
    return settings


def export_onnx(
    model_dir: str | Path,
    out_dir: str | Path,
    quantize: bool = False,
    opset: int = DEFAULT_OPSET,
) -> Path:
    """Export the pruner saved in `model_dir` to `out_dir/model.onnx` (+ `model.int8.onnx` with `quantize`).

    Returns `out_dir`. Raises PruningError for an unreadable model directory, a missing exporter package or an
    out-of-range opset; a graph whose outputs disagree with torch is a RuntimeError (a bug in the export).
    """
    model_dir, out_dir = Path(model_dir), Path(out_dir)
    if isinstance(opset, bool) or not isinstance(opset, int) or not MIN_OPSET <= opset <= MAX_OPSET:
        raise PruningError(f"opset {opset!r}: expected an integer in [{MIN_OPSET}, {MAX_OPSET}]")
    onnx = _require("onnx")
    ort = _require("onnxruntime")
    if out_dir.resolve() == model_dir.resolve():
        raise PruningError(f"{out_dir}: the ONNX directory must differ from the model directory")
    model = ContextPruner.from_pretrained(model_dir).eval()
    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(model_dir)
    except (OSError, ValueError) as exc:
        raise PruningError(f"{model_dir}: cannot load the tokenizer ({exc})") from None
    with_types = takes_token_types(model)
    inputs = ["input_ids", "attention_mask"] + (["token_type_ids"] if with_types else [])
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PruningError(f"{out_dir}: cannot create: {exc.strerror or exc}") from None
    copied = _copy_side_files(model_dir, out_dir)

    trace = _batch(tokenizer, CHECK_TEXTS[:2], with_types)
    graph_path = out_dir / MODEL_FILES["fp32"]
    dynamic = {name: {0: "batch", 1: "sequence"} for name in inputs}
    dynamic |= {"token_logits": {0: "batch", 1: "sequence"}, "ranking_logits": {0: "batch"}}
    logger.info("exporting %s to %s (opset %d, inputs %s)", model_dir, graph_path, opset, ", ".join(inputs))
    with warnings.catch_warnings():
        # The legacy exporter's deprecation notice and the tracer's "treated as a constant" notes on shape checks
        # that hold for every padded batch; the check below is what guards the graph.
        warnings.simplefilter("ignore")
        torch.onnx.export(
            _Graph(model, with_types).eval(),
            tuple(trace[name] for name in inputs),
            str(graph_path),
            input_names=inputs,
            output_names=list(OUTPUTS),
            dynamic_axes=dynamic,
            opset_version=opset,
            do_constant_folding=True,
            dynamo=False,
        )

    check = _batch(tokenizer, CHECK_TEXTS, with_types)
    with torch.no_grad():
        expected = model(**check)
    diffs = {"fp32": _max_diffs(graph_path, check, expected)}
    worst = max(diffs["fp32"]["token_logits"], diffs["fp32"]["ranking_logits"])
    if not worst <= FP32_TOLERANCE:
        raise RuntimeError(f"{graph_path}: onnxruntime differs from torch by {worst:.3g} > {FP32_TOLERANCE}")
    files = {"fp32": MODEL_FILES["fp32"]}
    quantization = None
    if quantize:
        int8_path = out_dir / MODEL_FILES["int8"]
        logger.info("quantising to %s", int8_path)
        quantization = quantize_int8(graph_path, int8_path)
        diffs["int8"] = _max_diffs(int8_path, check, expected)
        files["int8"] = MODEL_FILES["int8"]
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "exporter": "torch.onnx.export (TorchScript, dynamo=False)",
        "opset": opset,
        "inputs": inputs,
        "outputs": list(OUTPUTS),
        "dynamic_axes": {"batch": "all inputs and outputs, axis 0", "sequence": "inputs and token_logits, axis 1"},
        "files": files,
        "quantized": quantize,
        "quantization": quantization,
        "source_model": str(model_dir.resolve()),
        "copied_files": copied,
        "check_max_abs_diff_vs_torch": diffs,
        "versions": {
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "onnx": onnx.__version__,
            "onnxruntime": ort.__version__,
        },
    }
    (out_dir / ONNX_CONFIG).write_text(json.dumps(meta, indent=2) + "\n")
    logger.info("ONNX check vs torch (max |Δ|): %s", diffs)
    return out_dir
