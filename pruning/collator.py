"""Rows of the context-relevance format → tokenized (query, passage) pairs with token labels and ranking targets.

A row holds one query and K passages. Each passage becomes one pair, tokenized through the tokenizer's own pair
template in a single call per batch. Token labels come from the character spans through the offset mapping:
1 / 0 inside a relevant / irrelevant span, -100 for query, special and padding tokens and for passage tokens
outside every span.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from pruning.losses import IGNORE_INDEX
from pruning.spans import token_span_index

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
    truncated_spans: int = field(default=0, init=False)
    total_spans: int = field(default=0, init=False)

    def __call__(self, rows: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        queries, passages, spans, relevance, targets = [], [], [], [], []
        for row in rows:
            for p, text in enumerate(row["texts"]):
                queries.append(row["query"])
                passages.append(text)
                spans.append(row["context_spans"][p])
                relevance.append(row["context_spans_relevance"][p])
                targets.append(float(row[self.target_column][p]))
        enc = self.tokenizer(
            queries,
            passages,
            truncation="only_second",
            max_length=self.max_length,
            padding=True,
            return_offsets_mapping=True,
            return_tensors="pt",
        )
        offsets = enc.pop("offset_mapping").tolist()
        labels = []
        for i in range(len(passages)):
            seq_ids = enc.sequence_ids(i)
            labels.append(token_labels_for_pair(offsets[i], seq_ids, spans[i], relevance[i]))
            self._count_truncation(offsets[i], seq_ids, spans[i])
        batch = {k: v for k, v in enc.items() if k in ("input_ids", "attention_mask", "token_type_ids")}
        batch["labels"] = torch.tensor(labels, dtype=torch.long)
        batch["ranking_targets"] = torch.tensor(targets, dtype=torch.float32)
        return batch

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
