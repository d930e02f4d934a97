"""SQuAD-format QA corpora (JaQuAD, JSQuAD, XQuAD) -> context-relevance training rows.

One row per answerable question: ``query``, ``texts`` (the gold paragraph first, then K-1 paragraphs of
other articles), ``labels`` ([1, 0, ...]), ``context_spans`` (sentence spans from
:func:`pruning.data.sentences.split_sentences`) and ``context_spans_relevance`` (1 for a sentence that overlaps
any answer of the question, 0 otherwise; all 0 for the negatives).

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

Determinism: negatives for a question come from ``random.Random`` seeded by sha256(seed, question id),
drawn from the split's paragraphs in an order fixed by their content hash, so a row does not depend on the
order files or questions are processed in. The train/validation split is by article title.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from pruning.cache import cache_root
from pruning.data.lexical_mask import mask_passage
from pruning.data.sentences import split_sentences
from pruning.data.training_rows import REQUIRED_COLUMNS, TEACHER_PREFIX, validate_relevance_row
from pruning.errors import PruningError

logger = logging.getLogger(__name__)

__all__ = [
    "COLUMNS",
    "QA_FORMATS",
    "RELEVANCE_MODES",
    "SPLITS",
    "ConversionResult",
    "Passage",
    "QACorpus",
    "QAExample",
    "SkippedItem",
    "build_rows",
    "convert_qa",
    "default_output_dir",
    "load_qa",
    "load_squad_file",
    "relevance_for_spans",
    "split_by_article",
    "validate_relevance_row",
    "write_dataset",
]

COLUMNS = REQUIRED_COLUMNS
RELEVANCE_MODES = ("answer", "passage", "answer-only")
SPLITS = ("train", "validation")
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


@dataclass
class ConversionResult:
    """Rows per split and the manifest that describes how they were made."""

    rows_by_split: dict[str, list[dict[str, Any]]]
    manifest: dict[str, Any]


# --------------------------------------------------------------------------------------------- reading


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


# ------------------------------------------------------------------------------------------ conversion


def _stable_int(*parts: object) -> int:
    digest = hashlib.sha256("\x00".join(str(p) for p in parts).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big")


def split_by_article(corpus: QACorpus, validation_fraction: float, seed: int) -> tuple[QACorpus, QACorpus]:
    """Split by article title, deterministically: titles ordered by hash(seed, title), the first go to validation."""
    if not 0.0 < validation_fraction < 1.0:
        raise PruningError(f"validation fraction must lie strictly between 0 and 1, got {validation_fraction}")
    titles = sorted({p.title for p in corpus.passages} | {e.title for e in corpus.examples})
    if len(titles) < 2:
        raise PruningError(f"cannot split by article: the input has {len(titles)} article title(s)")
    titles.sort(key=lambda t: (_stable_int(seed, "split", t), t))
    n_val = min(len(titles) - 1, max(1, round(validation_fraction * len(titles))))
    val_titles = set(titles[:n_val])
    parts = []
    for in_val in (False, True):
        parts.append(
            QACorpus(
                examples=[e for e in corpus.examples if (e.title in val_titles) == in_val],
                passages=[p for p in corpus.passages if (p.title in val_titles) == in_val],
                files=list(corpus.files),
            )
        )
    # Skips are reported once, with the training part.
    parts[0].skipped = list(corpus.skipped)
    parts[0].dropped_answers = Counter(corpus.dropped_answers)
    parts[0].questions_seen = corpus.questions_seen
    return parts[0], parts[1]


def relevance_for_spans(spans: Sequence[Sequence[int]], answers: Iterable[Sequence[int]]) -> list[int]:
    """1 for each span ``[s, e)`` that overlaps any answer span ``[a, b)``, else 0."""
    answers = list(answers)
    return [int(any(s < b and a < e for a, b in answers)) for s, e in spans]


def sentence_window(
    text: str,
    spans: Sequence[Sequence[int]],
    relevance: Sequence[int],
    max_chars: int,
    rng: random.Random,
) -> tuple[str, list[list[int]], list[int]]:
    """Cut a passage to a run of whole sentences spanning at most `max_chars` characters.

    The run holds every relevant sentence when they fit together (else it starts at the first one); among the
    runs that qualify one is drawn with `rng`, so the relevant sentence is not always first. A single sentence
    longer than `max_chars` is kept whole. Spans are shifted into the cut text.
    """
    n = len(spans)
    if n == 0 or spans[-1][1] - spans[0][0] <= max_chars:
        return text, [list(sp) for sp in spans], list(relevance)
    relevant = [i for i, r in enumerate(relevance) if r]
    lo_need, hi_need = (relevant[0], relevant[-1]) if relevant else (None, None)
    if relevant and spans[hi_need][1] - spans[lo_need][0] > max_chars:
        hi_need = lo_need  # the relevant sentences do not fit together: keep the first
    windows = []
    for a in range(n):
        b = a
        while b + 1 < n and spans[b + 1][1] - spans[a][0] <= max_chars:
            b += 1
        if lo_need is None or (a <= lo_need and b >= hi_need):
            windows.append((a, b))
    if not windows:  # the first needed sentence alone exceeds max_chars
        windows = [(lo_need, lo_need)]
    a, b = windows[rng.randrange(len(windows))]
    start = spans[a][0]
    cut = [[s - start, e - start] for s, e in spans[a : b + 1]]
    return text[start : spans[b][1]], cut, list(relevance[a : b + 1])


class _NegativePool:
    """Paragraphs of one split in content-hash order, for drawing negatives from other articles."""

    def __init__(self, passages: Sequence[Passage]) -> None:
        unique: dict[str, Passage] = {}
        for passage in sorted(passages, key=lambda p: (_stable_int(p.text), p.text, p.title)):
            unique.setdefault(passage.text, passage)
        self.passages = list(unique.values())
        self.per_title = Counter(p.title for p in self.passages)
        self.by_title: dict[str, list[Passage]] = {}
        for passage in self.passages:
            self.by_title.setdefault(passage.title, []).append(passage)

    def draw_same_article(self, key: str, gold: Passage, n: int, seed: int) -> list[Passage]:
        """Up to n other paragraphs of the gold's own article: hard negatives, on topic but not the gold."""
        candidates = [p for p in self.by_title.get(gold.title, []) if p.text != gold.text]
        rng = random.Random(_stable_int(seed, "hard-negatives", key))
        return rng.sample(candidates, min(n, len(candidates)))

    def draw(self, key: str, gold: Passage, n: int, seed: int) -> list[Passage]:
        """n paragraphs of other articles than the gold's, drawn with a generator seeded by (seed, key)."""
        eligible = len(self.passages) - self.per_title[gold.title]
        if eligible < n:
            raise PruningError(
                f"question {key!r}: only {eligible} paragraph(s) from other articles in its split, "
                f"{n} negatives needed; lower K or add data"
            )
        rng = random.Random(_stable_int(seed, "negatives", key))

        def ok(p: Passage) -> bool:
            return p.title != gold.title and p.text != gold.text

        if eligible < 4 * n:
            candidates = [p for p in self.passages if ok(p)]
            if len(candidates) < n:
                raise PruningError(
                    f"question {key!r}: only {len(candidates)} distinct paragraph(s) from other "
                    f"articles in its split, {n} negatives needed; lower K or add data"
                )
            return rng.sample(candidates, n)
        chosen: list[Passage] = []
        picked: set[int] = set()
        while len(chosen) < n:
            i = rng.randrange(len(self.passages))
            if i not in picked and ok(self.passages[i]):
                picked.add(i)
                chosen.append(self.passages[i])
        return chosen


