"""The reference's "v2" token labels, checked against positions counted by hand on a character tokenizer.

With `char_tokenizer` every character is one token and a space is "▁"; the pair template is
`<s> A </s></s> B </s>` and Metaspace puts a "▁" in front of each sequence. So the pair ("q", passage) reads
    0 <s>  1 ▁  2 q  3 </s>  4 </s>  5 ▁  6.. passage characters ..  </s>
"""

from __future__ import annotations

import pytest

from pruning.train.collator import PruningCollator, token_labels_for_pair
from pruning.train.reference_labels import passage_start, reference_token_labels, relevant_indices, span_positions
from tests.conftest import build_char_tokenizer

pytestmark = pytest.mark.unit

X = -100
JA = "東京。大阪。雨。"  # three contiguous sentences, as Japanese text is written
JA_SPANS = [(0, 3), (3, 6), (6, 8)]


def test_passage_start_is_found_after_the_second_separator(char_tokenizer):
    # ("q", "test") = <s> ▁ q </s> </s> ▁ t e s t </s>; "test" alone = ▁ t e s t; search from len(<s> ▁ q </s>) = 4
    assert passage_start(char_tokenizer, "q") == 5


def test_japanese_positions_drift_one_token_per_seam(char_tokenizer):
    # joined with spaces: "東京。 大阪。 雨。" → ▁東京。 = 4, ▁東京。▁大阪。 = 8, ▁東京。▁大阪。▁雨。 = 11 tokens,
    # so the spans are [5, 9), [9, 13), [13, 16); the real pair holds 雨 at 12, 。 at 13, </s> at 14.
    sentences = [JA[a:b] for a, b in JA_SPANS]
    assert span_positions(char_tokenizer, "q", sentences) == [(5, 9), (9, 13), (13, 16)]


def test_japanese_labels_mislabel_the_seam_and_land_on_end_token_and_padding(char_tokenizer):
    enc = char_tokenizer("q", JA)
    assert char_tokenizer.convert_ids_to_tokens(enc["input_ids"])[12:] == ["雨", "。", "</s>"]
    # relevant: sentences 0 and 2. Unpadded (15 positions): 雨 (position 12, sentence 2) gets sentence 1's 0,
    # and </s> (14) gets sentence 2's 1.
    labels = reference_token_labels(char_tokenizer, "q", JA, JA_SPANS, [1, 0, 1], padded_length=15)
    assert labels == [X, X, X, X, X, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1]
    # padded to 18 by a longer pair in the batch: sentence 2's range [13, 16) also labels the <pad> at 15
    padded = reference_token_labels(char_tokenizer, "q", JA, JA_SPANS, [1, 0, 1], padded_length=18)
    assert padded == [*labels, 1, X, X]
    # the offsets method labels each sentence's own tokens and nothing else
    enc = char_tokenizer("q", JA, return_offsets_mapping=True)
    exact = token_labels_for_pair(enc["offset_mapping"], enc.sequence_ids(), JA_SPANS, [1, 0, 1])
    assert exact == [X, X, X, X, X, 1, 1, 1, 1, 0, 0, 0, 1, 1, X]


def test_english_positions_match_when_the_passage_has_its_spaces(char_tokenizer):
    passage = "hi there. bye."  # spans (0, 9) and (10, 14): the joining space is really there, so no drift
    # ▁hi▁there. = 10 tokens → [5, 15); ▁hi▁there.▁bye. = 15 → [15, 20); </s> at 20
    assert span_positions(char_tokenizer, "q", ["hi there.", "bye."]) == [(5, 15), (15, 20)]
    labels = reference_token_labels(char_tokenizer, "q", passage, [(0, 9), (10, 14)], [0, 1], padded_length=21)
    assert labels == [X] * 5 + [0] * 10 + [1] * 5 + [X]
    # the offsets method leaves the space between the sentences (position 15, "▁") unlabelled
    enc = char_tokenizer("q", passage, return_offsets_mapping=True)
    exact = token_labels_for_pair(enc["offset_mapping"], enc.sequence_ids(), [(0, 9), (10, 14)], [0, 1])
    assert exact == [X] * 5 + [0] * 10 + [X] + [1] * 4 + [X]


@pytest.mark.parametrize(
    ("relevance", "n_spans", "expected"),
    [
        ([1, 0, 1], 3, [0, 2]),  # a mask: one 0/1 value per span
        ([0, 0, 0], 3, []),
        ([1], 3, [1]),  # not one value per span: read as indices, so span 1 (not 0) is relevant
        ([2, 0], 3, [2, 0]),
        ([], 3, []),
    ],
)
def test_relevance_is_read_as_a_mask_or_as_indices(relevance, n_spans, expected):
    assert relevant_indices(relevance, n_spans) == expected


def test_reference_collator_uses_longest_first_and_only_ids_and_mask(char_tokenizer):
    query = "abcdefghijklmnop"  # longer than the passage: longest_first cuts the query, only_second cannot
    rows = [
        {
            "query": query,
            "texts": ["hi there. bye."],
            "labels": [1],
            "context_spans": [[[0, 9], [10, 14]]],
            "context_spans_relevance": [[1, 0]],
        }
    ]
    batch = PruningCollator(char_tokenizer, max_length=24, token_labels="reference")(rows)
    want = char_tokenizer(query, "hi there. bye.", truncation="longest_first", max_length=24)["input_ids"]
    assert batch["input_ids"][0].tolist() == want
    assert set(batch) == {"input_ids", "attention_mask", "labels", "ranking_targets"}
    # labels come from the untruncated positions, clipped to the batch width: as the reference did
    assert batch["labels"][0].tolist() == reference_token_labels(
        char_tokenizer, query, "hi there. bye.", [(0, 9), (10, 14)], [1, 0], padded_length=24
    )


def test_collator_rejects_an_unknown_label_mode(char_tokenizer):
    with pytest.raises(ValueError, match="token_labels must be one of offsets, reference"):
        PruningCollator(char_tokenizer, token_labels="v2")


def test_passage_start_skips_the_probe_inside_the_query(char_tokenizer):
    # <s> ▁ a ▁ t e s t </s> | </s> ▁ t e s t </s>: the query alone is 9 ids, and "▁test" inside it is no passage
    assert passage_start(char_tokenizer, "a test") == 10


def test_positions_are_not_cut_at_the_tokenizer_length():
    # the reference re-tokenised without truncation: 71 ids (▁ + 70 × a) although model_max_length is 64
    tokenizer = build_char_tokenizer()  # its own: the warning flag is per tokenizer
    assert tokenizer.model_max_length == 64
    assert span_positions(tokenizer, "q", ["a" * 70]) == [(5, 76)]
    # counted, then clipped to the batch by the collator: the tokenizer's "longer than the maximum" warning stays off
    assert "sequence-length-is-longer-than-the-specified-maximum" not in tokenizer.deprecation_warnings


def test_a_relevant_index_past_the_last_sentence_is_skipped(char_tokenizer):
    # [2] is an index list (not a 0/1 mask of 2 values); sentence 2 does not exist, so both sentences get 0
    labels = reference_token_labels(char_tokenizer, "q", "hi there. bye.", [(0, 9), (10, 14)], [2], padded_length=21)
    assert labels == [-100] * 5 + [0] * 15 + [-100]
