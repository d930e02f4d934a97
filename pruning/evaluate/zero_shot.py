"""The bi-encoder yardstick: an e5-style model used zero-shot, each context scored alone against the query.

A context's score is ``(cosine + 1) / 2`` of the query's and the context's own embeddings (``query: `` and
``passage: `` prefixes, mean pooling, as the teacher of `pruning.data.teacher`): a monotone map of the cosine into
[0, 1], so that ranks, AUCs and the best threshold over every observed score are the cosine's own. It needs no
training, which makes it what a trained pruner must beat at telling sentences apart.
"""

from __future__ import annotations

from collections.abc import Sequence

from pruning.data.eval_files import EvalItem
from pruning.data.teacher import PASSAGE_PREFIX, QUERY_PREFIX, E5Teacher, embedded_by_text


def sentence_scores(items: Sequence[EvalItem], teacher: E5Teacher, progress: bool = False) -> list[list[float]]:
    """Per item, per context: (cosine of the query and that context alone + 1) / 2, in [0, 1]."""
    q_vec = embedded_by_text(teacher, (item.query for item in items), QUERY_PREFIX, progress, "queries")
    c_vec = embedded_by_text(
        teacher, (c for item in items for c in item.contexts), PASSAGE_PREFIX, progress, "contexts"
    )
    return [
        [min(1.0, max(0.0, (float(q_vec[item.query] @ c_vec[c]) + 1.0) / 2.0)) for c in item.contexts] for item in items
    ]