def build_rows(
    corpus: QACorpus,
    *,
    k: int = 8,
    seed: int = 42,
    max_queries: int | None = None,
    progress: bool = False,
    desc: str = "rows",
    hard_negatives: int = 0,
    max_passage_chars: int | None = None,
    relevance_mode: str = "answer",
    title_queries: int = 0,
    mask_title: bool = False,
    mask_overlap: float = 0.0,
) -> list[dict[str, Any]]:
    """Context-relevance rows for the corpus's questions, negatives drawn from its own paragraphs.

    With `max_passage_chars`, every passage is cut to a window of whole sentences (see sentence_window).
    `relevance_mode`: "answer" marks the sentences that overlap an answer; "passage" marks every sentence of the
    gold passage (after windowing), teaching passage-level answerability instead of answer location;
    "answer-only" labels the answer sentences 1 and leaves the gold passage's other sentences unlabelled (their
    text stays, without a span, so the loss ignores it): a QA set says where the answer is, not whether the
    sentences around it are relevant.
    `hard_negatives` of the K-1 negatives come from other paragraphs of the gold paragraph's article (fewer
    when the article has fewer; the rest from other articles).
    `title_queries` adds that many rows, after the question rows, whose query is an article title (a keyword
    query, as search users type): gold is one of the article's paragraphs, wholly relevant (topical relevance);
    negatives come from other articles. `mask_title` deletes the title from those gold paragraphs.
    `mask_overlap` is the share of question rows (drawn by hash of seed and question id) whose passages, gold
    and negatives alike, lose the content terms they share with the question (pruning.data.lexical_mask), so that
    those rows are solved by meaning rather than by matching the question's characters.
    """
    if k < 1:
        raise PruningError(f"K must be at least 1, got {k}")
    if relevance_mode not in RELEVANCE_MODES:
        raise PruningError(f"relevance mode {relevance_mode!r}: expected one of {', '.join(RELEVANCE_MODES)}")
    if not 0 <= hard_negatives <= max(k - 1, 0):
        raise PruningError(f"hard negatives must be between 0 and K-1 = {k - 1}, got {hard_negatives}")
    if max_queries is not None and max_queries < 1:
        raise PruningError(f"max queries must be at least 1, got {max_queries}")
    if title_queries < 0:
        raise PruningError(f"title queries must be 0 or more, got {title_queries}")
    if max_passage_chars is not None and max_passage_chars < 1:
        raise PruningError(f"max passage chars must be at least 1, got {max_passage_chars}")
    if not 0.0 <= mask_overlap <= 1.0:
        raise PruningError(f"mask overlap must be a share between 0 and 1, got {mask_overlap}")
    examples = list(corpus.examples)
    if max_queries is not None and len(examples) > max_queries:
        order = sorted(range(len(examples)), key=lambda i: (_stable_int(seed, "subset", examples[i].qid), i))
        examples = [examples[i] for i in sorted(order[:max_queries])]
    pool = _NegativePool(corpus.passages)
    span_cache: dict[str, list[list[int]]] = {}

    def spans_of(text: str) -> list[list[int]]:
        if text not in span_cache:
            span_cache[text] = [[s, e] for s, e in split_sentences(text)]
        return span_cache[text]

    rows = []
    for example in tqdm(examples, desc=desc, disable=not progress, unit="q"):
        gold = Passage(example.title, example.context, example.location)
        hard = pool.draw_same_article(example.qid, gold, hard_negatives, seed) if hard_negatives else []
        negatives = hard + (pool.draw(example.qid, gold, k - 1 - len(hard), seed) if k - 1 > len(hard) else [])
        gold_spans = spans_of(example.context)
        texts = [example.context] + [p.text for p in negatives]
        spans = [gold_spans] + [spans_of(p.text) for p in negatives]
        relevance = [relevance_for_spans(gold_spans, example.answer_spans)]
        relevance += [[0] * len(s) for s in spans[1:]]
        if max_passage_chars is not None:
            rng = random.Random(_stable_int(seed, "window", example.qid))
            texts, spans, relevance = _window_passages(texts, spans, relevance, max_passage_chars, rng)
        if mask_overlap and _stable_int(seed, "mask-overlap", example.qid) < mask_overlap * 2**64:
            masked = [mask_passage(t, sp, example.question) for t, sp in zip(texts, spans, strict=True)]
            texts, spans = [m[0] for m in masked], [m[1] for m in masked]
        if relevance_mode == "passage":
            relevance[0] = [1] * len(spans[0])
        elif relevance_mode == "answer-only":  # the rest of the gold passage stays text without a span
            spans[0] = [sp for sp, r in zip(spans[0], relevance[0], strict=True) if r]
            relevance[0] = [1] * len(spans[0])
        row = {
            "query": example.question,
            "texts": texts,
            "labels": [1] + [0] * (k - 1),
            "context_spans": spans,
            "context_spans_relevance": relevance,
        }
        if not any(relevance[0]):  # answers are non-blank, and spans cover every non-blank character
            raise AssertionError(f"{example.location} qa {example.qid!r}: no sentence overlaps an answer")
        rows.append(row)
    if title_queries:
        rows += _title_query_rows(
            pool, spans_of, title_queries, k=k, seed=seed, max_passage_chars=max_passage_chars, mask_title=mask_title
        )
    return rows


