"""QA corpora -> context-relevance rows: validation, labels, negatives, determinism, splits, output."""

from __future__ import annotations

import copy
import json
import logging
from pathlib import Path
from typing import Any

import pytest

from pruning.data.qa.convert import COLUMNS, convert_qa, default_output_dir, write_dataset
from pruning.data.qa.reader import load_qa, load_squad_file
from pruning.data.qa.rows import build_rows, relevance_for_spans, split_by_article
from pruning.data.training_rows import validate_relevance_row
from pruning.errors import PruningError
from tests.shared import require_shared

pytestmark = pytest.mark.unit


def qa(qid: str, question: str, context: str, *answers: str, **extra: Any) -> dict[str, Any]:
    """A question whose answers are given by text (located at their first occurrence in the context)."""
    found = [{"text": a, "answer_start": context.index(a)} for a in answers]
    return {"id": qid, "question": question, "answers": found, **extra}


def synthetic_doc(n_articles: int = 6, paragraphs: int = 3, tag: str = "") -> dict[str, Any]:
    """Articles A0.. with paragraphs of three sentences; one question per paragraph, answer in sentence 2."""
    data = []
    for a in range(n_articles):
        paras = []
        for p in range(paragraphs):
            ctx = f"記事{tag}{a}の段落{p}です。答えは{a}-{p}番です。最後の文です。"
            paras.append({"context": ctx, "qas": [qa(f"q{tag}{a}-{p}", f"質問{a}-{p}？", ctx, f"{a}-{p}番")]})
        data.append({"title": f"Title{tag}{a}", "paragraphs": paras})
    return {"version": "test", "data": data}


def write_json(path: Path, doc: Any) -> Path:
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


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


def test_validation_rows_never_share_paragraphs_with_train(tmp_path: Path) -> None:
    src = write_json(tmp_path / "d.json", synthetic_doc(n_articles=12))
    result = convert_qa([src], validation_fraction=0.25, k=3, seed=9)
    train_texts = {t for r in result.rows_by_split["train"] for t in r["texts"]}
    val_texts = {t for r in result.rows_by_split["validation"] for t in r["texts"]}
    assert not train_texts & val_texts


