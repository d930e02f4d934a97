"""QA files -> train/validation rows plus a manifest (convert_qa), and writing them as a dataset folder."""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pruning.cache import cache_root
from pruning.data.qa.reader import QACorpus, load_qa, log_skips
from pruning.data.qa.rows import build_rows, split_by_article
from pruning.data.training_rows import (
    REQUIRED_COLUMNS,
    SENTENCE_TEACHER_COLUMN,
    TEACHER_PREFIX,
    validate_relevance_row,
    validate_sentence_scores,
)
from pruning.errors import PruningError

logger = logging.getLogger(__name__)

__all__ = [
    "COLUMNS",
    "SPLITS",
    "ConversionResult",
    "convert_qa",
    "default_output_dir",
    "write_dataset",
]

COLUMNS = REQUIRED_COLUMNS
SPLITS = ("train", "validation")


@dataclass
class ConversionResult:
    """Rows per split and the manifest that describes how they were made."""

    rows_by_split: dict[str, list[dict[str, Any]]]
    manifest: dict[str, Any]


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _corpus_counts(corpus: QACorpus, rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    n_spans = sum(len(s) for row in rows for s in row["context_spans"])
    n_relevant = sum(sum(r) for row in rows for r in row["context_spans_relevance"])
    return {
        "rows": len(rows),
        "answerable_questions": len(corpus.examples),
        "articles": len({p.title for p in corpus.passages}),
        "paragraphs": len(corpus.passages),
        "sentences": n_spans,
        "relevant_sentences": n_relevant,
    }


def convert_qa(
    qa_paths: Sequence[str | os.PathLike[str]],
    *,
    validation_paths: Sequence[str | os.PathLike[str]] | None = None,
    validation_fraction: float = 0.1,
    qa_format: str = "auto",
    k: int = 8,
    seed: int = 42,
    max_queries: int | None = None,
    max_validation_queries: int | None = None,
    progress: bool = False,
    hard_negatives: int = 0,
    max_passage_chars: int | None = None,
    relevance_mode: str = "answer",
    title_queries: int = 0,
    mask_title: bool = False,
    mask_overlap: float = 0.0,
) -> ConversionResult:
    """Read QA files and build train/validation rows plus a manifest (split by article unless given files).

    `max_queries` caps the question rows of each split; `max_validation_queries`, when given, caps the
    validation split's instead (e.g. fewer rows to score with a teacher when training evaluates only a few).
    `mask_overlap` applies to the train split only, so that eval losses stay comparable with unmasked runs.
    """
    if max_validation_queries is not None and max_validation_queries < 1:
        raise PruningError(f"max validation queries must be at least 1, got {max_validation_queries}")
    train = load_qa(qa_paths, qa_format)
    log_skips(train, "train input" if validation_paths else "input")
    overlap = 0
    if validation_paths:
        validation = load_qa(validation_paths, qa_format)
        log_skips(validation, "validation input")
        overlap = len({p.title for p in train.passages} & {p.title for p in validation.passages})
        if overlap:
            logger.warning("%d article title(s) occur in both the train and the validation files", overlap)
        skipped = {"train": train.skipped_counts(), "validation": validation.skipped_counts()}
        dropped = {"train": dict(train.dropped_answers), "validation": dict(validation.dropped_answers)}
        questions = {"train": train.questions_seen, "validation": validation.questions_seen}
    else:
        skipped = {"all": train.skipped_counts()}
        dropped = {"all": dict(train.dropped_answers)}
        questions = {"all": train.questions_seen}
        train, validation = split_by_article(train, validation_fraction, seed)
    for name, part in (("train", train), ("validation", validation)):
        if not part.examples:
            raise PruningError(f"the {name} split has no usable questions")
    validation_cap = max_queries if max_validation_queries is None else max_validation_queries
    caps = {"train": max_queries, "validation": validation_cap}
    rows = {
        name: build_rows(
            part,
            k=k,
            seed=seed,
            max_queries=caps[name],
            progress=progress,
            desc=name,
            hard_negatives=hard_negatives,
            max_passage_chars=max_passage_chars,
            relevance_mode=relevance_mode,
            title_queries=title_queries,
            mask_title=mask_title,
            mask_overlap=mask_overlap if name == "train" else 0.0,
        )
        for name, part in (("train", train), ("validation", validation))
    }
    sources = [
        {"path": str(p), "role": "train" if validation_paths else "train+validation", "sha256": _sha256(p)}
        for p in train.files
    ]
    if validation_paths:
        sources += [{"path": str(p), "role": "validation", "sha256": _sha256(p)} for p in validation.files]
    manifest = {
        "format": "context-relevance",
        "columns": list(COLUMNS),
        "created_by": "pruning-data",
        "options": {
            "qa_format": qa_format,
            "k": k,
            "hard_negatives": hard_negatives,
            "max_passage_chars": max_passage_chars,
            "relevance_mode": relevance_mode,
            "title_queries": title_queries,
            "mask_title": mask_title,
            "mask_overlap": mask_overlap,
            "mask_overlap_splits": ["train"] if mask_overlap else [],
            "seed": seed,
            "max_queries": max_queries,
            "max_validation_queries": caps["validation"],
            "validation": "files" if validation_paths else f"fraction {validation_fraction} by article",
            "jsquad_title_prefix": "stripped; answers inside it dropped",
        },
        "sources": sources,
        "questions_seen": questions,
        "skipped": skipped,
        "dropped_answers": dropped,
        "title_overlap_train_validation": overlap,
        "counts": {
            "train": _corpus_counts(train, rows["train"]),
            "validation": _corpus_counts(validation, rows["validation"]),
        },
        "license_note": "derived from CC BY-SA corpora: keep out of version control",
    }
    return ConversionResult(rows, manifest)


# -------------------------------------------------------------------------------------------- writing


def default_output_dir(name: str) -> Path:
    """``<cache root>/data/<name>`` (see pruning.cache)."""
    return cache_root() / "data" / name


def _git_root(path: Path) -> Path | None:
    for parent in [path, *path.parents]:
        if (parent / ".git").exists():
            return parent
    return None


def write_dataset(
    rows_by_split: Mapping[str, Sequence[Mapping[str, Any]]],
    out_dir: str | os.PathLike[str],
    manifest: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``train.jsonl``, ``validation.jsonl`` and ``manifest.json`` into ``out_dir``; return it."""
    if set(rows_by_split) != set(SPLITS):
        raise PruningError(f"expected splits {list(SPLITS)}, got {sorted(rows_by_split)}")
    out = Path(out_dir).expanduser()
    for split in SPLITS:
        if not rows_by_split[split]:
            raise PruningError(f"the {split} split is empty; nothing to write")
        for n, row in enumerate(rows_by_split[split]):
            validate_relevance_row(row, f"{split} row {n}")
            if SENTENCE_TEACHER_COLUMN in row:
                validate_sentence_scores(row, f"{split} row {n}")
    repo = _git_root(out.resolve())
    if repo is not None:
        logger.warning(
            "%s lies inside the git checkout %s: this data derives from CC BY-SA corpora and must not be committed",
            out,
            repo,
        )
    try:
        out.mkdir(parents=True, exist_ok=True)
        for split in SPLITS:
            tmp = out / f".{split}.jsonl.tmp"
            with tmp.open("w", encoding="utf-8") as fh:
                for row in rows_by_split[split]:
                    columns = [*COLUMNS, *sorted(c for c in row if c.startswith(TEACHER_PREFIX))]
                    columns += [SENTENCE_TEACHER_COLUMN] if SENTENCE_TEACHER_COLUMN in row else []
                    fh.write(json.dumps({c: row[c] for c in columns}, ensure_ascii=False) + "\n")
            tmp.replace(out / f"{split}.jsonl")
        full = dict(manifest or {})
        full["files"] = {split: f"{split}.jsonl" for split in SPLITS}
        full["rows"] = {split: len(rows_by_split[split]) for split in SPLITS}
        (out / "manifest.json").write_text(
            json.dumps(full, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8"
        )
    except OSError as exc:
        raise PruningError(f"{out}: cannot write the dataset ({exc})") from exc
    logger.info("wrote %s", out)
    return out