def _window_passages(
    texts: Sequence[str],
    spans: Sequence[Sequence[Sequence[int]]],
    relevance: Sequence[Sequence[int]],
    max_chars: int,
    rng: random.Random,
) -> tuple[list[str], list[list[list[int]]], list[list[int]]]:
    """sentence_window applied to every passage of one row, in order, with one generator."""
    cut = [sentence_window(t, sp, r, max_chars, rng) for t, sp, r in zip(texts, spans, relevance, strict=True)]
    return [c[0] for c in cut], [c[1] for c in cut], [c[2] for c in cut]


def _title_query_rows(
    pool: _NegativePool,
    spans_of: Callable[[str], list[list[int]]],
    n: int,
    *,
    k: int,
    seed: int,
    max_passage_chars: int | None,
    mask_title: bool,
) -> list[dict[str, Any]]:
    """n rows whose query is an article title: a paragraph of that article (every sentence relevant) first,
    then K-1 paragraphs of other articles. Paragraphs are drawn by content hash, so the choice is
    deterministic for a seed; a paragraph is used at most once. With `mask_title`, every occurrence of the
    title is deleted from the gold paragraph, so the row can only be solved by what the text is about, not by
    matching the title's characters; paragraphs that would be left blank are not drawn."""

    def gold_text(p: Passage) -> str:
        return p.text.replace(p.title, "") if mask_title else p.text

    usable = [p for p in pool.passages if gold_text(p).strip()]
    if n > len(usable):
        raise PruningError(f"{n} title queries asked for, but the split has only {len(usable)} paragraphs")
    chosen = sorted(usable, key=lambda p: (_stable_int(seed, "title-query", p.text), p.text))[:n]
    rows = []
    for gold in chosen:
        key = f"title-query:{gold.location}"
        passages = [gold] + pool.draw(key, gold, k - 1, seed)
        texts = [gold_text(gold)] + [p.text for p in passages[1:]]
        spans = [spans_of(t) for t in texts]
        relevance = [[0] * len(sp) for sp in spans]
        if max_passage_chars is not None:
            rng = random.Random(_stable_int(seed, "window", key))
            texts, spans, relevance = _window_passages(texts, spans, relevance, max_passage_chars, rng)
        relevance[0] = [1] * len(spans[0])
        rows.append(
            {
                "query": gold.title,
                "texts": texts,
                "labels": [1] + [0] * (k - 1),
                "context_spans": spans,
                "context_spans_relevance": relevance,
            }
        )
    return rows


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


# ------------------------------------------------------------------------------------------ validation
