"""An exported pruner run by onnxruntime on CPU, behind the interface ContextScorer uses of a ContextPruner.

    model = OnnxPrunerModel("exported/")             # or variant="int8" for model.int8.onnx
    tokenizer = AutoTokenizer.from_pretrained("exported/")
    ContextScorer(model, tokenizer, device="cpu").score(items)

`config`, `eval()`, `to(device)` and `__call__(input_ids, attention_mask, token_type_ids=None)` returning a
PrunerOutput of torch tensors are all the scorer needs; nothing here imports onnxruntime until a model is loaded.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import transformers

from pruning.errors import PruningError
from pruning.prune.onnx_export import INSTALL_HINT, MODEL_FILES, OUTPUTS
from pruning.train.modeling import PrunerOutput


def _onnxruntime():
    try:
        import onnxruntime
    except ImportError:
        raise PruningError(f"the ONNX backend needs onnxruntime, which is not installed: {INSTALL_HINT}") from None
    return onnxruntime


def _numpy(value, name: str) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    array = np.asarray(value)
    if array.ndim != 2 or not np.issubdtype(array.dtype, np.integer):
        raise PruningError(f"ONNX pruner: {name} must be a 2-D integer array, got shape {array.shape} {array.dtype}")
    return array.astype(np.int64, copy=False)


class OnnxPrunerModel:
    """An `export_onnx` directory loaded into an onnxruntime CPU session; call it like a ContextPruner."""

    def __init__(self, directory: str | Path, variant: str = "fp32", threads: int | None = None):
        """Load `directory/model.onnx` (variant fp32) or `model.int8.onnx` (int8); `threads` sets onnxruntime's
        intra-op threads (None: onnxruntime's default, one per physical core)."""
        directory = Path(directory)
        if variant not in MODEL_FILES:
            raise PruningError(f"ONNX variant {variant!r}: expected one of {', '.join(MODEL_FILES)}")
        if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int) or threads < 1):
            raise PruningError(f"ONNX threads {threads!r}: expected a positive integer or None")
        path = directory / MODEL_FILES[variant]
        if not path.is_file():
            hint = " (export with --quantize int8)" if variant == "int8" else " (export it with pruning-export)"
            raise PruningError(f"{path}: no ONNX model here{hint}")
        ort = _onnxruntime()
        try:
            self.config = transformers.AutoConfig.from_pretrained(directory)
        except (OSError, ValueError) as exc:
            raise PruningError(f"{directory}: cannot read the backbone config ({exc})") from None
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        if threads is not None:
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        try:
            self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own Fail/InvalidGraph types for unreadable files
            raise PruningError(f"{path}: onnxruntime cannot load it ({type(exc).__name__}: {exc})") from None
        self.path = path
        self.variant = variant
        self.input_names = [i.name for i in self.session.get_inputs()]
        missing = {"input_ids", "attention_mask"} - set(self.input_names)
        outputs = [o.name for o in self.session.get_outputs()]
        if missing or not set(OUTPUTS) <= set(outputs):
            raise PruningError(
                f"{path}: not a pruner graph (inputs {self.input_names}, outputs {outputs}; expected input_ids, "
                f"attention_mask -> {', '.join(OUTPUTS)})"
            )

    def eval(self) -> OnnxPrunerModel:
        """No-op (an exported graph has no dropout); returns self like nn.Module.eval."""
        return self

    def to(self, device: str | torch.device) -> OnnxPrunerModel:
        """Only CPU is supported: any other device is a PruningError rather than a silent CPU run."""
        if torch.device(device).type != "cpu":
            raise PruningError(f"{self.path}: the ONNX backend runs on CPU only, not {str(device)!r}: use device='cpu'")
        return self

    def __call__(self, input_ids, attention_mask, token_type_ids=None) -> PrunerOutput:
        """Run the graph on one padded batch; token types default to zeros, as the torch backbone does."""
        feed = {"input_ids": _numpy(input_ids, "input_ids"), "attention_mask": _numpy(attention_mask, "attention_mask")}
        if feed["attention_mask"].shape != feed["input_ids"].shape:
            raise PruningError(
                f"ONNX pruner: attention_mask shape {feed['attention_mask'].shape} != input_ids "
                f"{feed['input_ids'].shape}"
            )
        if token_type_ids is not None:
            types = _numpy(token_type_ids, "token_type_ids")
            if "token_type_ids" not in self.input_names and types.any():
                raise PruningError(f"{self.path}: this backbone takes no token_type_ids, but non-zero ones were given")
            feed["token_type_ids"] = types
        if "token_type_ids" in self.input_names and "token_type_ids" not in feed:
            feed["token_type_ids"] = np.zeros_like(feed["input_ids"])
        feed = {name: feed[name] for name in self.input_names}
        token_logits, ranking_logits = self.session.run(list(OUTPUTS), feed)
        return PrunerOutput(torch.from_numpy(ranking_logits), torch.from_numpy(token_logits))

    forward = __call__
