"""Evaluation files built from a QA corpus: held-out items in the seed's format, like `pruning_data_easy_ja.json`.

Each question gives one item per passage of its row (`pruning.data.qa.rows.build_rows` with answer labels): its
gold window, whose sentences are relevant where they overlap an answer, and each negative window (another
paragraph of the same article with `hard_negatives`, else of another article) as an item of its own with every
sentence irrelevant. So one file measures both what the seed's `easy_ja` asks (which sentence of a passage
answers) and what `ja_v3`'s unanswered items ask (whether the passage answers at all). Items with fewer than
`min_sentences` sentences cannot be pruned within and are left out, counted in the returned summary.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pruning.data.qa.reader import QACorpus
from pruning.data.qa.rows import build_rows
from pruning.errors import PruningError


@dataclass
class EvalSet:
    """The items, in the seed's JSON format, and what was counted on the way."""

    items: list[dict[str, Any]] = field(default_factory=list)
    questions: int = 0
    too_short: int = 0

    def summary(self) -> dict[str, int]:
        answered = sum(1 for item in self.items if any(item["labels"]))
        return {
            "questions": self.questions,
            "items": len(self.items),
            "items_with_an_answer": answered,
            "items_without": len(self.items) - answered,
            "contexts": sum(len(item["contexts"]) for item in self.items),
            "relevant_contexts": sum(sum(item["labels"]) for item in self.items),
            "items_left_out_too_short": self.too_short,
        }


def build_eval_set(
    corpus: QACorpus,
    *,
    max_queries: int,
    seed: int = 42,
    negatives: int = 1,
    hard_negatives: int = 1,
    max_passage_chars: int = 400,
    min_sentences: int = 2,
) -> EvalSet:
    """Items for up to `max_queries` questions of `corpus`: per question its gold window and `negatives` others."""
    if min_sentences < 1:
        raise PruningError(f"min sentences must be at least 1, got {min_sentences}")
    rows = build_rows(
        corpus,
        k=negatives + 1,
        seed=seed,
        max_queries=max_queries,
        hard_negatives=hard_negatives,
        max_passage_chars=max_passage_chars,
        relevance_mode="answer",
    )
    out = EvalSet(questions=len(rows))
    for row in rows:
        for text, spans, relevance in zip(
            row["texts"], row["context_spans"], row["context_spans_relevance"], strict=True
        ):
            if len(spans) < min_sentences:
                out.too_short += 1
                continue
            out.items.append(
                {"query": row["query"], "contexts": [text[s:e] for s, e in spans], "labels": list(relevance)}
            )
    return out