def test_same_seed_gives_identical_bytes(tmp_path: Path) -> None:
    src = write_json(tmp_path / "d.json", synthetic_doc(n_articles=8))
    for out in ("a", "b"):
        result = convert_qa([src], validation_fraction=0.25, k=4, seed=42)
        write_dataset(result.rows_by_split, tmp_path / out, result.manifest)
    for name in ("train.jsonl", "validation.jsonl", "manifest.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_validation_cap_applies_to_the_validation_split_only(tmp_path: Path) -> None:
    train = write_json(tmp_path / "train.json", synthetic_doc(n_articles=5))
    val = write_json(tmp_path / "val.json", synthetic_doc(n_articles=4, tag="v"))
    both = convert_qa([train], validation_paths=[val], k=2, seed=3, max_queries=9)
    capped = convert_qa([train], validation_paths=[val], k=2, seed=3, max_queries=9, max_validation_queries=4)
    assert capped.rows_by_split["train"] == both.rows_by_split["train"]
    assert len(both.rows_by_split["validation"]) == 9 and len(capped.rows_by_split["validation"]) == 4
    # the same seeded order: the smaller subset is drawn from the larger one
    assert all(row in both.rows_by_split["validation"] for row in capped.rows_by_split["validation"])
    assert capped.manifest["options"]["max_validation_queries"] == 4
    assert both.manifest["options"]["max_validation_queries"] == 9
    uncapped = convert_qa([train], validation_paths=[val], k=2, seed=3, max_validation_queries=2)
    assert len(uncapped.rows_by_split["train"]) == 15 and len(uncapped.rows_by_split["validation"]) == 2


def test_max_passage_chars_below_one_is_an_error(tmp_path: Path) -> None:
    corpus = load_qa([write_json(tmp_path / "d.json", synthetic_doc())])
    with pytest.raises(PruningError, match="max passage chars must be at least 1, got 0"):
        build_rows(corpus, k=2, max_passage_chars=0)


def test_validation_cap_below_one_is_an_error(tmp_path: Path) -> None:
    src = write_json(tmp_path / "d.json", synthetic_doc(n_articles=4))
    with pytest.raises(PruningError, match="max validation queries must be at least 1, got 0"):
        convert_qa([src], validation_fraction=0.25, k=2, seed=0, max_validation_queries=0)


def test_explicit_validation_files(tmp_path: Path) -> None:
    train = write_json(tmp_path / "train.json", synthetic_doc(n_articles=5))
    val_dir = tmp_path / "val"
    val_dir.mkdir()
    write_json(val_dir / "v0.json", synthetic_doc(n_articles=3, tag="v"))
    write_json(val_dir / "v1.json", synthetic_doc(n_articles=2, tag="w"))
    result = convert_qa([train], validation_paths=[val_dir], k=3, seed=0)
    assert len(result.rows_by_split["train"]) == 15
    assert len(result.rows_by_split["validation"]) == 15
    roles = [(Path(s["path"]).name, s["role"]) for s in result.manifest["sources"]]
    assert roles == [("train.json", "train"), ("v0.json", "validation"), ("v1.json", "validation")]
    assert all(len(s["sha256"]) == 64 for s in result.manifest["sources"])


# ------------------------------------------------------------------------------------ malformed input


def _mutate(doc: dict[str, Any], path: tuple[Any, ...], value: Any) -> None:
    """Set (or delete, when value is ...) doc[path[0]][path[1]]...; -1 indexes stay python semantics."""
    target = doc
    for key in path[:-1]:
        target = target[key]
    if value is ...:
        del target[path[-1]]
    else:
        target[path[-1]] = value


Q = ("data", 1, "paragraphs", 2, "qas", 0)  # question "q1-2" of article 1, paragraph 2
A = (*Q, "answers", 0)


@pytest.mark.parametrize(
    ("path", "value", "reason", "where"),
    [
        ((*Q, "question"), ..., "missing_field:question", (1, 2, "q1-2", "question")),
        ((*Q, "question"), 17, "bad_type:question", (1, 2, "q1-2", "question")),
        ((*Q, "question"), "  ", "empty:question", (1, 2, "q1-2", "question")),
        ((*Q, "id"), ..., "missing_field:id", (1, 2, None, "id")),
        ((*Q, "id"), "q0-0", "duplicate_id", (1, 2, "q0-0", "id")),
        ((*Q, "answers"), ..., "no_answers", (1, 2, "q1-2", "answers")),
        ((*Q, "answers"), [], "no_answers", (1, 2, "q1-2", "answers")),
        ((*Q, "answers"), "x", "bad_type:answers", (1, 2, "q1-2", "answers")),
        ((*Q, "is_impossible"), True, "impossible", (1, 2, "q1-2", "is_impossible")),
        ((*A, "text"), ..., "missing_field:text", (1, 2, "q1-2", "answers[0].text")),
        ((*A, "answer_start"), ..., "missing_field:answer_start", (1, 2, "q1-2", "answers[0].answer_start")),
        ((*A, "answer_start"), "3", "bad_type:answer_start", (1, 2, "q1-2", "answers[0].answer_start")),
        ((*A, "answer_start"), 10_000, "answer_out_of_range", (1, 2, "q1-2", "answers[0].answer_start")),
        ((*A, "answer_start"), -1, "answer_out_of_range", (1, 2, "q1-2", "answers[0].answer_start")),
        ((*A, "answer_start"), 0, "answer_mismatch", (1, 2, "q1-2", "answers[0].text")),
        ((*A, "text"), "", "empty:answer_text", (1, 2, "q1-2", "answers[0].text")),
        (("data", 1, "paragraphs", 2, "context"), ..., "missing_field:context", (1, 2, None, "context")),
        (("data", 1, "paragraphs", 2, "context"), ["x"], "bad_type:context", (1, 2, None, "context")),
        (("data", 1, "paragraphs", 2, "context"), " \n", "empty:context", (1, 2, None, "context")),
        (("data", 1, "paragraphs", 2, "qas"), ..., "missing_field:qas", (1, 2, None, "qas")),
        (("data", 1, "title"), ..., "missing_field:title", (1, None, None, "title")),
        (("data", 1, "paragraphs"), ..., "missing_field:paragraphs", (1, None, None, "paragraphs")),
        (("data", 1, "paragraphs"), {}, "bad_type:paragraphs", (1, None, None, "paragraphs")),
        (("data", 1), "oops", "bad_type:article", (1, None, None, None)),
    ],
)
def test_each_malformed_item_is_skipped_with_its_own_reason(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, path: tuple[Any, ...], value: Any, reason: str, where: tuple
) -> None:
    doc = synthetic_doc()
    _mutate(doc, path, value)
    src = write_json(tmp_path / "bad.json", doc)
    corpus = load_squad_file(src)
    assert len(corpus.skipped) == 1
    item = corpus.skipped[0]
    assert item.reason == reason
    assert item.file == str(src)
    assert (item.article, item.paragraph, item.qid, item.field) == where
    assert corpus.skipped_counts() == {reason: 1}
    with caplog.at_level(logging.WARNING, logger="pruning.data.qa.reader"):
        result = convert_qa([src], validation_fraction=0.5, k=2, seed=0)
    assert result.manifest["skipped"] == {"all": {reason: 1}}
    assert reason in caplog.text and "bad.json" in caplog.text


def test_impossible_and_unanswered_questions_are_counted(tmp_path: Path) -> None:
    doc = synthetic_doc()
    qas = doc["data"][0]["paragraphs"][0]["qas"]
    qas.append({"id": "imp", "question": "無理？", "answers": [], "is_impossible": True})
    qas.append({"id": "none", "question": "なし？", "answers": []})
    corpus = load_squad_file(write_json(tmp_path / "d.json", doc))
    assert corpus.skipped_counts() == {"impossible": 1, "no_answers": 1}
    assert corpus.questions_seen == 20
    assert len(corpus.examples) == 18


def test_duplicate_ids_across_files_are_skipped(tmp_path: Path) -> None:
    a = write_json(tmp_path / "a.json", synthetic_doc(n_articles=2))
    b = write_json(tmp_path / "b.json", synthetic_doc(n_articles=3))
    corpus = load_qa([a, b])
    assert corpus.skipped_counts() == {"duplicate_id": 6}
    assert all(item.file == str(b) for item in corpus.skipped)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "invalid JSON"),
        ('{"version": 1}', "'data' list"),
        ('{"data": {}}', "'data' list"),
        ("[1, 2]", "'data' list"),
    ],
)
def test_structurally_broken_file_is_a_pruning_error_naming_it(tmp_path: Path, content: str, message: str) -> None:
    src = tmp_path / "broken.json"
    src.write_text(content, encoding="utf-8")
    with pytest.raises(PruningError, match=message) as info:
        load_qa([src])
    assert str(src) in str(info.value)


