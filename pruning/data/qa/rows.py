"""A QA corpus -> context-relevance training rows: labels from answer overlap, negatives, windows, title rows.

One row per answerable question: ``query``, ``texts`` (the gold paragraph first, then K-1 paragraphs of
other articles), ``labels`` ([1, 0, ...]), ``context_spans`` (sentence spans from
:func:`pruning.data.sentences.split_sentences`) and ``context_spans_relevance`` (1 for a sentence that overlaps
any answer of the question, 0 otherwise; all 0 for the negatives).

Determinism: negatives for a question come from ``random.Random`` seeded by sha256(seed, question id),
drawn from the split's paragraphs in an order fixed by their content hash, so a row does not depend on the
order files or questions are processed in. The train/validation split is by article title.
"""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from tqdm.auto import tqdm

from pruning.data.lexical_mask import mask_passage
from pruning.data.qa.reader import Passage, QACorpus
from pruning.data.sentences import split_sentences
from pruning.errors import PruningError

__all__ = [
    "RELEVANCE_MODES",
    "build_rows",
    "relevance_for_spans",
    "split_by_article",
]

RELEVANCE_MODES = ("answer", "passage", "answer-only")


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
    if lo_need is not None and hi_need is not None and spans[hi_need][1] - spans[lo_need][0] > max_chars:
        hi_need = lo_need  # the relevant sentences do not fit together: keep the first
    windows = []
    for a in range(n):
        b = a
        while b + 1 < n and spans[b + 1][1] - spans[a][0] <= max_chars:
            b += 1
        if lo_need is None or hi_need is None or (a <= lo_need and b >= hi_need):
            windows.append((a, b))
    if not windows:  # the first needed sentence alone exceeds max_chars (so there is one: lo_need is set)
        assert lo_need is not None
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
        """N paragraphs of other articles than the gold's, drawn with a generator seeded by (seed, key)."""
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
    """N rows whose query is an article title: a paragraph of that article (every sentence relevant) first,
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
