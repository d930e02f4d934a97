"""Reading SQuAD-format QA files (JaQuAD, JSQuAD, XQuAD): answerable questions, paragraphs, and every skip.

Input policy: a file that is not a SQuAD document (unreadable, invalid JSON, no ``data`` list) is a
:class:`PruningError` naming the file. Anything smaller (a missing or mistyped field, an answer whose
offsets fall outside the context or whose text does not match them, an impossible or unanswered question,
a duplicate id) is skipped, recorded as a :class:`SkippedItem` with its location and reason, counted and
logged; one record per skipped article, paragraph or question.

JSQuAD contexts read ``title [SEP] text``. The prefix is stripped (up to and including the first
``" [SEP] "``) and answer offsets are shifted onto the text: evaluation contexts carry no such marker, and
a literal ``[SEP]`` would be read as a special token by BERT-style tokenizers. Answers that lie in the
title are dropped (counted under ``dropped_answers``); a question left with no answer is skipped with
reason ``answer_in_title``. ``qa_format="auto"`` detects JSQuAD per file from its first context.
"""

from __future__ import annotations

import json
import logging
import os
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pruning.errors import PruningError

logger = logging.getLogger(__name__)

__all__ = [
    "QA_FORMATS",
    "Passage",
    "QACorpus",
    "QAExample",
    "SkippedItem",
    "load_qa",
    "load_squad_file",
]

QA_FORMATS = ("auto", "squad", "jaquad", "xquad", "jsquad")
SEP_MARKER = " [SEP] "
_MAX_LOGGED_SKIPS = 20


@dataclass(frozen=True)
class SkippedItem:
    """One skipped article, paragraph or question, with where it was and why."""

    file: str
    article: int | None
    paragraph: int | None
    qid: str | None
    field: str | None
    reason: str

    def where(self) -> str:
        parts = [self.file]
        if self.article is not None:
            parts.append(f"article {self.article}")
        if self.paragraph is not None:
            parts.append(f"paragraph {self.paragraph}")
        if self.qid is not None:
            parts.append(f"qa {self.qid!r}")
        if self.field is not None:
            parts.append(f"field {self.field!r}")
        return ", ".join(parts)


@dataclass(frozen=True)
class Passage:
    """A paragraph usable as a gold or negative passage."""

    title: str
    text: str
    location: str


@dataclass(frozen=True)
class QAExample:
    """A valid answerable question; answer spans are character offsets into ``context``."""

    qid: str
    question: str
    title: str
    context: str
    answer_spans: tuple[tuple[int, int], ...]
    file: str
    article: int
    paragraph: int

    @property
    def location(self) -> str:
        return f"{self.file} article {self.article} paragraph {self.paragraph}"


@dataclass
class QACorpus:
    """Questions and paragraphs read from one or more files, plus what was skipped."""

    examples: list[QAExample] = field(default_factory=list)
    passages: list[Passage] = field(default_factory=list)
    skipped: list[SkippedItem] = field(default_factory=list)
    dropped_answers: Counter[str] = field(default_factory=Counter)
    questions_seen: int = 0
    files: list[Path] = field(default_factory=list)

    def skipped_counts(self) -> dict[str, int]:
        """Skipped items by reason, most frequent first."""
        return dict(Counter(item.reason for item in self.skipped).most_common())

    def extend(self, other: QACorpus) -> None:
        self.examples.extend(other.examples)
        self.passages.extend(other.passages)
        self.skipped.extend(other.skipped)
        self.dropped_answers.update(other.dropped_answers)
        self.questions_seen += other.questions_seen
        self.files.extend(other.files)


def _input_files(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.glob("*.json") if p.is_file())
            if not found:
                raise PruningError(f"{path}: folder holds no .json files")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise PruningError(f"{path}: no such file or folder")
    return files


