"""What `Pruner.prune` returns: per-sentence scores with character offsets, the pruned text, compression."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class PrunedSentence:
    """One sentence: its place, text, character offsets into the context (`context[start:end] == text`),
    keep score and whether it was kept (score >= threshold)."""

    index: int
    text: str
    start: int
    end: int
    score: float
    kept: bool


@dataclass(frozen=True)
class Compression:
    """Shares removed: of the sentences, and of the context's characters."""

    sentences: float
    characters: float


@dataclass(frozen=True)
class PruneResult:
    """The pruner's answer for one (question, context)."""

    question: str
    context: str  # the text as given (a sentence list: joined as the evaluator joins contexts)
    threshold: float
    reranking_score: float  # sigmoid of the ranking logit: how relevant the whole context is
    sentences: list[PrunedSentence]
    pruned_context: str  # the kept sentences, with the original text between them
    compression: Compression

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def pruned_text(context: str, sentences: list[PrunedSentence]) -> str:
    """The kept sentences in order; between two kept ones, the original text that preceded the later one."""
    parts: list[str] = []
    previous: PrunedSentence | None = None
    for i, sentence in enumerate(sentences):
        if sentence.kept:
            if previous is not None:
                parts.append(context[sentences[i - 1].end : sentence.start])
            parts.append(sentence.text)
            previous = sentence
    return "".join(parts)


def build_result(
    question: str, context: str, spans: list[tuple[int, int]], scores: list[float], threshold: float, logit: float
) -> PruneResult:
    """Assemble a PruneResult from the scorer's output for one input."""
    sentences = [
        PrunedSentence(i, context[a:b], a, b, float(s), s >= threshold)
        for i, ((a, b), s) in enumerate(zip(spans, scores, strict=True))
    ]
    pruned = pruned_text(context, sentences)
    removed = sum(1 for s in sentences if not s.kept)
    compression = Compression(
        sentences=removed / len(sentences), characters=1.0 - len(pruned) / len(context) if context else 0.0
    )
    return PruneResult(question, context, threshold, sigmoid(logit), sentences, pruned, compression)


def sigmoid(x: float) -> float:
    """The logistic function, without overflow for large |x|."""
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)
