"""Held-out evaluation items from a QA corpus: one gold window and its negatives per question, answer labels."""

from __future__ import annotations

from pathlib import Path

import pytest

from pruning.data.eval_files import load_eval_file
from pruning.data.evalset import build_eval_set
from pruning.data.qa.reader import load_qa
from pruning.errors import PruningError
from tests.data.qa.helpers import qa, synthetic_doc, write_json

pytestmark = pytest.mark.unit


def corpus(tmp_path: Path, doc=None):
    return load_qa([write_json(tmp_path / "dev.json", doc or synthetic_doc())])


def test_each_question_gives_its_gold_window_and_a_negative_of_its_own_article(tmp_path: Path) -> None:
    evalset = build_eval_set(corpus(tmp_path), max_queries=4, hard_negatives=1)
    assert evalset.questions == 4 and len(evalset.items) == 8 and evalset.too_short == 0
    for gold, negative in zip(evalset.items[::2], evalset.items[1::2], strict=True):
        assert gold["query"] == negative["query"]
        a, p = gold["query"][2:-1].split("-")  # 質問{a}-{p}？
        assert gold["contexts"] == [f"記事{a}の段落{p}です。", f"答えは{a}-{p}番です。", "最後の文です。"]
        assert gold["labels"] == [0, 1, 0]  # the answer sentence only, whatever --relevance training used
        assert negative["labels"] == [0, 0, 0]
        assert negative["contexts"][0].startswith(f"記事{a}の段落") and negative["contexts"] != gold["contexts"]
    assert evalset.summary() == {
        "questions": 4,
        "items": 8,
        "items_with_an_answer": 4,
        "items_without": 4,
        "contexts": 24,
        "relevant_contexts": 4,
        "items_left_out_too_short": 0,
    }


def test_negatives_from_other_articles_and_the_same_subset_for_the_same_seed(tmp_path: Path) -> None:
    data = corpus(tmp_path)
    evalset = build_eval_set(data, max_queries=5, negatives=2, hard_negatives=0, seed=7)
    assert len(evalset.items) == 15
    for i in range(0, 15, 3):
        article = evalset.items[i]["query"][2:].split("-")[0]
        for negative in evalset.items[i + 1 : i + 3]:
            assert not negative["contexts"][0].startswith(f"記事{article}の")
    assert build_eval_set(data, max_queries=5, negatives=2, hard_negatives=0, seed=7).items == evalset.items
    other = build_eval_set(data, max_queries=5, negatives=2, hard_negatives=0, seed=8)
    assert [it["query"] for it in other.items] != [it["query"] for it in evalset.items]


def test_windows_cut_long_passages_and_short_items_are_counted_not_kept(tmp_path: Path) -> None:
    ctx = "一文目です。二文目に答えがある。三文目です。四文目です。"
    doc = synthetic_doc(n_articles=3)
    doc["data"][0]["paragraphs"][0] = {"context": ctx, "qas": [qa("long", "答えは？", ctx, "答え")]}
    data = corpus(tmp_path, doc)
    evalset = build_eval_set(data, max_queries=9, max_passage_chars=16, hard_negatives=0, min_sentences=2)
    gold = next(it for it in evalset.items if it["query"] == "答えは？")
    assert (
        "二文目に答えがある。" in gold["contexts"]
        and len(gold["contexts"]) == 2
        and sum(len(c) for c in gold["contexts"]) == 16
    )
    assert gold["labels"][gold["contexts"].index("二文目に答えがある。")] == 1
    everything = build_eval_set(data, max_queries=9, max_passage_chars=16, hard_negatives=0, min_sentences=1)
    assert evalset.too_short > 0 and everything.too_short == 0
    assert len(everything.items) == len(evalset.items) + evalset.too_short
    with pytest.raises(PruningError, match="min sentences must be at least 1"):
        build_eval_set(data, max_queries=2, min_sentences=0)


def test_the_cli_writes_a_file_pruning_exec_reads(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from pruning.cli.evalset import main

    dev = write_json(tmp_path / "dev.json", synthetic_doc())
    out = tmp_path / "eval" / "heldout.json"
    assert main(["--qa", str(dev), "--max-queries", "3", "--out", str(out)]) == 0
    items = load_eval_file(out)
    assert len(items) == 6 and sum(sum(it.labels) for it in items) == 3
    printed = capsys.readouterr().out
    assert f"wrote {out}" in printed and "questions 3, items 6, items with an answer 3" in printed


def test_the_cli_names_bad_input_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from pruning.cli.evalset import main

    dev = write_json(tmp_path / "dev.json", synthetic_doc(n_articles=2))
    assert main(["--qa", str(dev), "--max-queries", "0", "--out", str(tmp_path / "x.json")]) == 2
    assert "max queries must be at least 1" in capsys.readouterr().err
    assert main(["--qa", str(dev), "--max-queries", "2", "--negatives", "1", "--hard-negatives", "2"]) == 2
    assert "hard negatives must be between 0 and K-1 = 1" in capsys.readouterr().err
    assert main(["--qa", str(tmp_path / "missing.json"), "--max-queries", "2"]) == 2
    assert "missing.json" in capsys.readouterr().err
