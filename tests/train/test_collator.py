"""Token labels come from character spans through offsets, for Japanese and English; sentence-teacher targets."""

from __future__ import annotations

import copy

import pytest
import torch

from pruning.data.spans import join_contexts
from pruning.data.synthetic import make_rows
from pruning.errors import PruningError
from pruning.train.collator import PruningCollator
from pruning.train.losses import IGNORE_INDEX

pytestmark = pytest.mark.unit


def _row(query, sentences, relevance, joiner=""):
    text, spans = join_contexts(sentences, joiner)
    return {
        "query": query,
        "texts": [text],
        "labels": [1],
        "context_spans": [[list(sp) for sp in spans]],
        "context_spans_relevance": [relevance],
    }


def _expected_labels(tokenizer, batch, row, i=0):
    """Independent check: decode each labelled token's characters and find them in the right sentence."""
    enc = tokenizer(row["query"], row["texts"][0], return_offsets_mapping=True)
    text = row["texts"][0]
    out = []
    for (a, b), seq in zip(enc["offset_mapping"], enc.sequence_ids(0), strict=True):
        if seq != 1 or a == b:
            out.append(IGNORE_INDEX)
            continue
        label = IGNORE_INDEX
        for (s, e), rel in zip(row["context_spans"][0], row["context_spans_relevance"][0], strict=True):
            if s <= a < e:
                label = rel
        out.append(label)
    assert len(text) > 0
    return out


@pytest.mark.parametrize(
    ("query", "sentences", "relevance", "joiner"),
    [
        (
            "東京は何ですか？",
            ["東京は日本の首都です。", "大阪は大きい。", "「こんにちは。」と彼は言った。"],
            [1, 0, 1],
            "",
        ),
        ("What is Tokyo?", ["Tokyo is the capital of Japan.", "Osaka is big.", "He said hello."], [0, 1, 0], " "),
        ("絵文字？", ["😀は顔文字です。", "ｶﾀｶﾅと①も使う。"], [1, 0], ""),
    ],
)
def test_labels_follow_spans(tiny_tokenizer, query, sentences, relevance, joiner):
    row = _row(query, sentences, relevance, joiner)
    batch = PruningCollator(tiny_tokenizer, max_length=256)([row])
    labels = batch["labels"][0].tolist()
    n = int(batch["attention_mask"][0].sum())
    assert labels[:n] == _expected_labels(tiny_tokenizer, batch, row)
    assert all(v == IGNORE_INDEX for v in labels[n:])  # padding
    # every sentence got at least one token with its own label
    for rel in relevance:
        assert rel in labels


def test_query_and_special_tokens_are_ignored(tiny_tokenizer):
    row = _row("東京は何ですか？", ["東京は日本の首都です。"], [1])
    batch = PruningCollator(tiny_tokenizer)([row])
    enc = tiny_tokenizer(row["query"], row["texts"][0])
    seq = enc.sequence_ids(0)
    labels = batch["labels"][0].tolist()
    for t, s in enumerate(seq):
        if s != 1:
            assert labels[t] == IGNORE_INDEX
    assert set(labels[t] for t, s in enumerate(seq) if s == 1) == {1}


def test_text_outside_spans_and_empty_relevance(tiny_tokenizer):
    row = {
        "query": "q",
        "texts": ["前置き。本文です。", "no spans here"],
        "labels": [1, 0],
        "context_spans": [[[4, 9]], []],
        "context_spans_relevance": [[1], []],
    }
    batch = PruningCollator(tiny_tokenizer)([row])
    first, second = batch["labels"].tolist()
    enc = tiny_tokenizer("q", "前置き。本文です。", return_offsets_mapping=True)
    for t, ((a, b), s) in enumerate(zip(enc["offset_mapping"], enc.sequence_ids(0), strict=True)):
        if s == 1 and b > a:
            assert first[t] == (1 if a >= 4 else IGNORE_INDEX)
    assert set(second) == {IGNORE_INDEX}