def test_missing_path_and_empty_folder_are_user_errors(tmp_path: Path) -> None:
    with pytest.raises(PruningError, match="no such file"):
        load_qa([tmp_path / "nope.json"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(PruningError, match="no .json files"):
        load_qa([tmp_path / "empty"])


def test_unknown_format_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(PruningError, match="unknown QA format"):
        load_squad_file(write_json(tmp_path / "d.json", synthetic_doc()), "csv")


# ------------------------------------------------------------------------------------------- JSQuAD


def jsquad_doc() -> dict[str, Any]:
    doc = synthetic_doc(n_articles=4)
    for article in doc["data"]:
        for paragraph in article["paragraphs"]:
            prefix = f"{article['title']} [SEP] "
            paragraph["context"] = prefix + paragraph["context"]
            for question in paragraph["qas"]:
                for answer in question["answers"]:
                    answer["answer_start"] += len(prefix)
    # Article 0 paragraph 0: one answer in the title and one in the text; paragraph 1: title only.
    p0, p1 = doc["data"][0]["paragraphs"][:2]
    p0["qas"][0]["answers"].insert(0, {"text": "Title0", "answer_start": 0})
    p1["qas"][0]["answers"] = [{"text": "Title0", "answer_start": 0}]
    return doc


@pytest.mark.parametrize("qa_format", ["auto", "jsquad"])
def test_jsquad_prefix_is_stripped_and_offsets_shifted(tmp_path: Path, qa_format: str) -> None:
    corpus = load_squad_file(write_json(tmp_path / "js.json", jsquad_doc()), qa_format)
    assert all("[SEP]" not in p.text for p in corpus.passages)
    for example in corpus.examples:
        for start, end in example.answer_spans:
            assert example.context[start:end].endswith("番")
    assert corpus.skipped_counts() == {"answer_in_title": 1}
    assert corpus.dropped_answers == {"answer_in_title": 2}
    assert len(corpus.examples) == 11


def test_jsquad_format_requires_the_sep_marker(tmp_path: Path) -> None:
    corpus = load_squad_file(write_json(tmp_path / "d.json", synthetic_doc(n_articles=2)), "jsquad")
    assert corpus.skipped_counts() == {"missing_sep_prefix": 6}


def test_plain_squad_keeps_contexts_verbatim(tmp_path: Path) -> None:
    doc = synthetic_doc(n_articles=2)
    corpus = load_squad_file(write_json(tmp_path / "d.json", doc), "auto")
    assert [p.text for p in corpus.passages] == [p["context"] for a in doc["data"] for p in a["paragraphs"]]


# ---------------------------------------------------------------------------------- row validation


def good_row() -> dict[str, Any]:
    return {
        "query": "q",
        "texts": ["ab. cd.", "ef."],
        "labels": [1, 0],
        "context_spans": [[[0, 3], [4, 7]], [[0, 3]]],
        "context_spans_relevance": [[0, 1], [0]],
    }


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda r: r.pop("texts"), "missing field 'texts'"),
        (lambda r: r.update(query=""), "'query'"),
        (lambda r: r.update(texts="ab"), "'texts'"),
        (lambda r: r.update(labels=[1]), "'labels'"),
        (lambda r: r["labels"].__setitem__(1, "0"), r"labels\[1\]"),
        (lambda r: r["context_spans"].pop(), "'context_spans'"),
        (lambda r: r["context_spans_relevance"][0].pop(), "2 spans but 1 relevance"),
        (lambda r: r["context_spans"][1].__setitem__(0, [0, 9]), r"context_spans\[1\]\[0\]"),
        (lambda r: r["context_spans"][0].__setitem__(1, [5, 4]), r"context_spans\[0\]\[1\]"),
        (lambda r: r["context_spans"][0].__setitem__(0, [0]), r"context_spans\[0\]\[0\]"),
        (lambda r: r["context_spans_relevance"][0].__setitem__(0, 2), r"relevance\[0\]\[0\] = 2"),
        (lambda r: r["context_spans_relevance"][0].__setitem__(0, True), r"relevance\[0\]\[0\] = True"),
    ],
)
def test_validate_relevance_row_names_row_and_field(change: Any, message: str) -> None:
    validate_relevance_row(good_row(), "row 0")
    row = copy.deepcopy(good_row())
    change(row)
    with pytest.raises(PruningError, match=message) as info:
        validate_relevance_row(row, "train row 7")
    assert str(info.value).startswith("train row 7: ")


