"""Training data in the context-relevance format: load (hub or local files), pick the target column, validate.

A row: `query`, `texts` (K passages), `labels` (K), `context_spans` (per passage, [start, end] character spans),
`context_spans_relevance` (per passage, 0/1 per span), and optionally a teacher column `teacher_scores.<name>`
(one score per passage) and `context_spans_teacher` (per passage, one sentence-teacher score in [0, 1] per span:
`pruning-data --sentence-teacher`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pruning.errors import PruningError

if TYPE_CHECKING:
    from pruning.config import DataArgs

logger = logging.getLogger(__name__)

TEACHER_PREFIX = "teacher_scores."
#: Per passage, one score in [0, 1] per span: the teacher's score of that sentence alone (pruning.data.teacher).
SENTENCE_TEACHER_COLUMN = "context_spans_teacher"
REQUIRED_COLUMNS = ("query", "texts", "labels", "context_spans", "context_spans_relevance")
_FILE_BUILDERS = {".json": "json", ".jsonl": "json", ".parquet": "parquet"}


def load_splits(args: DataArgs, config_file: str | Path | None = None, needs_validation: Sequence[str] = ()):
    """Return (train, validation or None) as `datasets.Dataset`, honouring max_*_samples.

    `config_file` names the config in errors; `needs_validation` lists the config keys that need a validation
    split, so that the hint for a missing one also says to remove them.
    """
    import datasets

    if args.dataset_name:
        try:
            loaded = datasets.load_dataset(args.dataset_name, args.subset)
        except Exception as exc:  # the hub client raises many types; all mean "not reachable / not found"
            raise PruningError(
                f"dataset {args.dataset_name!r} (subset {args.subset!r}) could not be loaded: {exc}"
            ) from None
        where = f"dataset {args.dataset_name}"
    else:
        files = {"train": args.train_files}
        if args.validation_files:
            files["validation"] = args.validation_files
        builder = _builder_for([*(args.train_files or []), *(args.validation_files or [])])
        try:
            loaded = datasets.load_dataset(builder, data_files=files)
        except Exception as exc:
            raise PruningError(f"training files {args.train_files}: could not be read: {exc}") from None
        where = f"{config_file}: data_args: training files" if config_file else "training files"
    if args.train_split not in loaded:
        raise PruningError(f"{where}: no split {args.train_split!r} (has {sorted(loaded)})")
    train = _take(loaded[args.train_split], args.max_train_samples)
    validation = None
    if args.validation_split:
        if args.validation_split not in loaded:
            also = f" and remove {' and '.join(needs_validation)} (they need it)" if needs_validation else ""
            raise PruningError(
                f"{where}: no split {args.validation_split!r} (has {sorted(loaded)}); give data_args.validation_files, "
                f"or train without evaluation: set data_args.validation_split: null{also}"
            )
        validation = _take(loaded[args.validation_split], args.max_eval_samples)
    return train, validation


def _builder_for(files: list[str]) -> str:
    kinds = set()
    for file in files:
        suffix = Path(file).suffix.lower()
        if suffix not in _FILE_BUILDERS:
            raise PruningError(f"{file}: unsupported training file type {suffix!r} (json, jsonl or parquet)")
        if not Path(file).is_file():
            raise PruningError(f"{file}: no such training file")
        kinds.add(_FILE_BUILDERS[suffix])
    if len(kinds) != 1:
        raise PruningError(f"training files mix formats: {files}")
    return kinds.pop()


def _take(ds, limit: int | None):
    if limit is None:
        return ds
    if limit <= 0:
        raise PruningError(f"max samples must be positive, got {limit}")
    return ds.select(range(min(limit, len(ds))))


def resolve_target_column(columns: list[str], teacher_column: str | None) -> str:
    """The ranking-target column: the configured one, else the single teacher_scores.* column, else `labels`."""
    if teacher_column is not None:
        if teacher_column not in columns:
            raise PruningError(f"data_args.teacher_column {teacher_column!r} is not a column (have {columns})")
        return teacher_column
    teachers = [c for c in columns if c.startswith(TEACHER_PREFIX)]
    if len(teachers) > 1:
        raise PruningError(f"several teacher columns {teachers}: choose one with data_args.teacher_column")
    if teachers:
        logger.info("ranking targets from teacher column %r", teachers[0])
        return teachers[0]
    logger.info("no teacher column: ranking targets are the 0/1 `labels`")
    return "labels"


def validate_dataset(ds, target_column: str, name: str, sentence_scores: bool = False) -> None:
    """Check every row; the first bad row raises a PruningError naming the split and row index.

    `sentence_scores`: the rows must also hold `context_spans_teacher` (training_args.sentence_teacher_weight > 0).
    """
    if sentence_scores and SENTENCE_TEACHER_COLUMN not in ds.column_names:
        raise PruningError(
            f"{name}: no field {SENTENCE_TEACHER_COLUMN!r}, which training_args.sentence_teacher_weight > 0 needs "
            "(build the rows with pruning-data --sentence-teacher MODEL, or set the weight to 0)"
        )
    missing = [c for c in (*REQUIRED_COLUMNS, target_column) if c not in ds.column_names]
    if missing:
        raise PruningError(f"{name}: missing columns {missing} (have {ds.column_names})")
    columns = [*REQUIRED_COLUMNS, target_column, *([SENTENCE_TEACHER_COLUMN] if sentence_scores else [])]
    for i, row in enumerate(ds.select_columns(list(dict.fromkeys(columns)))):
        where = f"{name}: row {i}"
        validate_relevance_row(row, where)
        if sentence_scores:
            validate_sentence_scores(row, where)
        targets = row[target_column]
        if not isinstance(targets, list) or len(targets) != len(row["texts"]):
            raise PruningError(f"{where}: field {target_column!r} must hold one number per text ({len(row['texts'])})")
        if any(not isinstance(t, int | float) or isinstance(t, bool) or not 0 <= t <= 1 for t in targets):
            raise PruningError(f"{where}: field {target_column!r} must hold numbers in [0, 1]")


def _is_int01(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value in (0, 1)


def validate_relevance_row(row: Mapping[str, Any], where: str) -> None:
    """Check one context-relevance row; raise PruningError naming ``where`` and the field at fault."""

    def fail(msg: str) -> None:
        raise PruningError(f"{where}: {msg}")

    if not isinstance(row, Mapping):
        fail(f"expected an object, got {type(row).__name__}")
    for column in REQUIRED_COLUMNS:
        if column not in row:
            fail(f"missing field {column!r}")
    if not isinstance(row["query"], str) or not row["query"].strip():
        fail("'query' must be a non-empty string")
    texts, labels = row["texts"], row["labels"]
    spans, relevance = row["context_spans"], row["context_spans_relevance"]
    if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
        fail("'texts' must be a non-empty list of strings")
    for name, value in (("labels", labels), ("context_spans", spans), ("context_spans_relevance", relevance)):
        if not isinstance(value, list) or len(value) != len(texts):
            got = len(value) if isinstance(value, list) else type(value).__name__
            fail(f"{name!r} must be a list with one entry per text ({len(texts)}), got {got}")
    for i, label in enumerate(labels):
        if not isinstance(label, int | float) or isinstance(label, bool):
            fail(f"labels[{i}] must be a number, got {label!r}")
    for i, (text, passage_spans, passage_rel) in enumerate(zip(texts, spans, relevance, strict=True)):
        if not isinstance(passage_spans, list) or not isinstance(passage_rel, list):
            fail(f"context_spans[{i}] and context_spans_relevance[{i}] must be lists")
        if len(passage_spans) != len(passage_rel):
            fail(f"passage {i} has {len(passage_spans)} spans but {len(passage_rel)} relevance values")
        for j, span in enumerate(passage_spans):
            ok = (
                isinstance(span, list | tuple)
                and len(span) == 2
                and all(isinstance(x, int) and not isinstance(x, bool) for x in span)
                and 0 <= span[0] <= span[1] <= len(text)
            )
            if not ok:
                fail(f"context_spans[{i}][{j}] = {span!r} is not a [start, end] inside text {i} (length {len(text)})")
            if j and span[0] < passage_spans[j - 1][1]:
                fail(f"context_spans[{i}][{j}] = {span!r} overlaps or precedes the span before it")
        for j, value in enumerate(passage_rel):
            if not _is_int01(value):
                fail(f"context_spans_relevance[{i}][{j}] = {value!r} is not 0 or 1")


def validate_sentence_scores(row: Mapping[str, Any], where: str) -> None:
    """Check a row's `context_spans_teacher`: per passage, one number in [0, 1] per span of `context_spans`."""
    field = SENTENCE_TEACHER_COLUMN
    scores = row.get(field)
    if scores is None:
        raise PruningError(
            f"{where}: field {field!r} is missing, and training_args.sentence_teacher_weight > 0 needs it"
        )
    spans = row["context_spans"]
    if not isinstance(scores, list) or len(scores) != len(spans):
        got = len(scores) if isinstance(scores, list) else type(scores).__name__
        raise PruningError(f"{where}: field {field!r} must hold one list per text ({len(spans)}), got {got}")
    for i, (passage_scores, passage_spans) in enumerate(zip(scores, spans, strict=True)):
        if not isinstance(passage_scores, list) or len(passage_scores) != len(passage_spans):
            got = len(passage_scores) if isinstance(passage_scores, list) else type(passage_scores).__name__
            raise PruningError(
                f"{where}: field {field!r}[{i}] must hold one score per span of text {i} ({len(passage_spans)}), "
                f"got {got}"
            )
        for j, value in enumerate(passage_scores):
            if not isinstance(value, int | float) or isinstance(value, bool) or not 0 <= value <= 1:
                raise PruningError(f"{where}: field {field!r}[{i}][{j}] = {value!r} is not a number in [0, 1]")
