"""Window boundaries, exactly: a passage that fills the window to the last token, greedy packing, and a context
longer than a window scored over all its tokens. The character tokenizer makes lengths countable: one token a
character, "▁" before the first word of a text."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from pruning.data.eval_files import EvalItem
from pruning.data.spans import join_contexts
from pruning.errors import PruningError
from pruning.evaluate.scoring import ContextScorer
from pruning.evaluate.windows import greedy_runs, token_pieces
from pruning.train.modeling import ContextPruner
from tests.conftest import build_char_tokenizer

pytestmark = pytest.mark.unit

CONTEXTS = ["東京晴です。", "大阪雨です。", "日本です。"]  # characters of the tokenizer's vocabulary only
SHORT_QUERY, LONG_QUERY = "東京?", "東京日本です。大阪雨です。東京晴です?"


@pytest.fixture(scope="module")
def model(tiny_backbone_dir):
    torch.manual_seed(3)
    return ContextPruner.from_backbone(str(tiny_backbone_dir)).eval()


def _length(tokenizer, input_format: str, query: str, passage: str) -> int:
    """Tokens of one window, counted here from the tokenizer alone."""
    if input_format == "pair":
        return len(tokenizer(query, passage)["input_ids"])
    return len(tokenizer(query + tokenizer.sep_token + passage)["input_ids"])


# ---- the packing functions on hand-made measures ------------------------------------------------------------


def test_runs_are_greedy_and_a_window_may_be_filled_exactly():
    sizes = [3, 2, 4, 1, 5, 2]

    def fits(a, b):  # one token of overhead, six a window
        return 1 + sum(sizes[a:b]) <= 6

    # 1+3+2 = 6, 1+4+1 = 6 and 1+5 = 6 fill their windows to the last token; 1+5+2 would not fit
    assert greedy_runs(len(sizes), fits) == [(0, 2), (2, 4), (4, 5), (5, 6)]
    assert greedy_runs(3, lambda a, b: 1 + sum([2, 7, 1][a:b]) <= 6) == [(0, 1), (1, 2), (2, 3)]  # 7 alone
    assert greedy_runs(1, lambda a, b: False) == [(0, 1)]
    assert greedy_runs(0, fits) == []


def test_pieces_are_shortened_by_their_excess():
    def length(a, b):  # two tokens of overhead, and a piece that starts inside the text gains one at its seam
        return 2 + (b - a) + (a > 0)

    assert token_pieces(10, 4, length, 6) == [(0, 4), (4, 7), (7, 10)]
    assert token_pieces(3, 4, length, 6) == [(0, 3)]
    assert token_pieces(4, 4, length, 6) == [(0, 4)]  # exactly full
    # a tokenizer that makes two tokens of each: shortening by the excess overshoots, and a piece keeps one token
    assert token_pieces(4, 4, lambda a, b: 1 + 2 * (b - a), 5) == [(0, 1), (1, 2), (2, 4)]
    with pytest.raises(PruningError, match="one token of a context takes more than the 2 tokens"):
        token_pieces(3, 1, length, 2)


# ---- exact fit through the scorer ----------------------------------------------------------------------------


@pytest.mark.parametrize("input_format", ["pair", "seed"])
@pytest.mark.parametrize("query", [SHORT_QUERY, LONG_QUERY], ids=["short_query", "long_query"])
def test_a_passage_of_exactly_the_window_length_is_one_window(model, char_tokenizer, input_format, query):
    item = EvalItem(query, CONTEXTS, [1, 0, 0])
    passage, _ = join_contexts(CONTEXTS, "" if input_format == "seed" else None)
    n = _length(char_tokenizer, input_format, query, passage)
    # <s> ▁ query </s> </s> ▁ passage </s>, or <s> ▁ query </s> ▁ passage </s> in the seed's format
    assert n == 6 + len(query) + len(passage) - (input_format == "seed")

    def scored(max_length):
        scorer = ContextScorer(model, char_tokenizer, max_length=max_length, input_format=input_format)
        return scorer.score([item], progress=False)[0]

    exact, longer, shorter = scored(n), scored(n + 1), scored(n - 1)
    assert (exact.windows, longer.windows, shorter.windows) == (1, 1, 2)
    assert exact.scores == longer.scores  # the same single window
    assert shorter.scores != pytest.approx(exact.scores, abs=1e-6)


@pytest.mark.parametrize("input_format", ["pair", "seed"])
@pytest.mark.parametrize("query", [SHORT_QUERY, LONG_QUERY], ids=["short_query", "long_query"])
def test_windows_are_packed_greedily(model, char_tokenizer, input_format, query):
    """Every window fits, and none leaves room for the next context; some windows fill to the last token."""
    contexts = ["東京は晴れ。", "雨です。", "大阪は晴れです。", "日本。", "東京です。", "雨。", "大阪は日本です。"]
    item = EvalItem(query, contexts, [0] * len(contexts))
    passage, spans = join_contexts(contexts, "" if input_format == "seed" else None)
    longest = max(_length(char_tokenizer, input_format, query, c) for c in contexts)
    full = 0
    for max_length in range(longest, _length(char_tokenizer, input_format, query, passage)):
        scorer = ContextScorer(model, char_tokenizer, max_length=max_length, input_format=input_format)
        groups = [w.contexts for w in scorer._windows_for([item], 0)]
        assert [k for g in groups for k in g] == list(range(len(contexts)))
        for group, nxt in zip(groups, [*groups[1:], None], strict=True):
            text = passage[spans[group[0]][0] : spans[group[-1]][1]]
            length = _length(char_tokenizer, input_format, query, text)
            assert length <= max_length
            full += length == max_length
            if nxt is not None:
                more = passage[spans[group[0]][0] : spans[nxt[0]][1]]
                assert _length(char_tokenizer, input_format, query, more) > max_length, (max_length, group)
    assert full >= 3  # the sweep meets windows filled exactly


def test_a_query_that_fills_the_window_is_named(model, char_tokenizer):
    item = EvalItem(LONG_QUERY, ["東京晴です。"], [1])
    assert len(char_tokenizer([LONG_QUERY], [""])["input_ids"][0]) == 24  # <s> ▁ query </s> </s> </s>
    with pytest.raises(PruningError, match="item 0: the query fills the 24-token window: no room for text"):
        ContextScorer(model, char_tokenizer, max_length=24).score([item], progress=False)
    # one token of room: the context is cut into one-token pieces, and each gains its "▁": still too long
    with pytest.raises(PruningError, match="one token of a context takes more than the 25 tokens of a window"):
        ContextScorer(model, char_tokenizer, max_length=25).score([item], progress=False)


def test_windows_after_the_first_score_latin_contexts_on_their_own_tokens(model, char_tokenizer):
    """Joined with spaces, a later window's contexts are scored as that window's text alone would score them: the
    space between two contexts belongs to neither."""
    contexts = ["tokyo is sunny.", "osaka has rain.", "it is a city.", "the sky is blue.", "rain is wet."]
    item = EvalItem("is it sunny?", contexts, [1, 0, 0, 0, 0])
    scorer = ContextScorer(model, char_tokenizer, max_length=50)
    (result,) = scorer.score([item], progress=False)
    groups = [w.contexts for w in scorer._windows_for([item], 0)]
    assert len(groups) >= 3 and result.windows == len(groups)
    for group in groups:
        alone = ContextScorer(model, char_tokenizer, max_length=256).score(
            [EvalItem(item.query, [contexts[k] for k in group], [0] * len(group))], progress=False
        )[0]
        assert [result.scores[k] for k in group] == pytest.approx(alone.scores, abs=1e-6)


# ---- a context longer than a window ------------------------------------------------------------------------


class KeepB(torch.nn.Module):
    """A stub pruner: the keep probability of a token is 1 for "b" and 0 for every other token."""

    def __init__(self, b_id: int):
        super().__init__()
        self.config = SimpleNamespace(max_position_embeddings=4096, model_type="stub")
        self.b_id = b_id

    def forward(self, input_ids, attention_mask, **_):
        keep = (input_ids == self.b_id).float()
        return SimpleNamespace(keep_probabilities=lambda: keep, ranking_logits=torch.zeros(len(input_ids)))


def test_a_context_of_2000_tokens_is_scored_on_all_its_tokens(capsys):
    tokenizer = build_char_tokenizer()  # its own: the warning flag below is per tokenizer
    stub = KeepB(tokenizer.convert_tokens_to_ids("b"))
    long = "a" * 1000 + "b" * 1000
    item = EvalItem("東京?", ["東京です。", long], [1, 0])
    assert len(tokenizer(long, verbose=False)["input_ids"]) == 2003  # <s> ▁ a×1000 b×1000 </s>
    scorer = ContextScorer(stub, tokenizer)
    assert scorer.max_length == 512
    (result,) = scorer.score([item], progress=False)
    pieces = result.windows - 1  # the first context has a window of its own
    assert pieces == 4 and scorer.split_contexts == 1
    # all 1,000 "b" over all 2,000 characters, plus the "▁" that starts each re-tokenised piece
    assert result.scores == [0.0, pytest.approx(1000 / (2000 + pieces), rel=1e-6)]  # float32 probabilities
    assert "sequence-length-is-longer-than-the-specified-maximum" not in tokenizer.deprecation_warnings

    # the seed's format with exact ranges windows the same way
    (seed,) = ContextScorer(stub, tokenizer, input_format="seed").score([item], progress=False)
    assert seed.scores[1] == pytest.approx(0.5, abs=0.005) and seed.windows > 2

    # the reference ranges (compat: reference) keep the seed's truncation: one window, only "a" reaches the model
    reference = ContextScorer(stub, tokenizer, input_format="seed", ranges="reference")
    (truncated,) = reference.score([item], progress=False)
    assert truncated.windows == 1 and truncated.scores == [0.0, 0.0]

    # the progress bar counts each context once, however many windows it takes
    ContextScorer(stub, tokenizer).score([item])
    assert "| 2/2 [" in capsys.readouterr().err.splitlines()[-1].split("\r")[-1]

    tokenizer(long)  # the warning the scorer keeps quiet: the check above could see it
    assert tokenizer.deprecation_warnings["sequence-length-is-longer-than-the-specified-maximum"]


def test_a_context_over_several_windows_counts_each_of_its_tokens_once(model, char_tokenizer):
    """The majority rule and the mean both read the context's positions of every window together."""
    long = "東京晴です。" * 16  # 96 characters, in 48-token windows
    item = EvalItem("東京?", [long, "雨。"], [1, 0])
    for rule in ("mean", "majority"):
        scorer = ContextScorer(model, char_tokenizer, max_length=48, rule=rule)
        spans = []
        forward = scorer._forward

        def spy(windows, spans=spans, forward=forward):
            probs, logits = forward(windows)
            spans += [(w.contexts, p[w.context_tokens[0]]) for w, p in zip(windows, probs, strict=True)]
            return probs, logits

        scorer._forward = spy
        (result,) = scorer.score([item], progress=False)
        parts = np.concatenate([p for contexts, p in spans if contexts == [0]])
        assert parts.size == len(long) + sum(contexts == [0] for contexts, _ in spans)  # each piece adds its "▁"
        want = np.mean(parts) if rule == "mean" else np.sort(parts)[::-1][(parts.size + 1) // 2 - 1]
        assert result.scores[0] == pytest.approx(float(want), abs=1e-6)