def test_validate_relevance_row_allows_extra_columns() -> None:
    row = good_row()
    row["teacher_scores.some-teacher"] = [0.9, 0.1]
    validate_relevance_row(row, "row")


# ------------------------------------------------------------------------------------------- output


def test_written_dataset_loads_with_datasets(tmp_path: Path) -> None:
    datasets = pytest.importorskip("datasets")
    src = write_json(tmp_path / "d.json", synthetic_doc(n_articles=8))
    result = convert_qa([src], validation_fraction=0.25, k=4, seed=42)
    out = write_dataset(result.rows_by_split, tmp_path / "out", result.manifest)
    ds = datasets.load_dataset(
        "json",
        data_files={"train": str(out / "train.jsonl"), "validation": str(out / "validation.jsonl")},
        cache_dir=str(tmp_path / "hf-cache"),
    )
    for split in ("train", "validation"):
        assert ds[split].column_names == list(COLUMNS)
        assert ds[split].num_rows == len(result.rows_by_split[split])
    assert ds["train"][0]["context_spans"] == result.rows_by_split["train"][0]["context_spans"]
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["rows"] == {"train": 18, "validation": 6}
    assert manifest["options"]["seed"] == 42 and manifest["options"]["k"] == 4
    assert "日本" not in (out / "train.jsonl").read_text(encoding="utf-8")  # sanity: synthetic text only
    assert "記事" in (out / "train.jsonl").read_text(encoding="utf-8")  # ensure_ascii=False


