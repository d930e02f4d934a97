"""Spans: contexts joined with the seam rule, tokens mapped to spans by their first character (hand-worked)."""

from __future__ import annotations

import pytest

from pruning.data.spans import join_contexts, token_span_index

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("contexts", "text"),
    [
        # the seam looks at the last character before it and the first after it, nothing further
        (["日本a", "b日本"], "日本a b日本"),
        (["ab日", "c"], "ab日c"),
        (["a", "日b"], "a日b"),
        (["x.", "y."], "x. y."),
    ],
)
def test_seam_takes_a_space_only_between_two_ascii_characters(contexts, text):
    got, spans = join_contexts(contexts)
    assert got == text
    assert [got[s:e] for s, e in spans] == contexts


def test_no_tokens_give_an_empty_index():
    got = token_span_index([], [], [(0, 2), (3, 5)])
    assert got.tolist() == []
    assert got.dtype.kind == "i"


def test_token_span_index_by_first_character():
    # passage "ab cd" with spans [0, 2) and [3, 5); tokens: special, "a", a zero-width token inside span 0 (a bare
    # "▁"), "b c" (starts in span 0), " " (between the spans), "d", and a query token outside the passage
    offsets = [(0, 0), (0, 1), (1, 1), (1, 4), (2, 3), (4, 5), (0, 2)]
    in_text = [False, True, True, True, True, True, False]
    got = token_span_index(offsets, in_text, [(0, 2), (3, 5)])
    assert got.tolist() == [-1, 0, -1, 0, -1, 1, -1]
    assert token_span_index(offsets, in_text, []).tolist() == [-1] * 7
