"""`Pruner`: a saved pruner behind a small API — question + context in, kept sentences with offsets out.

Scoring goes through `pruning.evaluate.scoring.ContextScorer`, the path `pruning-exec` evaluates with: the same
pair format, exact token ranges, windows of whole sentences for long contexts, and length-sorted batches.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, overload

from pruning.data.spans import join_contexts
from pruning.errors import PruningError
from pruning.evaluate.scoring import ContextScorer, PassageInput
from pruning.prune.result import PruneResult, build_result
from pruning.prune.splitters import Splitter, get_splitter
from pruning.prune.threshold import read_default_threshold

Context = str | Sequence[str]
BACKENDS = ("torch", "onnx", "onnx-int8")


class Pruner:
    """Prune contexts with a saved pruner. Build it with `Pruner.from_pretrained(model_dir)`."""

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        default_threshold: float | None = None,
        splitter: str | Splitter | None = None,
        batch_size: int = 32,
        max_length: int | None = None,
        device: str | None = None,
    ):
        self.scorer = ContextScorer(model, tokenizer, max_length=max_length, batch_size=batch_size, device=device)
        self.default_threshold = default_threshold
        self.split = get_splitter(splitter)

    @classmethod
    def from_pretrained(
        cls,
        model_dir: str | Path,
        device: str | None = None,
        backend: str = "torch",
        splitter: str | Splitter | None = None,
        batch_size: int = 32,
        max_length: int | None = None,
    ) -> Pruner:
        """Load a model directory written by `pruning-train` (or by `pruning-export --onnx` for backend="onnx", or
        "onnx-int8" for its quantised model, which is faster and drifts: see docs/api.md).

        `device=None` takes CUDA when available, else the CPU. The model's default threshold (set by
        `pruning-exec --set-default-threshold`) is read from its pruner_config.json.
        """
        from transformers import AutoTokenizer

        if backend not in BACKENDS:
            raise PruningError(f"backend {backend!r}: expected one of {', '.join(BACKENDS)}")
        if backend.startswith("onnx"):
            from pruning.prune.onnx_backend import OnnxPrunerModel

            model: Any = OnnxPrunerModel(model_dir, variant="int8" if backend == "onnx-int8" else "fp32")
            device = device or "cpu"  # onnxruntime runs here on the CPU
        else:
            from pruning.train.modeling import ContextPruner

            model = ContextPruner.from_pretrained(model_dir)
        try:
            tokenizer = AutoTokenizer.from_pretrained(model_dir)
        except (OSError, ValueError) as exc:
            raise PruningError(f"{model_dir}: cannot load the tokenizer: {exc}") from None
        stored = read_default_threshold(model_dir)
        return cls(
            model,
            tokenizer,
            default_threshold=None if stored is None else float(stored["value"]),
            splitter=splitter,
            batch_size=batch_size,
            max_length=max_length,
            device=device,
        )

    @overload
    def prune(self, question: str, context: Context, threshold: float | None = None, **kw: Any) -> PruneResult: ...

    @overload
    def prune(
        self, question: list[str], context: list[Context], threshold: float | None = None, **kw: Any
    ) -> list[PruneResult]: ...

    def prune(self, question, context, threshold=None, batch_size=None, progress=False):
        """Prune one context (`question: str`) or many (`question: list[str]`, `context: list`, same length).

        A context is a string, split into sentences by the splitter, or a list of sentences (joined as the
        evaluator joins contexts). A sentence is kept when its score >= `threshold` (default: the model's).
        """
        single = isinstance(question, str)
        questions = [question] if single else list(question)
        contexts = [context] if single else context
        if not single and (not isinstance(contexts, list | tuple) or len(contexts) != len(questions)):
            got = len(contexts) if isinstance(contexts, list | tuple) else type(contexts).__name__
            raise PruningError(f"prune: {len(questions)} questions but {got} contexts: pass one context per question")
        t = self._threshold(threshold)
        inputs = [self._input(i, q, c) for i, (q, c) in enumerate(zip(questions, contexts, strict=True))]
        bad_batch = isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1
        if batch_size is not None and bad_batch:
            raise PruningError(f"prune: batch_size must be an integer >= 1, got {batch_size!r}")
        default_batch = self.scorer.batch_size
        self.scorer.batch_size = batch_size or default_batch
        try:
            scored = self.scorer.score(inputs, progress=progress)
        finally:
            self.scorer.batch_size = default_batch
        results = [
            build_result(x.query, x.passage, x.spans, s.scores, t, s.ranking_logit)
            for x, s in zip(inputs, scored, strict=True)
        ]
        return results[0] if single else results

    def _threshold(self, threshold: float | None) -> float:
        if threshold is None:
            if self.default_threshold is None:
                raise PruningError(
                    "prune: no threshold given and the model has no default "
                    "(store one with pruning-exec ... --set-default-threshold)"
                )
            return self.default_threshold
        if isinstance(threshold, bool) or not isinstance(threshold, int | float) or not 0.0 <= threshold <= 1.0:
            raise PruningError(f"prune: threshold must be a number in [0, 1], got {threshold!r}")
        return float(threshold)

    def _input(self, i: int, question: Any, context: Any) -> PassageInput:
        where = f"prune: input {i}"
        if not isinstance(question, str) or not question.strip():
            raise PruningError(f"{where}: field 'question': expected a non-empty string, got {question!r}")
        if isinstance(context, str):
            if not context.strip():
                raise PruningError(f"{where}: field 'context': empty")
            spans = [(int(a), int(b)) for a, b in self.split(context)]
            _check_spans(spans, len(context), where)
            return PassageInput(question, context, spans)
        if not isinstance(context, list | tuple) or not context:
            raise PruningError(f"{where}: field 'context': expected a string or a non-empty list of sentences")
        for k, sentence in enumerate(context):
            if not isinstance(sentence, str) or not sentence.strip():
                raise PruningError(f"{where}: field 'context[{k}]': expected a non-empty string, got {sentence!r}")
        passage, spans = join_contexts(list(context))
        return PassageInput(question, passage, spans)


def _check_spans(spans: list[tuple[int, int]], n: int, where: str) -> None:
    """A splitter's output: ordered, non-overlapping, non-empty spans inside the text."""
    if not spans:
        raise PruningError(f"{where}: field 'context': the splitter found no sentence")
    previous = 0
    for a, b in spans:
        if not previous <= a < b <= n:
            raise PruningError(f"{where}: the splitter returned span ({a}, {b}), out of order or outside the text")
        previous = b
