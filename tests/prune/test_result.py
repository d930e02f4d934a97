"""PruneResult pieces: the pruned text keeps the original text between kept sentences; compression by hand."""

from __future__ import annotations

import pytest

from pruning.prune.result import PrunedSentence, build_result, pruned_text, sigmoid

pytestmark = pytest.mark.unit

CONTEXT = "A b.  C d!\nE f? G."
SPANS = [(0, 4), (6, 10), (11, 15), (16, 18)]  # "A b." "C d!" "E f?" "G."


def _sentences(kept):
    return [
        PrunedSentence(i, CONTEXT[a:b], a, b, 0.0, k) for i, ((a, b), k) in enumerate(zip(SPANS, kept, strict=True))
    ]


@pytest.mark.parametrize(
    ("kept", "want"),
    [
        ([True, True, True, True], CONTEXT),  # everything kept: the text as written
        ([True, False, True, False], "A b.\nE f?"),  # the gap before a kept sentence is the one it had
        ([False, True, True, False], "C d!\nE f?"),
        ([False, False, False, True], "G."),
        ([False, False, False, False], ""),
    ],
)
def test_pruned_text(kept, want):
    assert pruned_text(CONTEXT, _sentences(kept)) == want


def test_build_result_by_hand():
    r = build_result("q", CONTEXT, SPANS, [0.9, 0.1, 0.5, 0.49], threshold=0.5, logit=0.0)
    assert [s.kept for s in r.sentences] == [True, False, True, False]  # kept when score >= threshold
    assert all(CONTEXT[s.start : s.end] == s.text for s in r.sentences)
    assert r.pruned_context == "A b.\nE f?"
    assert r.compression.sentences == 0.5
    assert r.compression.characters == pytest.approx(1 - 9 / 18)
    assert r.reranking_score == 0.5
    assert r.as_dict()["sentences"][0] == {"index": 0, "text": "A b.", "start": 0, "end": 4, "score": 0.9, "kept": True}


def test_sigmoid_is_stable():
    assert sigmoid(0.0) == 0.5 and sigmoid(-1000.0) == 0.0 and sigmoid(1000.0) == 1.0
    assert sigmoid(2.0) == pytest.approx(0.8807970779778823)
