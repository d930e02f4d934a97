"""Deleting a query's content terms from passages: which terms go, which stay, and spans that still fit."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pruning.data.lexical_mask import delete_shared_terms, mask_passage
from pruning.data.qa.convert import convert_qa
from pruning.data.qa.reader import load_qa
from pruning.data.qa.rows import build_rows
from pruning.data.training_rows import validate_relevance_row
from pruning.errors import PruningError
from tests.data.qa.helpers import synthetic_doc, write_json

pytestmark = pytest.mark.unit


def test_shared_kanji_and_katakana_pieces_are_deleted_longest_first() -> None:
    query = "東京タワーの高さは何メートル"
    text = "東京タワーは東京にあり、高さ333メートルで人々が集う。"
    # 東京タワー goes whole; the later 東京 (a piece of a query run) and メートル too; 高 alone is one character.
    assert delete_shared_terms(text, query) == "はにあり、高さ333で人々が集う。"
    assert delete_shared_terms("人々の暮らし。", "人々とは") == "の暮らし。"  # 々 belongs to the kanji run
    assert delete_shared_terms("東京・タワー。", "東京タワー") == "・。"  # ・ splits runs and is kept


def test_latin_words_and_numbers_go_only_as_whole_words() -> None:
    query = "What is the capital of France in 1989?"
    text = "Paris is the capital of France; Parisians voted in 1998, not 1989."
    assert delete_shared_terms(text, query) == "Paris     ; Parisians voted  1998, not ."  # is, the, of go too
    assert delete_shared_terms("FRANCE and france.", "France") == " and ."  # case-insensitive
    assert delete_shared_terms("消費税は1989年に導入。", "1989年の消費税") == "は年に導入。"  # 年 alone stays


def test_the_module_example_holds() -> None:
    import doctest

    import pruning.data.lexical_mask

    assert doctest.testmod(pruning.data.lexical_mask).failed == 0


def test_hiragana_runs_and_single_characters_are_never_deleted() -> None:
    assert delete_shared_terms("それはしたのである。", "何をしたのである") == "それはしたのである。"
    assert delete_shared_terms("日は昇る。", "日の出") == "日は昇る。"  # 日 is one character
    assert delete_shared_terms("何もない。", "") == "何もない。"


def test_a_sentence_masking_would_blank_keeps_its_text() -> None:
    text, spans = mask_passage("東京タワー。 ほかの文。", [[0, 6], [7, 12]], "東京タワー。")
    # "東京タワー" alone would leave "。": not blank, so masked; a sentence made only of the term stays whole.
    assert text == "。 ほかの文。" and spans == [[0, 1], [2, 7]]
    text, spans = mask_passage("東京タワー ほかの文。", [[0, 5], [6, 11]], "東京タワー")
    assert text == "東京タワー ほかの文。" and spans == [[0, 5], [6, 11]]


@given(
    st.lists(st.text(alphabet="東京タワーのはabc12。 ", min_size=1, max_size=12), min_size=1, max_size=5),
    st.text(alphabet="東京タワーのabc12", max_size=8),
)
def test_masked_spans_cover_the_masked_sentences_and_keep_the_gaps(sentences: list[str], query: str) -> None:
    text, spans, cursor = "", [], 0
    for s in sentences:
        text += s + "\n"
        spans.append([cursor, cursor + len(s)])
        cursor += len(s) + 1
    new_text, new_spans = mask_passage(text, spans, query)
    assert len(new_spans) == len(spans)
    assert new_text.count("\n") == text.count("\n")  # the gaps between sentences are untouched
    for (a, b), (x, y) in zip(spans, new_spans, strict=True):
        old, new = text[a:b], new_text[x:y]
        it = iter(old)
        assert all(ch in it for ch in new)  # the masked sentence is the original with pieces deleted
        assert new == old or new.strip()
        assert new_text[y : y + 1] == "\n"


def shared_term_doc(n_articles: int = 10, tag: str = "") -> dict:
    """synthetic_doc with questions that share the content terms 段落 and 最後 with every paragraph."""
    doc = synthetic_doc(n_articles=n_articles, tag=tag)
    for article in doc["data"]:
        for paragraph in article["paragraphs"]:
            for q in paragraph["qas"]:
                q["question"] = "段落の最後の文は何番？"
    return doc


def test_build_rows_masks_a_deterministic_share_of_the_question_rows(tmp_path) -> None:
    corpus = load_qa([write_json(tmp_path / "doc.json", shared_term_doc())])
    plain = build_rows(corpus, k=3, seed=1)
    none = build_rows(corpus, k=3, seed=1, mask_overlap=0.0)
    every = build_rows(corpus, k=3, seed=1, mask_overlap=1.0)
    half = build_rows(corpus, k=3, seed=1, mask_overlap=0.5)
    assert none == plain
    for row, masked in zip(plain, every, strict=True):
        validate_relevance_row(masked, "masked row")
        assert masked["labels"] == row["labels"]
        assert masked["context_spans_relevance"] == row["context_spans_relevance"]
        assert all("段落" not in t and "最後" not in t for t in masked["texts"])  # gold and negatives alike
    changed = sum(a != b for a, b in zip(plain, half, strict=True))
    assert 0 < changed < len(plain)
    assert half == build_rows(corpus, k=3, seed=1, mask_overlap=0.5)
    with pytest.raises(PruningError, match="mask overlap must be a share between 0 and 1"):
        build_rows(corpus, k=3, mask_overlap=1.5)


def test_answer_only_rows_mask_the_unlabelled_gold_text_too(tmp_path) -> None:
    corpus = load_qa([write_json(tmp_path / "doc.json", shared_term_doc())])
    rows = build_rows(corpus, k=3, seed=1, relevance_mode="answer-only", mask_overlap=1.0)
    for row in rows:
        validate_relevance_row(row, "answer-only row")
        # the gold's first sentence (記事…の段落…です。) carries no span, and loses 段落 all the same
        assert all("段落" not in t and "最後" not in t for t in row["texts"])


def test_convert_qa_masks_the_train_split_only(tmp_path) -> None:
    train = write_json(tmp_path / "train.json", shared_term_doc(6))
    dev = write_json(tmp_path / "dev.json", shared_term_doc(4, tag="v"))
    result = convert_qa([train], validation_paths=[dev], k=2, mask_overlap=1.0)
    assert all("段落" not in t for row in result.rows_by_split["train"] for t in row["texts"])
    assert all("段落" in row["texts"][0] for row in result.rows_by_split["validation"])
    assert result.manifest["options"]["mask_overlap"] == 1.0
    assert result.manifest["options"]["mask_overlap_splits"] == ["train"]
