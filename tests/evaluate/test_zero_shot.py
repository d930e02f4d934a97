"""The e5 zero-shot yardstick: (cosine of the query and each context alone + 1) / 2."""

from __future__ import annotations

import pytest

from pruning.data.eval_files import EvalItem
from pruning.data.teacher import E5Teacher
from pruning.evaluate.zero_shot import sentence_scores
from tests.data.test_teacher import _direct_embedding

pytestmark = pytest.mark.unit


def test_scores_are_shifted_cosines_of_each_context_alone(tiny_backbone_dir) -> None:
    teacher = E5Teacher(str(tiny_backbone_dir), batch_size=2, device="cpu")
    items = [
        EvalItem("what is a cat?", ["a cat is an animal.", "it rains.", "dogs bark."], [1, 0, 0]),
        EvalItem("rain?", ["it rains.", "sun."], [1, 0]),
    ]
    scores = sentence_scores(items, teacher)
    for item, row in zip(items, scores, strict=True):
        q = _direct_embedding(teacher, "query: " + item.query)
        for context, score in zip(item.contexts, row, strict=True):
            cosine = float(q @ _direct_embedding(teacher, "passage: " + context))
            assert score == pytest.approx((cosine + 1) / 2, abs=1e-5)
    # a context's score does not depend on its neighbours: the same sentence, another item, other company
    alone = sentence_scores([EvalItem("rain?", ["it rains."], [1])], teacher)
    assert alone[0][0] == pytest.approx(scores[1][0], abs=1e-6)
