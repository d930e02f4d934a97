"""QA corpus -> rows: labels from answer overlap, negatives, the split by article, windows, title rows, modes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pruning.data.qa.reader import load_qa
from pruning.data.qa.rows import build_rows, relevance_for_spans, split_by_article
from pruning.data.training_rows import validate_relevance_row
from pruning.errors import PruningError
from tests.data.qa.helpers import qa, synthetic_doc, write_json

pytestmark = pytest.mark.unit


# ------------------------------------------------------------------------------------------- labels


def test_relevance_for_spans_overlap_rules() -> None:
    spans = [[0, 5], [6, 10], [11, 20]]
    assert relevance_for_spans(spans, [(6, 8)]) == [0, 1, 0]
    assert relevance_for_spans(spans, [(3, 8)]) == [1, 1, 0]  # straddles a boundary
    assert relevance_for_spans(spans, [(5, 6)]) == [0, 0, 0]  # touches only the whitespace gap
    assert relevance_for_spans(spans, [(0, 1), (19, 20)]) == [1, 0, 1]
    assert relevance_for_spans(spans, []) == [0, 0, 0]


def test_row_labels_from_answer_overlap_including_straddling_answers(tmp_path: Path) -> None:
    ctx = "First one here. The answer starts here. And ends here. Unrelated end."
    doc = synthetic_doc(n_articles=3)
    doc["data"].append(
        {
            "title": "English",
            "paragraphs": [
                {
                    "context": ctx,
                    "qas": [
                        qa("single", "Where?", ctx, "answer starts"),
                        qa("straddle", "What?", ctx, "starts here. And ends"),
                        qa("multi", "Which?", ctx, "First", "Unrelated"),
                    ],
                }
            ],
        }
    )
    corpus = load_qa([write_json(tmp_path / "d.json", doc)])
    rows = {r["query"]: r for r in build_rows(corpus, k=3, seed=1)}
    spans = rows["Where?"]["context_spans"][0]
    assert [ctx[s:e] for s, e in spans] == [
        "First one here.",
        "The answer starts here.",
        "And ends here.",
        "Unrelated end.",
    ]
    assert rows["Where?"]["context_spans_relevance"][0] == [0, 1, 0, 0]
    assert rows["What?"]["context_spans_relevance"][0] == [0, 1, 1, 0]
    assert rows["Which?"]["context_spans_relevance"][0] == [1, 0, 0, 1]
    for row in (rows["Where?"], rows["What?"], rows["Which?"]):
        assert row["texts"][0] == ctx
        assert row["labels"] == [1, 0, 0]
        assert all(rel == [0] * len(rel) for rel in row["context_spans_relevance"][1:])
        validate_relevance_row(row, "test row")


def test_japanese_rows_mark_the_answer_sentence(tmp_path: Path) -> None:
    corpus = load_qa([write_json(tmp_path / "d.json", synthetic_doc())])
    rows = build_rows(corpus, k=4, seed=0)
    assert len(rows) == 18
    for row in rows:
        assert row["context_spans_relevance"][0] == [0, 1, 0]
        assert len(row["texts"]) == len(row["labels"]) == len(row["context_spans"]) == 4


# ---------------------------------------------------------------------------------------- negatives


def test_negatives_come_from_other_articles(tmp_path: Path) -> None:
    corpus = load_qa([write_json(tmp_path / "d.json", synthetic_doc())])
    title_of = {p.text: p.title for p in corpus.passages}
    gold_title = {e.question: e.title for e in corpus.examples}
    for row in build_rows(corpus, k=6, seed=3):
        negative_titles = [title_of[t] for t in row["texts"][1:]]
        assert gold_title[row["query"]] not in negative_titles
        assert len(set(row["texts"])) == len(row["texts"])


def test_too_few_other_paragraphs_is_a_user_error(tmp_path: Path) -> None:
    corpus = load_qa([write_json(tmp_path / "d.json", synthetic_doc(n_articles=2, paragraphs=2))])
    with pytest.raises(PruningError, match="negatives needed"):
        build_rows(corpus, k=4, seed=0)
    assert len(build_rows(corpus, k=3, seed=0)) == 4  # 2 paragraphs of the other article suffice


def test_negatives_do_not_depend_on_processing_order(tmp_path: Path) -> None:
    corpus = load_qa([write_json(tmp_path / "d.json", synthetic_doc())])
    forward = {r["query"]: r for r in build_rows(corpus, k=5, seed=7)}
    corpus.examples.reverse()
    corpus.passages.reverse()
    backward = {r["query"]: r for r in build_rows(corpus, k=5, seed=7)}
    assert forward == backward


def test_different_seed_gives_different_negatives(tmp_path: Path) -> None:
    corpus = load_qa([write_json(tmp_path / "d.json", synthetic_doc(n_articles=8))])
    a = build_rows(corpus, k=4, seed=1)
    b = build_rows(corpus, k=4, seed=2)
    assert [r["query"] for r in a] == [r["query"] for r in b]
    assert [r["texts"][0] for r in a] == [r["texts"][0] for r in b]
    assert [r["texts"][1:] for r in a] != [r["texts"][1:] for r in b]


def test_max_queries_takes_a_deterministic_subset(tmp_path: Path) -> None:
    corpus = load_qa([write_json(tmp_path / "d.json", synthetic_doc())])
    full = build_rows(corpus, k=3, seed=5)
    part = build_rows(corpus, k=3, seed=5, max_queries=4)
    assert len(part) == 4
    assert part == build_rows(corpus, k=3, seed=5, max_queries=4)
    assert all(row in full for row in part)


# ------------------------------------------------------------------------------- split and determinism


def test_split_by_article_keeps_articles_whole_and_is_deterministic(tmp_path: Path) -> None:
    corpus = load_qa([write_json(tmp_path / "d.json", synthetic_doc(n_articles=10))])
    train, val = split_by_article(corpus, 0.3, seed=11)
    train_titles = {p.title for p in train.passages} | {e.title for e in train.examples}
    val_titles = {p.title for p in val.passages} | {e.title for e in val.examples}
    assert not train_titles & val_titles
    assert len(val_titles) == 3 and len(train_titles) == 7
    assert len(train.examples) + len(val.examples) == len(corpus.examples)
    again_train, again_val = split_by_article(corpus, 0.3, seed=11)
    assert again_val.examples == val.examples and again_train.examples == train.examples
    other = {e.title for e in split_by_article(corpus, 0.3, seed=12)[1].examples}
    assert other != val_titles  # a different seed reshuffles (true for these titles)


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.1])
def test_split_fraction_must_be_strictly_between_0_and_1(tmp_path: Path, fraction: float) -> None:
    corpus = load_qa([write_json(tmp_path / "d.json", synthetic_doc())])
    with pytest.raises(PruningError, match="fraction"):
        split_by_article(corpus, fraction, seed=0)


def test_max_passage_chars_below_one_is_an_error(tmp_path: Path) -> None:
    corpus = load_qa([write_json(tmp_path / "d.json", synthetic_doc())])
    with pytest.raises(PruningError, match="max passage chars must be at least 1, got 0"):
        build_rows(corpus, k=2, max_passage_chars=0)


@pytest.mark.unit
def test_hard_negatives_come_from_the_same_article():
    from pruning.data.qa.rows import build_rows

    corpus = _hard_negative_corpus()
    rows = build_rows(corpus, k=4, seed=3, hard_negatives=2)
    title_of = {p.text: p.title for p in corpus.passages}
    for row, example in zip(rows, corpus.examples, strict=True):
        titles = [title_of[t] for t in row["texts"][1:]]
        assert titles.count(example.title) == 2  # the two hard negatives
        assert row["texts"][0] == example.context and example.context not in row["texts"][1:]
        assert all(sum(r) == 0 for r in row["context_spans_relevance"][1:])
    assert rows == build_rows(corpus, k=4, seed=3, hard_negatives=2)
    with pytest.raises(PruningError, match="hard negatives must be between 0 and K-1"):
        build_rows(corpus, k=4, hard_negatives=4)


def _hard_negative_corpus():
    import tempfile

    from pruning.data.qa.reader import load_qa

    data = {"data": []}
    for a in range(4):
        paragraphs = []
        for p in range(3):
            context = f"Article {a} paragraph {p} says fact {a}{p}. It has another sentence."
            start = context.index(f"fact {a}{p}")
            qas = [
                {
                    "id": f"q{a}{p}",
                    "question": f"What is fact {a}{p}?",
                    "answers": [{"text": f"fact {a}{p}", "answer_start": start}],
                }
            ]
            paragraphs.append({"context": context, "qas": qas})
        data["data"].append({"title": f"T{a}", "paragraphs": paragraphs})
    path = Path(tempfile.mkdtemp()) / "squad.json"
    path.write_text(json.dumps(data))
    return load_qa([path])


@pytest.mark.unit
@pytest.mark.parametrize("seed", range(5))
def test_sentence_window_keeps_the_answer_and_whole_sentences(seed):
    import random

    from pruning.data.qa.rows import sentence_window
    from pruning.data.sentences import split_sentences

    text = "".join(f"これは{i}番目の文です。" for i in range(12))
    spans = [list(sp) for sp in split_sentences(text)]
    relevance = [int(i in (6, 7)) for i in range(12)]
    cut, cut_spans, cut_rel = sentence_window(text, spans, relevance, 60, random.Random(seed))
    assert len(cut) <= 60 and cut in text
    assert cut_rel.count(1) == 2  # both relevant sentences kept
    assert [cut[s:e] for s, e in cut_spans] == [text[s:e] for s, e in spans if text[s:e] in cut]
    assert cut_spans[0][0] == 0 and cut_spans[-1][1] == len(cut)
    # short passages and negatives pass through or are cut likewise
    assert sentence_window(text, spans, relevance, 10_000, random.Random(0))[0] == text
    neg = sentence_window(text, spans, [0] * 12, 30, random.Random(seed))
    assert len(neg[0]) <= 30 and sum(neg[2]) == 0


@pytest.mark.unit
def test_sentence_window_far_apart_answers_keep_the_first():
    import random

    from pruning.data.qa.rows import sentence_window

    text = "A" * 20 + "B" * 20 + "C" * 20
    spans = [[0, 20], [20, 40], [40, 60]]
    cut, cut_spans, rel = sentence_window(text, spans, [1, 0, 1], 30, random.Random(0))
    assert cut == "A" * 20 and rel == [1]
    long_first = sentence_window(text, spans, [0, 1, 0], 10, random.Random(0))
    assert long_first[0] == "B" * 20 and long_first[2] == [1]  # one over-long sentence is kept whole


@pytest.mark.unit
def test_passage_relevance_marks_the_whole_gold_passage():
    from pruning.data.qa.rows import build_rows

    corpus = _hard_negative_corpus()
    answer = build_rows(corpus, k=3, seed=1)
    passage = build_rows(corpus, k=3, seed=1, relevance_mode="passage")
    for a, p in zip(answer, passage, strict=True):
        assert a["texts"] == p["texts"] and a["context_spans"] == p["context_spans"]
        assert p["context_spans_relevance"][0] == [1] * len(p["context_spans"][0])
        assert sum(a["context_spans_relevance"][0]) < len(a["context_spans"][0])  # answer mode is narrower
        assert p["context_spans_relevance"][1:] == a["context_spans_relevance"][1:]
    with pytest.raises(PruningError, match="relevance mode 'x'"):
        build_rows(corpus, k=3, relevance_mode="x")


def test_title_query_rows_follow_the_question_rows(tmp_path: Path) -> None:
    corpus = load_qa([write_json(tmp_path / "d.json", synthetic_doc())])
    questions = build_rows(corpus, k=3, seed=4)
    rows = build_rows(corpus, k=3, seed=4, title_queries=5)
    assert rows[: len(questions)] == questions  # question rows are untouched
    titled = rows[len(questions) :]
    assert len(titled) == 5
    title_of = {p.text: p.title for p in corpus.passages}
    golds = [row["texts"][0] for row in titled]
    assert len(set(golds)) == 5  # a paragraph is used once
    for row in titled:
        validate_relevance_row(row, "title row")
        assert row["query"] == title_of[row["texts"][0]]
        assert row["labels"] == [1, 0, 0]
        assert row["context_spans_relevance"][0] == [1] * len(row["context_spans"][0])
        assert all(sum(r) == 0 for r in row["context_spans_relevance"][1:])
        assert row["query"] not in {title_of[t] for t in row["texts"][1:]}  # negatives: other articles
    assert titled == build_rows(corpus, k=3, seed=4, title_queries=5)[len(questions) :]
    assert titled != build_rows(corpus, k=3, seed=5, title_queries=5)[len(questions) :]


def test_title_query_rows_are_windowed_and_bounded(tmp_path: Path) -> None:
    corpus = load_qa([write_json(tmp_path / "d.json", synthetic_doc())])
    rows = build_rows(corpus, k=2, seed=0, title_queries=18, max_passage_chars=12)
    for row in rows[18:]:
        assert all(len(text) <= 12 for text in row["texts"])  # every sentence here is at most 12 characters
        assert row["context_spans_relevance"][0] == [1] * len(row["context_spans"][0])
    with pytest.raises(PruningError, match="19 title queries asked for, but the split has only 18 paragraphs"):
        build_rows(corpus, k=2, title_queries=19)
    with pytest.raises(PruningError, match="title queries must be 0 or more"):
        build_rows(corpus, k=2, title_queries=-1)


def test_mask_title_deletes_the_title_from_the_gold_paragraph(tmp_path: Path) -> None:
    doc = synthetic_doc(n_articles=4, paragraphs=2)
    for article in doc["data"]:
        title = article["title"]
        for paragraph in article["paragraphs"]:
            paragraph["context"] = f"{title}は有名です。" + paragraph["context"]
            for q in paragraph["qas"]:
                q["answers"][0]["answer_start"] += len(f"{title}は有名です。")
    doc["data"][0]["paragraphs"].append({"context": "Title0", "qas": []})  # blank once masked: never drawn
    corpus = load_qa([write_json(tmp_path / "d.json", doc)])
    plain = build_rows(corpus, k=2, seed=0, title_queries=8)[8:]
    masked = build_rows(corpus, k=2, seed=0, title_queries=8, mask_title=True)[8:]
    assert any(row["query"] in row["texts"][0] for row in plain)
    assert {row["texts"][0] for row in plain} != {row["texts"][0] for row in masked}
    for row in masked:
        validate_relevance_row(row, "masked title row")
        assert row["query"] not in row["texts"][0]
        assert row["texts"][0].startswith("は有名です。")
        assert row["context_spans_relevance"][0] == [1] * len(row["context_spans"][0])
    with pytest.raises(PruningError, match="9 title queries asked for, but the split has only 8 paragraphs"):
        build_rows(corpus, k=2, title_queries=9, mask_title=True)


def test_answer_only_relevance_leaves_the_rest_of_the_gold_passage_unlabelled(tmp_path: Path) -> None:
    corpus = load_qa([write_json(tmp_path / "d.json", synthetic_doc())])
    answer = build_rows(corpus, k=3, seed=2)
    only = build_rows(corpus, k=3, seed=2, relevance_mode="answer-only")
    for a, o in zip(answer, only, strict=True):
        validate_relevance_row(o, "answer-only row")
        assert o["texts"] == a["texts"]  # the text is kept whole
        kept = [sp for sp, r in zip(a["context_spans"][0], a["context_spans_relevance"][0], strict=True) if r]
        assert o["context_spans"][0] == kept == [a["context_spans"][0][1]]  # the answer sentence only
        assert o["context_spans_relevance"][0] == [1]
        assert o["context_spans"][1:] == a["context_spans"][1:]
        assert o["context_spans_relevance"][1:] == a["context_spans_relevance"][1:]


def test_answer_only_rows_label_only_answer_tokens_in_the_gold_passage(tmp_path: Path, tiny_tokenizer) -> None:
    from pruning.train.collator import PruningCollator

    corpus = load_qa([write_json(tmp_path / "d.json", synthetic_doc())])
    row = build_rows(corpus, k=2, seed=2, relevance_mode="answer-only")[0]
    labels = PruningCollator(tiny_tokenizer, max_length=128)([row])["labels"][0].tolist()
    enc = tiny_tokenizer(row["query"], row["texts"][0], return_offsets_mapping=True)
    (start, end) = row["context_spans"][0][0]
    passage_tokens = [
        (t, s)
        for t, ((s, e), seq) in enumerate(zip(enc["offset_mapping"], enc.sequence_ids(), strict=True))
        if seq == 1
    ]
    assert passage_tokens
    for t, s in passage_tokens:
        assert labels[t] == (1 if start <= s < end else -100)
    assert {labels[t] for t, _ in passage_tokens} == {1, -100}
