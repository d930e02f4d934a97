"""Model → per-context keep scores for evaluation items (batched, windowed, offsets-exact).

A context's score is the mean keep probability of exactly the tokens whose first character lies in it.
Input formats:
  pair  (default) the training format: the tokenizer's pair template over (query, passage), passage = the
        contexts joined (no separator between CJK text, one space otherwise);
  seed  the seed evaluator's layout: one sequence `query + sep_token + "".join(contexts)` (for comparability
        with the seed baseline; unlike the seed, scores cover exactly each context's tokens).
A passage too long for one window is split into windows of whole contexts, packed greedily (a window never leaves
room for the next context); a context too long for a window alone is cut at its tokens into windows of its own, and
its score is over all its tokens in them, so no token goes unscored (the reference ranges truncate, as the seed did).
An input may bring its own passage and each context's span in it (the Python API does, to score a user's text as
written); otherwise the contexts are joined as above. Within a block of inputs the windows are sorted by token
length before they are batched, so batches carry little padding; results come back in input order.

Ranges (which positions make a context's score):
  exact     (default) exactly the tokens whose first character lies in the context (offset mapping);
  reference the seed evaluator's ranges, reproduced exactly (`seed` format only; docs/reference.md §4): a
            context not ending in 。 or . gets 。 appended for tokenisation, one sequence truncated at max_length
            (no windows), cumulative token counts that sit one token to the right of each context, and an
            empty range counts as keep (score 1.0).
Rules (how a range's keep probabilities become one score; kept when score >= threshold):
  mean      the mean keep probability (the Provence rule, the seed's default);
  majority  the ceil(n/2)-th largest probability, i.e. kept when at least half the positions reach the
            threshold (the seed's --use-majority).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import torch
from tqdm.auto import tqdm

from pruning.data.spans import INPUT_FORMATS, RANGES, RULES, join_contexts, token_span_index
from pruning.errors import PruningError
from pruning.evaluate.windows import greedy_runs, token_pieces
from pruning.train.modeling import ContextPruner

logger = logging.getLogger(__name__)


class ScoringInput(Protocol):
    """What the scorer reads of an input: a query and its contexts (an EvalItem, or a PassageInput)."""

    @property
    def query(self) -> str: ...

    @property
    def contexts(self) -> list[str]: ...


@dataclass(frozen=True)
class PassageInput:
    """A query and a passage as written, with each context's character span in it (`passage[a:b]` = context)."""

    query: str
    passage: str
    spans: list[tuple[int, int]]

    @property
    def contexts(self) -> list[str]:
        return [self.passage[a:b] for a, b in self.spans]


#: Windows are sorted by length within blocks of this many batches (bounded memory, little padding).
SORT_BLOCK_BATCHES = 16


@dataclass
class _Window:
    item: int
    contexts: list[int]  # indices into the item's contexts
    input_ids: list[int]
    token_type_ids: list[int] | None
    context_tokens: list[np.ndarray]  # per context in `contexts`: the positions of its tokens
    finishes: bool = True  # False for all but the last window of a context cut into pieces


@dataclass
class ScoredItem:
    """Per-context keep scores, the ranking logit (max over windows) and how many windows it took."""

    scores: list[float]
    ranking_logit: float
    windows: int


DEFAULT_MAX_LENGTH = 512
#: The score of an empty reference range: the seed evaluator kept such a context at every threshold.
EMPTY_RANGE_SCORE = 1.0


