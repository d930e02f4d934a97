"""Teacher scores for ranking distillation: how similar multilingual-e5 finds a query and a passage.

Provence distils its ranking head from a teacher reranker. Offline, the strongest relevance model at hand is
the e5 bi-encoder itself (query and passage embedded apart, with e5's ``query: `` / ``passage: `` prefixes,
mean-pooled and normalised). The training format wants teacher scores in [0, 1], so the cosine similarity is
mapped through ``sigmoid((cosine - CENTRE) / TEMPERATURE)``: e5 cosines bunch between 0.75 and 0.95, and on
JaQuAD rows a gold passage averages about 0.89 against 0.82 for a same-article negative, so the midpoint 0.85
with a 0.02 temperature spreads them over most of [0, 1].

The sentence teacher (`add_sentence_scores`) scores every sentence span of every passage alone, the same way:
``passage: `` + the span's text, embedded apart, its cosine with the ``query: `` embedding mapped through the same
sigmoid with the same CENTRE and TEMPERATURE, rounded to 5 decimals.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from pruning.data.training_rows import SENTENCE_TEACHER_COLUMN, TEACHER_PREFIX
from pruning.errors import PruningError

__all__ = ["CENTRE", "TEMPERATURE", "E5Teacher", "add_sentence_scores", "add_teacher_scores", "calibrate"]

logger = logging.getLogger(__name__)

QUERY_PREFIX = "query: "
PASSAGE_PREFIX = "passage: "
CENTRE = 0.85
TEMPERATURE = 0.02


class E5Teacher:
    """An e5-style bi-encoder: mean-pooled, L2-normalised embeddings of prefixed texts."""

    def __init__(self, model_dir: str, batch_size: int = 32, max_length: int = 512, device: str | None = None):
        from transformers import AutoModel, AutoTokenizer

        if batch_size < 1:
            raise PruningError(f"teacher batch size must be >= 1, got {batch_size}")
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(model_dir)
            self.model = AutoModel.from_pretrained(model_dir, add_pooling_layer=False).eval()
        except (OSError, ValueError) as exc:
            raise PruningError(f"teacher {model_dir}: cannot load a model and tokenizer ({exc})") from exc
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.model.to(self.device)
        self.batch_size = batch_size
        self.max_length = max_length
        self.truncated_texts = 0  # texts longer than max_length, embedded from their first max_length tokens

    @torch.inference_mode()
    def embed(self, texts: Sequence[str], progress: bool = False, desc: str = "embed") -> np.ndarray:
        """Embeddings of `texts` (already prefixed), in input order; batches are formed by length."""
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), self.model.config.hidden_size), dtype=np.float32)
        starts = range(0, len(order), self.batch_size)
        truncated = 0
        for start in tqdm(starts, desc=desc, disable=not progress, unit="batch"):
            idx = order[start : start + self.batch_size]
            enc = self.tokenizer(
                [texts[i] for i in idx],
                padding=True,
                truncation=True,
                max_length=self.max_length,
                return_overflowing_tokens=True,  # a text past max_length adds rows: counted, then dropped
                return_tensors="pt",
            )
            sample = enc.pop("overflow_to_sample_mapping")
            first = torch.ones_like(sample, dtype=torch.bool)
            first[1:] = sample[1:] != sample[:-1]
            truncated += len(set(sample[~first].tolist()))
            enc = {key: value[first].to(self.device) for key, value in enc.items()}
            hidden = self.model(**enc).last_hidden_state
            mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1)
            out[idx] = torch.nn.functional.normalize(pooled, dim=-1).float().cpu().numpy()
        if truncated:
            logger.warning(
                "%s: %d of %d texts exceed %d tokens; embedded from their first %d",
                desc,
                truncated,
                len(texts),
                self.max_length,
                self.max_length,
            )
        self.truncated_texts += truncated
        return out


def add_teacher_scores(
    rows: Sequence[dict[str, Any]], teacher: E5Teacher, name: str = "e5", progress: bool = False
) -> str:
    """Add ``teacher_scores.<name>`` (one score in [0, 1] per text) to every row; return the column's name."""
    column = TEACHER_PREFIX + name
    queries = embedded_by_text(teacher, (row["query"] for row in rows), QUERY_PREFIX, progress, "teacher: queries")
    texts = (text for row in rows for text in row["texts"])
    passages = embedded_by_text(teacher, texts, PASSAGE_PREFIX, progress, "teacher: passages")
    for row in rows:
        q = queries[row["query"]]
        row[column] = [calibrate(float(q @ passages[text])) for text in row["texts"]]
    return column


def embedded_by_text(
    teacher: E5Teacher, texts: Iterable[str], prefix: str, progress: bool, what: str
) -> dict[str, Any]:
    """Each distinct text's embedding by text: embedded once, in sorted order."""
    unique = sorted(set(texts))
    return dict(zip(unique, teacher.embed([prefix + t for t in unique], progress, what), strict=True))


def calibrate(cosine: float) -> float:
    """A teacher cosine → a score in [0, 1]: ``sigmoid((cosine - CENTRE) / TEMPERATURE)``, rounded to 5 decimals."""
    return round(1.0 / (1.0 + math.exp(-(cosine - CENTRE) / TEMPERATURE)), 5)  # a cosine lies in [-1, 1]: no overflow


def add_sentence_scores(rows: Sequence[dict[str, Any]], teacher: E5Teacher, progress: bool = False) -> str:
    """Add ``context_spans_teacher`` to every row: per passage, per span of ``context_spans``, the calibrated
    cosine of the query and that sentence alone (each distinct sentence embedded once); return the field's name."""
    queries = embedded_by_text(
        teacher, (row["query"] for row in rows), QUERY_PREFIX, progress, "sentence teacher: queries"
    )
    texts = (
        text[a:b]
        for row in rows
        for text, spans in zip(row["texts"], row["context_spans"], strict=True)
        for a, b in spans
    )
    sentences = embedded_by_text(teacher, texts, PASSAGE_PREFIX, progress, "sentence teacher: sentences")
    for row in rows:
        q = queries[row["query"]]
        row[SENTENCE_TEACHER_COLUMN] = [
            [calibrate(float(q @ sentences[text[a:b]])) for a, b in spans]
            for text, spans in zip(row["texts"], row["context_spans"], strict=True)
        ]
    return SENTENCE_TEACHER_COLUMN