def test_truncation_is_counted(tiny_tokenizer):
    long = ["これは長い文です。" * 3] * 20
    row = _row("質問", long, [1] * 20)
    collator = PruningCollator(tiny_tokenizer, max_length=32)
    batch = collator([row])
    assert batch["input_ids"].shape[1] == 32
    assert collator.truncated_spans > 0 and collator.total_spans == 20
    assert "span_counts" not in batch  # only on request: it is not a model input


def test_batch_carries_its_own_span_counts(tiny_tokenizer):
    # a trainer counts the batches it consumes from these (a data loader collates ahead, or in worker processes)
    collator = PruningCollator(tiny_tokenizer, max_length=32, counts_in_batch=True)
    first = collator([_row("質問", ["これは長い文です。" * 3] * 20, [1] * 20)])["span_counts"].tolist()
    second = collator([_row("質問", ["短い。"] * 3, [1] * 3)])["span_counts"].tolist()
    assert first == [collator.truncated_spans, 20] and first[0] > 0
    assert second == [0, 3]
    assert collator.total_spans == 23


def test_ranking_targets_from_named_column(tiny_tokenizer):
    rows = make_rows(2, k=3, seed=1)
    for r in rows:
        r["teacher_scores.x-y"] = [0.9, 0.2, 0.1]
    batch = PruningCollator(tiny_tokenizer, target_column="teacher_scores.x-y")(rows)
    assert batch["ranking_targets"].tolist() == pytest.approx([0.9, 0.2, 0.1] * 2)
    assert batch["input_ids"].shape[0] == 6
    labels_batch = PruningCollator(tiny_tokenizer)(rows)
    assert labels_batch["ranking_targets"].tolist() == [1.0, 0.0, 0.0] * 2


def _hi_bye(query="q"):
    return {
        "query": query,
        "texts": ["hi there. bye."],
        "labels": [1],
        "context_spans": [[[0, 9], [10, 14]]],
        "context_spans_relevance": [[1, 0]],
    }


def test_offsets_mode_truncates_only_the_passage(char_tokenizer):
    query = "abcdefghijklmnop"  # longer than the passage: longest_first would cut the query
    batch = PruningCollator(char_tokenizer, max_length=24)([_hi_bye(query)])
    want = char_tokenizer(query, "hi there. bye.", truncation="only_second", max_length=24)["input_ids"]
    assert batch["input_ids"][0].tolist() == want
    assert want != char_tokenizer(query, "hi there. bye.", truncation="longest_first", max_length=24)["input_ids"]


def test_truncated_spans_are_counted_exactly_and_warned_once(char_tokenizer, caplog):
    # <s> ▁ q </s> </s> + 10 passage ids (▁ h i ▁ t h e r e .) + </s> = 16: "hi there." ends at 9 and stays whole,
    # "bye." (10, 14) is cut: one span of two per row
    collator = PruningCollator(char_tokenizer, max_length=16)

    def warnings():
        return len([r for r in caplog.records if "longer than max_length=16" in r.getMessage()])

    with caplog.at_level("WARNING", logger="pruning.train.collator"):
        collator([_hi_bye()])
        assert warnings() == 1  # at the first cut span, not later
        collator([_hi_bye(), _hi_bye()])
    assert (collator.truncated_spans, collator.total_spans) == (3, 6)
    assert warnings() == 1


@pytest.mark.parametrize(
    ("token_labels", "inputs"),
    [
        ("offsets", {"input_ids", "attention_mask", "token_type_ids"}),
        ("reference", {"input_ids", "attention_mask"}),  # the reference never passed token type ids
    ],
)
def test_model_inputs_of_each_mode(char_tokenizer, token_labels, inputs):
    tokenizer = copy.deepcopy(char_tokenizer)
    tokenizer.model_input_names = ["input_ids", "token_type_ids", "attention_mask"]  # as BERT's tokenizer
    assert "token_type_ids" in tokenizer("q", "p")  # the tokenizer makes them; only the mode decides
    batch = PruningCollator(tokenizer, max_length=32, token_labels=token_labels)([_hi_bye()])
    assert set(batch) == inputs | {"labels", "ranking_targets"}