def context_score(probabilities: np.ndarray, rule: str = "mean") -> float:
    """One context's score from its positions' keep probabilities (see the module docstring)."""
    if probabilities.size == 0:
        return EMPTY_RANGE_SCORE
    if rule == "majority":
        half = -(-probabilities.size // 2)  # count(p >= t) >= n / 2  <=>  the ceil(n/2)-th largest p >= t
        return float(np.sort(probabilities)[::-1][half - 1])
    return float(probabilities.mean())


def reference_contexts(contexts: Sequence[str]) -> list[str]:
    """The seed evaluator's tokenisation text: 。 appended to each context that ends in neither 。 nor ."""
    return [c if c.endswith(("。", ".")) else c + "。" for c in contexts]


def reference_ranges(tokenizer, query: str, contexts: Sequence[str], max_length: int) -> tuple[list[int], list[range]]:
    """The seed evaluator's input ids and per-context position ranges (docs/reference.md §4).

    start_0 = len(ids(query + sep)) (special tokens, not truncated); end_i = len(ids(query + sep + c_1 … c_i))
    (special tokens, truncated at max_length). Both count the trailing end token, hence the shift right.
    """
    prefix = query + (tokenizer.sep_token or "")
    texts = reference_contexts(contexts)
    cumulative = ["".join(texts[: i + 1]) for i in range(len(texts))]
    encoded = tokenizer([prefix + c for c in cumulative], truncation=True, max_length=max_length)["input_ids"]
    start = len(tokenizer(prefix, truncation=False)["input_ids"])
    ends = [len(ids) for ids in encoded]
    n = len(encoded[-1])
    bounds = zip([start, *ends[:-1]], ends, strict=True)
    return list(encoded[-1]), [range(min(a, n), min(b, n)) for a, b in bounds]


def max_positions(config) -> int | None:
    """Tokens one sequence may hold: max_position_embeddings, less RoBERTa's padding offset."""
    n = getattr(config, "max_position_embeddings", None)
    if n is None:
        return None
    if "roberta" in str(getattr(config, "model_type", "")):
        n -= (getattr(config, "pad_token_id", None) or 0) + 1
    return n


def resolve_device(device: str | torch.device | None) -> torch.device:
    """The torch device to score on: `device` if this machine has it, else cuda when available, else cpu."""
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise PruningError(f"device {device!r}: not a torch device ({exc})") from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise PruningError(f"device {device!r}: CUDA is not available on this machine")
    if resolved.type == "mps" and not torch.backends.mps.is_available():
        raise PruningError(f"device {device!r}: MPS is not available on this machine")
    return resolved


class ContextScorer:
    """Score evaluation items with a ContextPruner: one tokenizer call and one forward pass per batch."""

    def __init__(
        self,
        model: ContextPruner,
        tokenizer,
        max_length: int | None = None,
        batch_size: int = 32,
        input_format: str = "pair",
        device: str | torch.device | None = None,
        ranges: str = "exact",
        rule: str = "mean",
    ):
        if input_format not in INPUT_FORMATS:
            raise PruningError(f"input format {input_format!r}: expected one of {', '.join(INPUT_FORMATS)}")
        if ranges not in RANGES:
            raise PruningError(f"ranges {ranges!r}: expected one of {', '.join(RANGES)}")
        if rule not in RULES:
            raise PruningError(f"rule {rule!r}: expected one of {', '.join(RULES)}")
        if ranges == "reference" and input_format != "seed":
            raise PruningError("reference ranges belong to the seed evaluator's input: use input format 'seed'")
        if batch_size < 1:
            raise PruningError(f"batch size must be >= 1, got {batch_size}")
        limit = max_positions(model.config)
        if max_length is None:
            max_length = min(DEFAULT_MAX_LENGTH, limit or DEFAULT_MAX_LENGTH)
        if limit is not None and max_length > limit:
            raise PruningError(f"max length {max_length} exceeds the model's {limit} positions")
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.batch_size = batch_size
        self.input_format = input_format
        self.device = resolve_device(device)
        self.model.to(self.device)
        self.ranges = ranges
        self.rule = rule
        self.split_contexts = 0  # contexts too long for one window, scored over several
        self.empty_ranges = 0

    # ---- windows -----------------------------------------------------------------------------------

    def _encode(self, queries: list[str], passages: list[str]):
        # never truncated, and verbose=False: the scorer windows the text itself, so the tokenizer's warning that a
        # sequence is longer than the model's maximum would be false
        kwargs: dict[str, Any] = {"return_offsets_mapping": True, "truncation": False, "verbose": False}
        if self.input_format == "pair":
            return self.tokenizer(queries, passages, **kwargs)
        sep = self.tokenizer.sep_token or ""
        return self.tokenizer([q + sep + p for q, p in zip(queries, passages, strict=True)], **kwargs)

    def _passage_offset(self, query: str) -> int:
        return 0 if self.input_format == "pair" else len(query) + len(self.tokenizer.sep_token or "")

    def _window(self, item: int, ctx_ids: list[int], enc, i: int, query: str, spans) -> _Window:
        offset = self._passage_offset(query)
        seq_ids = enc.sequence_ids(i)
        if self.input_format == "pair":
            in_text = [s == 1 for s in seq_ids]
            shifted = spans
        else:
            in_text = [s == 0 for s in seq_ids]
            shifted = [(a + offset, b + offset) for a, b in spans]
        offsets = enc["offset_mapping"][i]
        index = token_span_index(offsets, in_text, shifted)
        context_tokens = []
        for k, (a, b) in enumerate(shifted):
            tokens = np.flatnonzero(index == k)
            if tokens.size == 0:
                # A very short context can lie wholly inside a token that starts in its neighbour: score it by
                # the tokens that overlap it rather than leave it unscored.
                tokens = np.asarray([t for t, (x, y) in enumerate(offsets) if in_text[t] and x < b and y > a and y > x])
            if tokens.size == 0:
                raise PruningError(f"item {item}: context {ctx_ids[k]} has no tokens in its window")
            context_tokens.append(tokens)
        types = enc["token_type_ids"][i] if "token_type_ids" in enc else None
        return _Window(item, ctx_ids, list(enc["input_ids"][i]), types, context_tokens)

    def _passage(self, it: ScoringInput) -> tuple[str, list[tuple[int, int]]]:
        """The passage an input is scored in, and each context's span in it."""
        if isinstance(it, PassageInput):
            return it.passage, list(it.spans)
        return join_contexts(it.contexts, "" if self.input_format == "seed" else None)

    def _reference_window(self, item: int, it: ScoringInput) -> _Window:
        ids, ranges = reference_ranges(self.tokenizer, it.query, it.contexts, self.max_length)
        empty = sum(1 for r in ranges if len(r) == 0)
        if empty:
            self.empty_ranges += empty
            logger.warning("item %d: %d contexts have an empty reference range: kept, as the seed did", item, empty)
        positions = [np.arange(r.start, r.stop, dtype=np.int64) for r in ranges]
        return _Window(item, list(range(len(it.contexts))), ids, None, positions)

    def _fits(self, n_tokens: int) -> bool:
        """The one check of whether a window of `n_tokens` tokens fits the model: exactly full is full, not over."""
        return n_tokens <= self.max_length

    def _windows_for(self, items: Sequence[ScoringInput], start: int) -> list[_Window]:
        if self.ranges == "reference":
            return [self._reference_window(start + i, it) for i, it in enumerate(items)]
        joined = [self._passage(it) for it in items]
        enc = self._encode([it.query for it in items], [p for p, _ in joined])
        windows = []
        for i, (it, (passage, spans)) in enumerate(zip(items, joined, strict=True)):
            whole = self._window(start + i, list(range(len(spans))), enc, i, it.query, spans)
            if self._fits(len(whole.input_ids)):
                windows.append(whole)
            else:
                windows.extend(self._split(whole, it.query, passage, spans, enc["offset_mapping"][i]))
        return windows

    def _split(self, whole: _Window, query: str, passage: str, spans, offsets) -> list[_Window]:
        """Windows of whole contexts, packed greedily (pruning.evaluate.windows); an overlong context gets its own."""
        encoded: dict[tuple[int, int], Any] = {}

        def window_of(a: int, b: int):  # contexts [a, b) as one window's encoding
            if (a, b) not in encoded:
                encoded[a, b] = self._encode([query], [passage[spans[a][0] : spans[b - 1][1]]])
            return encoded[a, b]

        def fits(a: int, b: int) -> bool:
            return self._fits(len(window_of(a, b)["input_ids"][0]))

        windows = []
        for a, b in greedy_runs(len(spans), fits):
            if fits(a, b):
                first = spans[a][0]
                sub_spans = [(x - first, y - first) for x, y in spans[a:b]]
                windows.append(self._window(whole.item, list(range(a, b)), window_of(a, b), 0, query, sub_spans))
            else:
                starts = [offsets[t][0] - self._passage_offset(query) for t in whole.context_tokens[a]]
                windows.extend(self._pieces(whole.item, a, query, passage, spans[a], starts))
        n_tokens = len(whole.input_ids)
        logger.info("item %d: passage of %d tokens scored in %d windows", whole.item, n_tokens, len(windows))
        return windows

    def _pieces(self, item: int, k: int, query: str, passage: str, span, starts: list[int]) -> list[_Window]:
        """Context k, too long for one window, cut at its tokens' starts into windows of its own: all its tokens
        are scored, and its score is over all of them (`score`)."""
        cuts = sorted({span[0], *(s for s in starts if span[0] < s < span[1]), span[1]})
        encoded: dict[tuple[int, int], Any] = {}

        def length(a: int, b: int) -> int:
            if (a, b) not in encoded:
                encoded[a, b] = self._encode([query], [passage[cuts[a] : cuts[b]]])
            return len(encoded[a, b]["input_ids"][0])

        room = self.max_length - len(self._encode([query], [""])["input_ids"][0])
        if room < 1:
            raise PruningError(f"item {item}: the query fills the {self.max_length}-token window: no room for text")
        pieces = token_pieces(len(cuts) - 1, room, length, self.max_length)
        self.split_contexts += 1
        logger.info("item %d: context %d is longer than one window: scored over %d windows", item, k, len(pieces))
        windows = []
        for a, b in pieces:
            window = self._window(item, [k], encoded[a, b], 0, query, [(0, cuts[b] - cuts[a])])
            window.finishes = b == len(cuts) - 1
            windows.append(window)
        return windows

    # ---- forward -----------------------------------------------------------------------------------

    @torch.no_grad()
    def _forward(self, windows: list[_Window]) -> tuple[list[np.ndarray], list[float]]:
        width = max(len(w.input_ids) for w in windows)
        pad = self.tokenizer.pad_token_id or 0
        ids = torch.full((len(windows), width), pad, dtype=torch.long)
        mask = torch.zeros((len(windows), width), dtype=torch.long)
        types = torch.zeros((len(windows), width), dtype=torch.long)
        for r, w in enumerate(windows):
            ids[r, : len(w.input_ids)] = torch.tensor(w.input_ids)
            mask[r, : len(w.input_ids)] = 1
            if w.token_type_ids is not None:
                types[r, : len(w.input_ids)] = torch.tensor(w.token_type_ids)
        extra = {"token_type_ids": types.to(self.device)} if windows[0].token_type_ids is not None else {}
        out = self.model(input_ids=ids.to(self.device), attention_mask=mask.to(self.device), **extra)
        probs = out.keep_probabilities().cpu().numpy()
        return [probs[r, : len(w.input_ids)] for r, w in enumerate(windows)], out.ranking_logits.float().cpu().tolist()

    def score(self, items: Sequence[ScoringInput], progress: bool = True) -> list[ScoredItem]:
        """Score every context of every item; results in input order."""
        scores = [[float("nan")] * len(it.contexts) for it in items]
        ranking = [float("-inf")] * len(items)
        n_windows = [0] * len(items)
        bar = tqdm(total=sum(len(it.contexts) for it in items), unit="ctx", desc="scoring", disable=not progress)
        block = self.batch_size * SORT_BLOCK_BATCHES
        for start in range(0, len(items), block):
            windows = sorted(self._windows_for(items[start : start + block], start), key=lambda w: len(w.input_ids))
            positions: dict[tuple[int, int], list[np.ndarray]] = {}  # (item, context) → its probabilities
            for w0 in range(0, len(windows), self.batch_size):
                chunk = windows[w0 : w0 + self.batch_size]
                probs, logits = self._forward(chunk)
                for w, p, logit in zip(chunk, probs, logits, strict=True):
                    for k, ctx in enumerate(w.contexts):
                        positions.setdefault((w.item, ctx), []).append(p[w.context_tokens[k]])
                    ranking[w.item] = max(ranking[w.item], logit)
                    n_windows[w.item] += 1
                    bar.update(len(w.contexts) if w.finishes else 0)
            for (i, ctx), parts in positions.items():
                scores[i][ctx] = context_score(np.concatenate(parts), self.rule)
        bar.close()
        for i, row in enumerate(scores):
            missing = [k for k, v in enumerate(row) if not np.isfinite(v)]
            if missing:  # a bug, not bad input: every context must have been scored
                raise RuntimeError(f"item {i}: contexts {missing} were not scored")
        return [ScoredItem(s, r, n) for s, r, n in zip(scores, ranking, n_windows, strict=True)]