def test_write_dataset_refuses_bad_rows_and_missing_splits(tmp_path: Path) -> None:
    with pytest.raises(PruningError, match="expected splits"):
        write_dataset({"train": [good_row()]}, tmp_path / "o")
    with pytest.raises(PruningError, match="validation split is empty"):
        write_dataset({"train": [good_row()], "validation": []}, tmp_path / "o")
    bad = good_row()
    bad["labels"] = [1]
    with pytest.raises(PruningError, match="validation row 1"):
        write_dataset({"train": [good_row()], "validation": [good_row(), bad]}, tmp_path / "o")


def test_write_dataset_warns_inside_a_git_checkout(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    rows = {"train": [good_row()], "validation": [good_row()]}
    with caplog.at_level(logging.WARNING, logger="pruning.data.qa.convert"):
        write_dataset(rows, tmp_path / "repo" / "data")
    assert "git checkout" in caplog.text and "CC BY-SA" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="pruning.data.qa.convert"):
        write_dataset(rows, tmp_path / "elsewhere")
    assert "git checkout" not in caplog.text


def test_default_output_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PRUNING_CACHE", str(tmp_path))
    assert default_output_dir("x") == tmp_path / "data" / "x"
    monkeypatch.delenv("PRUNING_CACHE")
    assert default_output_dir("x") == Path.home() / ".cache" / "pruning" / "data" / "x"


# ----------------------------------------------------------------------------------- real corpus


def test_real_jaquad_dev_converts_cleanly() -> None:
    result = convert_qa([require_shared("data", "qa", "jaquad", "dev")], validation_fraction=0.1, k=8, seed=42)
    assert result.manifest["questions_seen"] == {"all": 3939}
    assert result.manifest["skipped"] == {"all": {}}
    rows = result.rows_by_split["train"] + result.rows_by_split["validation"]
    assert len(rows) == 3939
    for n, row in enumerate(rows[:200]):
        validate_relevance_row(row, f"row {n}")
        assert sum(row["context_spans_relevance"][0]) >= 1


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


def test_title_queries_are_recorded_in_the_manifest(tmp_path: Path) -> None:
    doc = write_json(tmp_path / "d.json", synthetic_doc(n_articles=10))
    result = convert_qa([doc], k=2, seed=1, title_queries=2, validation_fraction=0.3)
    assert result.manifest["options"]["title_queries"] == 2
    for split, rows in result.rows_by_split.items():
        assert result.manifest["counts"][split]["rows"] == len(rows)
        assert all(row["query"].startswith("Title") for row in rows[-2:])
        assert all(row["query"].startswith("質問") for row in rows[:-2])


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