def _two_passages():
    """Passage 0: "ab." relevant (teacher 0.2), "cd." not (0.8); passage 1: "晴。" outside every span, "東京。"
    relevant (0.4)."""
    return {
        "query": "q",
        "texts": ["ab. cd.", "晴。東京。"],
        "labels": [1, 0],
        "context_spans": [[[0, 3], [4, 7]], [[2, 5]]],
        "context_spans_relevance": [[1, 0], [1]],
        "context_spans_teacher": [[0.2, 0.8], [0.4]],
    }


def test_sentence_teacher_targets_by_hand(char_tokenizer):
    # <s> ▁ q </s> </s> | ▁ a b . (sentence 0) | ▁ (the space: no span) | c d . (sentence 1) | </s>
    # <s> ▁ q </s> </s> | ▁ 晴 。 (no span) | 東 京 。 (sentence 0) | </s> <pad> <pad>
    batch = PruningCollator(char_tokenizer, max_length=32, sentence_teacher_weight=0.25)([_two_passages()])
    x = IGNORE_INDEX
    assert batch["labels"].tolist() == [
        [x, x, x, x, x, 1, 1, 1, 1, x, 0, 0, 0, x],
        [x, x, x, x, x, x, x, x, 1, 1, 1, x, x, x],
    ]
    a = 0.75 * 1 + 0.25 * 0.2  # relevant, teacher 0.2: 0.8
    b = 0.75 * 0 + 0.25 * 0.8  # irrelevant, teacher 0.8: 0.2
    c = 0.75 * 1 + 0.25 * 0.4  # relevant, teacher 0.4: 0.85
    want = [[0, 0, 0, 0, 0, a, a, a, a, 0, b, b, b, 0], [0, 0, 0, 0, 0, 0, 0, 0, c, c, c, 0, 0, 0]]
    torch.testing.assert_close(batch["token_targets"], torch.tensor(want, dtype=torch.float32))


def test_sentence_teacher_weight_zero_adds_nothing(char_tokenizer):
    row = _two_passages()
    off = PruningCollator(char_tokenizer, max_length=32, sentence_teacher_weight=0.0)([row])
    without = _two_passages()
    del without["context_spans_teacher"]
    plain = PruningCollator(char_tokenizer, max_length=32)([without])  # the field is not needed either
    assert set(off) == set(plain) == {"input_ids", "attention_mask", "labels", "ranking_targets"}
    for key in plain:
        assert torch.equal(off[key], plain[key]), key


def test_sentence_teacher_weight_one_is_the_teacher_score(char_tokenizer):
    batch = PruningCollator(char_tokenizer, max_length=32, sentence_teacher_weight=1.0)([_two_passages()])
    labelled = batch["labels"] != IGNORE_INDEX
    assert batch["token_targets"][labelled].tolist() == pytest.approx([0.2] * 4 + [0.8] * 3 + [0.4] * 3)


def test_a_row_without_sentence_scores_is_a_one_line_error(char_tokenizer):
    row = _two_passages()
    del row["context_spans_teacher"]
    collator = PruningCollator(char_tokenizer, sentence_teacher_weight=0.5)
    with pytest.raises(PruningError, match="row of query 'q': field 'context_spans_teacher' is missing"):
        collator([row])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sentence_teacher_weight": 1.5}, r"sentence_teacher_weight must lie in \[0, 1\], got 1.5"),
        ({"sentence_teacher_weight": -0.1}, r"sentence_teacher_weight must lie in \[0, 1\], got -0.1"),
        ({"sentence_teacher_weight": 0.5, "token_labels": "reference"}, "needs token_labels='offsets'"),
    ],
)
def test_sentence_teacher_weight_is_checked(char_tokenizer, kwargs, message):
    with pytest.raises(ValueError, match=message):
        PruningCollator(char_tokenizer, **kwargs)