def _read_document(path: Path) -> list[Any]:
    try:
        raw = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PruningError(f"{path}: cannot read ({exc})") from exc
    try:
        doc = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise PruningError(f"{path}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("data"), list):
        raise PruningError(f"{path}: not a SQuAD-format file (expected an object with a 'data' list)")
    return doc["data"]


def _detect_jsquad(articles: list[Any]) -> bool:
    for article in articles:
        if not isinstance(article, dict) or not isinstance(article.get("paragraphs"), list):
            continue
        for paragraph in article["paragraphs"]:
            if isinstance(paragraph, dict) and isinstance(paragraph.get("context"), str):
                title = article.get("title")
                prefix = f"{title}{SEP_MARKER}" if isinstance(title, str) else SEP_MARKER
                return paragraph["context"].startswith(prefix)
    return False


def load_squad_file(path: str | os.PathLike[str], qa_format: str = "auto") -> QACorpus:
    """Read one SQuAD-format file, keeping valid questions and recording every skipped item."""
    if qa_format not in QA_FORMATS:
        raise PruningError(f"unknown QA format {qa_format!r}; expected one of {', '.join(QA_FORMATS)}")
    path = Path(path)
    articles = _read_document(path)
    strip_sep = qa_format == "jsquad" or (qa_format == "auto" and _detect_jsquad(articles))
    if strip_sep and qa_format == "auto":
        logger.info("%s: JSQuAD-style 'title [SEP] text' contexts detected; stripping the prefix", path)
    corpus = QACorpus(files=[path])
    seen_ids: set[str] = set()
    name = str(path)

    def skip(a: int | None, p: int | None, qid: str | None, fld: str | None, reason: str) -> None:
        corpus.skipped.append(SkippedItem(name, a, p, qid, fld, reason))

    for a, article in enumerate(articles):
        if not isinstance(article, dict):
            skip(a, None, None, None, "bad_type:article")
            continue
        title = article.get("title")
        if title is None:
            skip(a, None, None, "title", "missing_field:title")
            continue
        if not isinstance(title, str) or not title.strip():
            skip(a, None, None, "title", "bad_type:title" if not isinstance(title, str) else "empty:title")
            continue
        paragraphs = article.get("paragraphs")
        if not isinstance(paragraphs, list):
            reason = "missing_field:paragraphs" if paragraphs is None else "bad_type:paragraphs"
            skip(a, None, None, "paragraphs", reason)
            continue
        for p, paragraph in enumerate(paragraphs):
            _read_paragraph(corpus, skip, seen_ids, name, a, p, title, paragraph, strip_sep)
    return corpus


def _read_paragraph(
    corpus: QACorpus,
    skip: Any,
    seen_ids: set[str],
    name: str,
    a: int,
    p: int,
    title: str,
    paragraph: Any,
    strip_sep: bool,
) -> None:
    if not isinstance(paragraph, dict):
        skip(a, p, None, None, "bad_type:paragraph")
        return
    context = paragraph.get("context")
    qas = paragraph.get("qas")
    if context is None:
        skip(a, p, None, "context", "missing_field:context")
        return
    if not isinstance(context, str):
        skip(a, p, None, "context", "bad_type:context")
        return
    offset = 0
    if strip_sep:
        cut = context.find(SEP_MARKER)
        if cut < 0:
            skip(a, p, None, "context", "missing_sep_prefix")
            return
        offset = cut + len(SEP_MARKER)
    text = context[offset:]
    if not text.strip():
        skip(a, p, None, "context", "empty:context")
        return
    location = f"{name} article {a} paragraph {p}"
    corpus.passages.append(Passage(title, text, location))
    if qas is None:
        skip(a, p, None, "qas", "missing_field:qas")
        return
    if not isinstance(qas, list):
        skip(a, p, None, "qas", "bad_type:qas")
        return
    for qa in qas:
        corpus.questions_seen += 1
        example = _read_question(corpus, skip, seen_ids, name, a, p, title, context, offset, qa)
        if example is not None:
            corpus.examples.append(example)


def _read_question(
    corpus: QACorpus,
    skip: Any,
    seen_ids: set[str],
    name: str,
    a: int,
    p: int,
    title: str,
    context: str,
    offset: int,
    qa: Any,
) -> QAExample | None:
    if not isinstance(qa, dict):
        skip(a, p, None, None, "bad_type:qa")
        return None
    qid = qa.get("id")
    if qid is None:
        skip(a, p, None, "id", "missing_field:id")
        return None
    if not isinstance(qid, str | int) or isinstance(qid, bool):
        skip(a, p, None, "id", "bad_type:id")
        return None
    qid = str(qid)
    if qid in seen_ids:
        skip(a, p, qid, "id", "duplicate_id")
        return None
    seen_ids.add(qid)
    question = qa.get("question")
    if question is None:
        skip(a, p, qid, "question", "missing_field:question")
        return None
    if not isinstance(question, str):
        skip(a, p, qid, "question", "bad_type:question")
        return None
    if not question.strip():
        skip(a, p, qid, "question", "empty:question")
        return None
    if qa.get("is_impossible") is True:
        skip(a, p, qid, "is_impossible", "impossible")
        return None
    answers = qa.get("answers")
    if answers is None or (isinstance(answers, list) and not answers):
        skip(a, p, qid, "answers", "no_answers")
        return None
    if not isinstance(answers, list):
        skip(a, p, qid, "answers", "bad_type:answers")
        return None
    spans: list[tuple[int, int]] = []
    in_title = 0
    for n, answer in enumerate(answers):
        fld = f"answers[{n}]"
        if not isinstance(answer, dict):
            skip(a, p, qid, fld, "bad_type:answer")
            return None
        text, start = answer.get("text"), answer.get("answer_start")
        if text is None or start is None:
            missing = "text" if text is None else "answer_start"
            skip(a, p, qid, f"{fld}.{missing}", f"missing_field:{missing}")
            return None
        if not isinstance(text, str):
            skip(a, p, qid, f"{fld}.text", "bad_type:text")
            return None
        if not isinstance(start, int) or isinstance(start, bool):
            skip(a, p, qid, f"{fld}.answer_start", "bad_type:answer_start")
            return None
        if not text.strip():
            skip(a, p, qid, f"{fld}.text", "empty:answer_text")
            return None
        end = start + len(text)
        if start < 0 or end > len(context):
            skip(a, p, qid, f"{fld}.answer_start", "answer_out_of_range")
            return None
        if context[start:end] != text:
            skip(a, p, qid, f"{fld}.text", "answer_mismatch")
            return None
        if start < offset:
            in_title += 1  # in (or straddling) the stripped "title [SEP] " prefix
            continue
        spans.append((start - offset, end - offset))
    if in_title:
        corpus.dropped_answers["answer_in_title"] += in_title
    if not spans:
        skip(a, p, qid, "answers", "answer_in_title")
        return None
    return QAExample(qid, question, title, context[offset:], tuple(sorted(set(spans))), name, a, p)


def load_qa(paths: Iterable[str | os.PathLike[str]], qa_format: str = "auto") -> QACorpus:
    """Read SQuAD-format files and folders of them (``*.json``, sorted); ids must be unique across all."""
    corpus = QACorpus()
    seen: set[str] = set()
    for path in _input_files(paths):
        part = load_squad_file(path, qa_format)
        kept = []
        for ex in part.examples:
            if ex.qid in seen:
                part.skipped.append(SkippedItem(ex.file, ex.article, ex.paragraph, ex.qid, "id", "duplicate_id"))
            else:
                seen.add(ex.qid)
                kept.append(ex)
        part.examples = kept
        corpus.extend(part)
    return corpus


def log_skips(corpus: QACorpus, label: str) -> None:
    """Log the first skipped items with their location, then the counts by reason."""
    for item in corpus.skipped[:_MAX_LOGGED_SKIPS]:
        logger.warning("%s: skipped %s: %s", label, item.where(), item.reason)
    if len(corpus.skipped) > _MAX_LOGGED_SKIPS:
        logger.warning("%s: ... and %d more skipped items", label, len(corpus.skipped) - _MAX_LOGGED_SKIPS)
    if corpus.skipped:
        logger.warning("%s: skipped by reason: %s", label, corpus.skipped_counts())
    if corpus.dropped_answers:
        logger.info("%s: dropped answers: %s", label, dict(corpus.dropped_answers))
