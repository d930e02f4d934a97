"""Rows of the context-relevance format → tokenized (query, passage) pairs with token labels and ranking targets.

A row holds one query and K passages. Each passage becomes one pair, tokenized through the tokenizer's own pair
template in a single call per batch. Token labels come from the character spans through the offset mapping:
1 / 0 inside a relevant / irrelevant span, -100 for query, special and padding tokens and for passage tokens
outside every span.

With `sentence_teacher_weight` w > 0 the batch also carries `token_targets`: each labelled token's target keep
probability (1 − w) × its label + w × its sentence's teacher score (the row's `context_spans_teacher`); the loss
then uses them in place of the labels (pruning.train.losses). w = 0 adds nothing, so batches are as before.

`token_labels="reference"` reproduces the reference instead (pruning.train.reference_labels): its re-tokenised span
positions, `longest_first` truncation, and only `input_ids` + `attention_mask` as model inputs (the reference
never passed token type ids to the backbone).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from pruning.data.spans import token_span_index
from pruning.data.training_rows import SENTENCE_TEACHER_COLUMN
from pruning.errors import PruningError
from pruning.train.losses import IGNORE_INDEX
from pruning.train.reference_labels import passage_start, reference_token_labels

TOKEN_LABELS = ("offsets", "reference")
#: The batch key of the per-batch span counts (`counts_in_batch`): not a model input.
SPAN_COUNTS = "span_counts"
#: The batch key of the soft per-token targets (sentence_teacher_weight > 0): not a model input.
TOKEN_TARGETS = "token_targets"

logger = logging.getLogger(__name__)


def token_labels_for_pair(
    offsets: Sequence[tuple[int, int]],
    sequence_ids: Sequence[int | None],
    spans: Sequence[Sequence[int]],
    relevance: Sequence[int],
) -> list[int]:
    """Label each token of one encoded pair from the passage's character spans (see module docstring).

    A token belongs to the span that contains its first character; zero-width tokens get no label.
    """
    index = token_span_index(offsets, [s == 1 for s in sequence_ids], spans)
    rel = np.asarray(list(relevance) + [IGNORE_INDEX], dtype=np.int64)  # index -1 → IGNORE_INDEX
    return rel[index].tolist()


@dataclass
class PruningCollator:
    """Callable for `Trainer(data_collator=...)`: list of rows → model inputs + `labels` + `ranking_targets`."""

    tokenizer: Any
    max_length: int = 512
    target_column: str = "labels"
    token_labels: str = "offsets"
    #: add `span_counts` = tensor([truncated, total]) of this batch, so that a trainer counts the spans of the
    #: batches it consumes (not those a data loader prefetched or collated in a worker process)
    counts_in_batch: bool = False
    #: w in [0, 1]: token targets (1 − w) × label + w × the sentence teacher's score of the token's sentence
    sentence_teacher_weight: float = 0.0
    truncated_spans: int = field(default=0, init=False)
    total_spans: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        if self.token_labels not in TOKEN_LABELS:
            raise ValueError(
                f"PruningCollator: token_labels must be one of {', '.join(TOKEN_LABELS)}, got {self.token_labels!r}"
            )
        if not 0.0 <= self.sentence_teacher_weight <= 1.0:
            raise ValueError(
                f"PruningCollator: sentence_teacher_weight must lie in [0, 1], got {self.sentence_teacher_weight}"
            )
        if self.sentence_teacher_weight and self.token_labels == "reference":
            raise ValueError("PruningCollator: sentence_teacher_weight needs token_labels='offsets'")

    def __call__(self, rows: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        counted = (self.truncated_spans, self.total_spans)
        queries, passages, spans, relevance, targets, sentence_scores = [], [], [], [], [], []
        for row in rows:
            if self.sentence_teacher_weight and row.get(SENTENCE_TEACHER_COLUMN) is None:
                raise PruningError(
                    f"row of query {row['query']!r}: field {SENTENCE_TEACHER_COLUMN!r} is missing, and "
                    "sentence_teacher_weight > 0 needs it (pruning-data --sentence-teacher)"
                )
            for p, text in enumerate(row["texts"]):
                queries.append(row["query"])
                passages.append(text)
                spans.append(row["context_spans"][p])
                relevance.append(row["context_spans_relevance"][p])
                targets.append(float(row[self.target_column][p]))
                if self.sentence_teacher_weight:
                    sentence_scores.append(row[SENTENCE_TEACHER_COLUMN][p])
        reference = self.token_labels == "reference"
        enc = self.tokenizer(
            queries,
            passages,
            truncation=True if reference else "only_second",  # True: the reference's longest_first
            max_length=self.max_length,
            padding=True,
            return_offsets_mapping=True,
            return_tensors="pt",
        )
        offsets = enc.pop("offset_mapping").tolist()
        labels, soft, starts = [], [], {}
        width = enc["input_ids"].shape[1]
        for i in range(len(passages)):
            seq_ids = enc.sequence_ids(i)
            if reference:
                if queries[i] not in starts:
                    starts[queries[i]] = passage_start(self.tokenizer, queries[i])
                labels.append(
                    reference_token_labels(
                        self.tokenizer, queries[i], passages[i], spans[i], relevance[i], width, starts[queries[i]]
                    )
                )
            else:
                labels.append(token_labels_for_pair(offsets[i], seq_ids, spans[i], relevance[i]))
                if self.sentence_teacher_weight:
                    soft.append(self._soft_targets(offsets[i], seq_ids, spans[i], relevance[i], sentence_scores[i]))
            self._count_truncation(offsets[i], seq_ids, spans[i])
        inputs = ("input_ids", "attention_mask") if reference else ("input_ids", "attention_mask", "token_type_ids")
        batch = {k: v for k, v in enc.items() if k in inputs}
        batch["labels"] = torch.tensor(labels, dtype=torch.long)
        batch["ranking_targets"] = torch.tensor(targets, dtype=torch.float32)
        if self.sentence_teacher_weight:
            batch[TOKEN_TARGETS] = torch.tensor(np.stack(soft), dtype=torch.float32)
        if self.counts_in_batch:
            batch[SPAN_COUNTS] = torch.tensor(
                [self.truncated_spans - counted[0], self.total_spans - counted[1]], dtype=torch.long
            )
        return batch

    def _soft_targets(self, offsets, seq_ids, spans, relevance, scores) -> np.ndarray:
        """(1 − w) × label + w × sentence score on each labelled token; 0 on the others (the loss ignores them)."""
        index = np.asarray(token_span_index(offsets, [s == 1 for s in seq_ids], spans))
        w = self.sentence_teacher_weight
        per_span = np.append((1.0 - w) * np.asarray(relevance, dtype=np.float64) + w * np.asarray(scores), 0.0)
        return per_span[index]  # index -1 (no span) → the appended 0

    def _count_truncation(self, offsets, seq_ids, spans) -> None:
        last = max((b for (a, b), s in zip(offsets, seq_ids, strict=True) if s == 1), default=0)
        cut = sum(1 for _, end in spans if end > last)
        self.total_spans += len(spans)
        if cut:
            if self.truncated_spans == 0:
                logger.warning(
                    "passages longer than max_length=%d: sentence spans past the window get no token labels "
                    "(counted; see the run summary)",
                    self.max_length,
                )
            self.truncated_spans += cut
