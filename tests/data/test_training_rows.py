"""Training splits: loading local files, choosing the ranking-target column, validating every row."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from pruning.config import DataArgs
from pruning.data.synthetic import make_rows
from pruning.data.training_rows import load_splits, resolve_target_column, validate_dataset, validate_relevance_row
from pruning.errors import PruningError
from tests.data.helpers import good_row

pytestmark = pytest.mark.unit


def _write(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return str(path)


def test_local_files_and_sample_limits(tmp_path):
    train = _write(tmp_path / "train.jsonl", make_rows(10, k=3, seed=0))
    val = _write(tmp_path / "validation.jsonl", make_rows(4, k=3, seed=1))
    tr, va = load_splits(DataArgs(train_files=[train], validation_files=[val], max_train_samples=6))
    assert (len(tr), len(va)) == (6, 4)
    validate_dataset(tr, "labels", "train")
    tr, va = load_splits(DataArgs(train_files=[train], validation_split=None))
    assert va is None and len(tr) == 10
    with pytest.raises(PruningError, match="no split 'validation'"):
        load_splits(DataArgs(train_files=[train]))


def test_file_errors(tmp_path):
    with pytest.raises(PruningError, match="no such training file"):
        load_splits(DataArgs(train_files=[str(tmp_path / "missing.jsonl")]))
    (tmp_path / "x.csv").write_text("a\n")
    with pytest.raises(PruningError, match="unsupported training file type '.csv'"):
        load_splits(DataArgs(train_files=[str(tmp_path / "x.csv")]))


def test_target_column_resolution(caplog):
    caplog.set_level("INFO", logger="pruning.data.training_rows")
    assert resolve_target_column(["query", "labels", "teacher_scores.a.b"], None) == "teacher_scores.a.b"
    assert resolve_target_column(["query", "labels"], None) == "labels"
    assert "ranking targets are the 0/1 `labels`" in caplog.text
    assert resolve_target_column(["labels", "teacher_scores.x"], "labels") == "labels"
    with pytest.raises(PruningError, match="several teacher columns"):
        resolve_target_column(["teacher_scores.a", "teacher_scores.b"], None)
    with pytest.raises(PruningError, match="'teacher_scores.z' is not a column"):
        resolve_target_column(["labels"], "teacher_scores.z")


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda r: r.update(teacher=[0.5]), "row 1: field 'teacher' must hold one number per text"),
        (lambda r: r.update(teacher=[2.0, 0.0, 0.0]), "row 1: field 'teacher' must hold numbers in \\[0, 1\\]"),
        (lambda r: r["context_spans"][0].__setitem__(0, [0, 10_000]), "row 1: context_spans\\[0\\]\\[0\\]"),
        (
            lambda r: r["context_spans_relevance"][0].__setitem__(0, 2),
            "row 1: context_spans_relevance\\[0\\]\\[0\\] = 2 is not 0 or 1",
        ),
        (lambda r: r.update(labels=[1]), "row 1: 'labels' must be a list with one entry per text"),
        (
            lambda r: r["context_spans"][0].reverse(),
            "row 1: context_spans\\[0\\]\\[1\\] = .* overlaps or precedes the span before it",
        ),
    ],
)
def test_bad_rows_are_named(tmp_path, mutate, message):
    import datasets

    rows = make_rows(3, k=3, seed=0)
    for r in rows:
        r["teacher"] = [0.9, 0.1, 0.0]
    mutate(rows[1])
    ds = datasets.Dataset.from_list(rows)
    with pytest.raises(PruningError, match=f"train: {message}"):
        validate_dataset(ds, "teacher", "train")


def test_missing_column_is_named():
    import datasets

    ds = datasets.Dataset.from_list([{k: v for k, v in r.items() if k != "context_spans"} for r in make_rows(2)])
    with pytest.raises(PruningError, match="missing columns \\['context_spans'\\]"):
        validate_dataset(ds, "labels", "train")


# ---------------------------------------------------------------------------------- row validation


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


# ---------------------------------------------------------------------------------- sentence-teacher scores


def _with_sentence_scores(n=3):
    rows = make_rows(n, k=3, seed=0)
    for r in rows:
        r["context_spans_teacher"] = [[0.5] * len(spans) for spans in r["context_spans"]]
    return rows


def test_sentence_scores_are_checked_only_when_asked_for():
    import datasets

    rows = make_rows(2, k=3, seed=0)
    validate_dataset(datasets.Dataset.from_list(rows), "labels", "train")  # no field, weight 0: fine
    with pytest.raises(PruningError, match="train: no field 'context_spans_teacher', which training_args"):
        validate_dataset(datasets.Dataset.from_list(rows), "labels", "train", sentence_scores=True)
    validate_dataset(datasets.Dataset.from_list(_with_sentence_scores()), "labels", "train", sentence_scores=True)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda r: r.update(context_spans_teacher=None), "row 1: field 'context_spans_teacher' is missing"),
        (
            lambda r: r["context_spans_teacher"].pop(),
            r"row 1: field 'context_spans_teacher' must hold one list per text \(3\), got 2",
        ),
        (
            lambda r: r["context_spans_teacher"][0].append(0.5),
            r"row 1: field 'context_spans_teacher'\[0\] must hold one score per span of text 0",
        ),
        (
            lambda r: r["context_spans_teacher"][2].__setitem__(0, 1.5),
            r"row 1: field 'context_spans_teacher'\[2\]\[0\] = 1.5 is not a number in \[0, 1\]",
        ),
    ],
)
def test_bad_sentence_scores_are_named(mutate, message):
    import datasets

    rows = _with_sentence_scores()
    mutate(rows[1])
    with pytest.raises(PruningError, match=f"train: {message}"):
        validate_dataset(datasets.Dataset.from_list(rows), "labels", "train", sentence_scores=True)
