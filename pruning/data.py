"""Training data in the context-relevance format: load (hub or local files), pick the target column, validate.

A row: `query`, `texts` (K passages), `labels` (K), `context_spans` (per passage, [start, end] character spans),
`context_spans_relevance` (per passage, 0/1 per span), and optionally a teacher column `teacher_scores.<name>`.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from pruning.config import DataArgs
from pruning.errors import PruningError

logger = logging.getLogger(__name__)

TEACHER_PREFIX = "teacher_scores."
REQUIRED_COLUMNS = ("query", "texts", "labels", "context_spans", "context_spans_relevance")
_FILE_BUILDERS = {".json": "json", ".jsonl": "json", ".parquet": "parquet"}


def load_splits(args: DataArgs):
    """Return (train, validation or None) as `datasets.Dataset`, honouring max_*_samples."""
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
        builder = _builder_for(args.train_files + (args.validation_files or []))
        try:
            loaded = datasets.load_dataset(builder, data_files=files)
        except Exception as exc:
            raise PruningError(f"training files {args.train_files}: could not be read: {exc}") from None
        where = "training files"
    if args.train_split not in loaded:
        raise PruningError(f"{where}: no split {args.train_split!r} (has {sorted(loaded)})")
    train = _take(loaded[args.train_split], args.max_train_samples)
    validation = None
    if args.validation_split:
        if args.validation_split not in loaded:
            raise PruningError(
                f"{where}: no split {args.validation_split!r} (has {sorted(loaded)}); "
                "set data_args.validation_split: null to train without evaluation"
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


def validate_dataset(ds, target_column: str, name: str) -> None:
    """Check every row; the first bad row raises a PruningError naming the split and row index."""
    missing = [c for c in (*REQUIRED_COLUMNS, target_column) if c not in ds.column_names]
    if missing:
        raise PruningError(f"{name}: missing columns {missing} (have {ds.column_names})")
    columns = ["query", "texts", "context_spans", "context_spans_relevance", target_column]
    for i, row in enumerate(ds.select_columns(list(dict.fromkeys(columns)))):
        validate_row(row, f"{name}: row {i}", target_column)


def validate_row(row: dict[str, Any], where: str, target_column: str) -> None:
    """Check one context-relevance row; the error names the row and the field."""
    for key in ("query", "texts", "context_spans", "context_spans_relevance", target_column):
        if key not in row or row[key] is None:
            raise PruningError(f"{where}: field {key!r} is missing")
    texts, spans, rel, targets = (
        row["texts"],
        row["context_spans"],
        row["context_spans_relevance"],
        row[target_column],
    )
    if not isinstance(row["query"], str) or not row["query"].strip():
        raise PruningError(f"{where}: field 'query' must be a non-empty string")
    if not texts:
        raise PruningError(f"{where}: field 'texts' is empty")
    for key, value in (("context_spans", spans), ("context_spans_relevance", rel), (target_column, targets)):
        if len(value) != len(texts):
            raise PruningError(f"{where}: field {key!r} has {len(value)} entries for {len(texts)} texts")
    for p, (text, p_spans, p_rel) in enumerate(zip(texts, spans, rel, strict=True)):
        if len(p_spans) != len(p_rel):
            raise PruningError(
                f"{where}: passage {p}: {len(p_spans)} context_spans but {len(p_rel)} context_spans_relevance"
            )
        for s, span in enumerate(p_spans):
            if len(span) != 2 or not 0 <= span[0] < span[1] <= len(text):
                raise PruningError(
                    f"{where}: passage {p}: context_spans[{s}] = {list(span)} lies outside its text "
                    f"of {len(text)} characters"
                )
        if any(v not in (0, 1) or isinstance(v, bool) for v in p_rel):
            raise PruningError(f"{where}: passage {p}: context_spans_relevance must hold 0/1 values")
