"""The evaluator: each context's score is the mean of exactly its tokens, batching is invisible, windows cover all."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from pruning.data.eval_files import EvalItem, load_eval_file
from pruning.data.spans import join_contexts
from pruning.errors import PruningError
from pruning.evaluate.scoring import ContextScorer, max_positions, resolve_device
from pruning.train.modeling import ContextPruner

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def model(tiny_backbone_dir):
    torch.manual_seed(3)
    return ContextPruner.from_backbone(str(tiny_backbone_dir)).eval()


@pytest.fixture(scope="module")
def easy_items():
    from pathlib import Path

    return load_eval_file(Path(__file__).resolve().parents[2] / "pruning-config" / "pruning_data_easy_ja.json")


def test_join_contexts_spans():
    text, spans = join_contexts(["東京です。", "大阪です。", "Tokyo.", "Osaka."])
    assert text == "東京です。大阪です。Tokyo. Osaka."
    assert [text[a:b] for a, b in spans] == ["東京です。", "大阪です。", "Tokyo.", "Osaka."]
    assert join_contexts(["a.", "b."], joiner="")[0] == "a.b."


def _direct_scores(model, tokenizer, item, input_format, rule="mean", token_types=True):
    """Independent computation: tokenize one item alone, attribute tokens by their start offset; a context's score
    is its tokens' mean keep probability, or with rule="majority" the ceil(n/2)-th largest."""
    passage, spans = join_contexts(item.contexts, "" if input_format == "seed" else None)
    if input_format == "pair":
        enc = tokenizer(item.query, passage, return_offsets_mapping=True, return_tensors="pt")
        in_passage = [s == 1 for s in enc.sequence_ids(0)]
        shift = 0
    else:
        shift = len(item.query) + len(tokenizer.sep_token)
        enc = tokenizer(item.query + tokenizer.sep_token + passage, return_offsets_mapping=True, return_tensors="pt")
        in_passage = [
            s == 0 and a >= shift
            for s, (a, _) in zip(enc.sequence_ids(0), enc["offset_mapping"][0].tolist(), strict=True)
        ]
    with torch.no_grad():  # a pair's token types (0 query, 1 passage) as the collator gave them in training
        types = enc.get("token_type_ids") if token_types else None
        probs = model(enc["input_ids"], enc["attention_mask"], types).keep_probabilities()[0].numpy()
    out = []
    for a, b in spans:
        toks = [
            t
            for t, (x, y) in enumerate(enc["offset_mapping"][0].tolist())
            if in_passage[t] and y > x and a + shift <= x < b + shift
        ]
        p = np.sort(probs[toks])[::-1]
        out.append(float(p[(len(p) + 1) // 2 - 1]) if rule == "majority" else float(np.mean(p)))
    return out


@pytest.mark.parametrize("input_format", ["pair", "seed"])
def test_context_score_is_mean_of_its_tokens(model, tiny_tokenizer, easy_items, input_format):
    items = easy_items[:6]
    scored = ContextScorer(model, tiny_tokenizer, batch_size=4, input_format=input_format).score(items, progress=False)
    for item, result in zip(items, scored, strict=True):
        assert result.scores == pytest.approx(_direct_scores(model, tiny_tokenizer, item, input_format), abs=1e-5)
        assert result.windows == 1


@pytest.fixture(scope="module")
def typed_tokenizer(tiny_tokenizer):
    """The tiny tokenizer with BERT's token types: 0 for the query, 1 for the passage of a pair."""
    import copy

    from tokenizers import processors
    from transformers import PreTrainedTokenizerFast

    backend = copy.deepcopy(tiny_tokenizer.backend_tokenizer)
    ids = [("<s>", tiny_tokenizer.cls_token_id), ("</s>", tiny_tokenizer.sep_token_id)]
    backend.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s>:1 $B:1 </s>:1", special_tokens=ids
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=backend,
        **{k: getattr(tiny_tokenizer, k) for k in ("bos_token", "eos_token", "sep_token", "cls_token", "pad_token")},
        unk_token="<unk>",
        model_max_length=256,
        model_input_names=["input_ids", "token_type_ids", "attention_mask"],
    )


def test_pair_scores_read_the_passage_token_types(model, typed_tokenizer, easy_items):
    items = easy_items[:3]
    assert 1 in typed_tokenizer(items[0].query, "東京")["token_type_ids"]
    scored = ContextScorer(model, typed_tokenizer, batch_size=2).score(items, progress=False)
    for item, result in zip(items, scored, strict=True):
        want = _direct_scores(model, typed_tokenizer, item, "pair")
        assert result.scores == pytest.approx(want, abs=1e-5)
        untyped = _direct_scores(model, typed_tokenizer, item, "pair", token_types=False)
        assert want != pytest.approx(untyped, abs=1e-5)  # the types change the scores: the check can tell


def test_batch_size_does_not_change_scores(model, tiny_tokenizer, easy_items):
    one = ContextScorer(model, tiny_tokenizer, batch_size=1).score(easy_items, progress=False)
    many = ContextScorer(model, tiny_tokenizer, batch_size=16).score(easy_items, progress=False)
    for a, b in zip(one, many, strict=True):
        assert a.scores == pytest.approx(b.scores, abs=1e-5)
        assert a.ranking_logit == pytest.approx(b.ranking_logit, abs=1e-5)


def test_windows_cover_every_context_of_a_long_passage(model, tiny_tokenizer):
    contexts = [f"これは{i}番目の文で、少し長めに書いてあります。" for i in range(30)]
    item = EvalItem(query="何番目ですか？", contexts=contexts, labels=[i % 2 for i in range(30)], reasoning=None)
    short = EvalItem(query="短い", contexts=["短い文です。"], labels=[1], reasoning=None)
    scorer = ContextScorer(model, tiny_tokenizer, max_length=64, batch_size=4)
    # the long item in the middle: its windows must come back to it, not to a neighbour
    short_result, long_result, last_result = scorer.score([short, item, short], progress=False)
    assert last_result.scores == short_result.scores
    assert long_result.windows > 1
    assert len(long_result.scores) == 30 and all(0.0 <= s <= 1.0 for s in long_result.scores)
    # each window scores whole contexts: a context's score equals scoring its window's contexts as one item
    groups = [w.contexts for w in scorer._windows_for([item], 0)]
    assert sorted(k for g in groups for k in g) == list(range(30)) and len(groups) == long_result.windows
    for group in groups:
        alone = EvalItem(query=item.query, contexts=[contexts[k] for k in group], labels=[0] * len(group))
        expected = _direct_scores(model, tiny_tokenizer, alone, "pair")
        np.testing.assert_allclose([long_result.scores[k] for k in group], expected, rtol=0, atol=1e-5)
    assert short_result.windows == 1
    assert scorer.split_contexts == 0


def test_a_single_overlong_context_is_scored_and_counted(model, tiny_tokenizer):
    item = EvalItem(query="質問", contexts=["長い文。" * 60, "短い。"], labels=[1, 0], reasoning=None)
    scorer = ContextScorer(model, tiny_tokenizer, max_length=48, batch_size=2)
    (result,) = scorer.score([item], progress=False)
    assert len(result.scores) == 2 and scorer.split_contexts == 1 and result.windows > 2
    two = EvalItem(
        query="質問", contexts=["長い文。" * 60, "短い。", "別の長い文。" * 50], labels=[1, 0, 0], reasoning=None
    )
    scorer.score([two], progress=False)
    assert scorer.split_contexts == 3  # counted across calls, one per overlong context


def test_bad_arguments(model, tiny_tokenizer):
    with pytest.raises(PruningError, match="input format 'weird'"):
        ContextScorer(model, tiny_tokenizer, input_format="weird")
    with pytest.raises(PruningError, match="batch size"):
        ContextScorer(model, tiny_tokenizer, batch_size=0)
    with pytest.raises(PruningError, match="max length 257 exceeds the model's 256 positions"):
        ContextScorer(model, tiny_tokenizer, max_length=257)


def test_devices_are_checked_before_use():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device(None).type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(PruningError, match="device 'gpu': not a torch device"):
        resolve_device("gpu")
    if not torch.cuda.is_available():
        with pytest.raises(PruningError, match="device 'cuda:0': CUDA is not available on this machine"):
            resolve_device("cuda:0")


def test_the_default_device_is_cuda_where_there_is_one_and_mps_is_checked(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device(None) == torch.device("cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device(None) == torch.device("cpu")
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    with pytest.raises(PruningError, match="device 'mps': MPS is not available on this machine"):
        resolve_device("mps")


@pytest.mark.parametrize(
    ("config", "positions"),
    [
        ({"max_position_embeddings": 512, "model_type": "bert"}, 512),
        # RoBERTa-style position ids start after the padding id: 514 - (1 + 1)
        ({"max_position_embeddings": 514, "model_type": "xlm-roberta", "pad_token_id": 1}, 512),
        ({"max_position_embeddings": 514, "model_type": "roberta", "pad_token_id": None}, 513),
        ({"max_position_embeddings": 514, "model_type": "roberta"}, 513),
        ({"max_position_embeddings": 8192}, 8192),  # no model_type: nothing to take off
        ({"model_type": "bert"}, None),  # nothing recorded: the caller must give max_length
    ],
)
def test_max_positions_counts_what_one_sequence_may_hold(config, positions):
    assert max_positions(SimpleNamespace(**config)) == positions


def test_the_progress_bar_counts_contexts(model, tiny_tokenizer, easy_items, capsys):
    items = easy_items[:3]
    n = sum(len(it.contexts) for it in items)
    ContextScorer(model, tiny_tokenizer).score(items)  # shown by default
    bar = capsys.readouterr().err.splitlines()[-1].split("\r")[-1]
    assert bar.startswith("scoring: 100%") and f"| {n}/{n} [" in bar and "ctx/s]" in bar
    ContextScorer(model, tiny_tokenizer).score(items, progress=False)
    assert capsys.readouterr().err == ""


def test_the_majority_rule_reaches_the_scores(model, tiny_tokenizer, easy_items):
    items = easy_items[:3]
    scored = ContextScorer(model, tiny_tokenizer, rule="majority").score(items, progress=False)
    for item, result in zip(items, scored, strict=True):
        want = _direct_scores(model, tiny_tokenizer, item, "pair", rule="majority")
        assert result.scores == pytest.approx(want, abs=1e-5)
        assert want != pytest.approx(_direct_scores(model, tiny_tokenizer, item, "pair"), abs=1e-5)


def test_max_length_defaults_to_what_the_model_holds(model, tiny_tokenizer):
    assert model.config.max_position_embeddings == 256
    assert ContextScorer(model, tiny_tokenizer).max_length == 256
    assert ContextScorer(model, tiny_tokenizer, max_length=100).max_length == 100


def test_batches_are_length_sorted_and_results_come_back_in_input_order(model, tiny_tokenizer, easy_items):
    """Within a block the windows go to the model shortest first; each item still gets its own scores."""
    widths = []
    scorer = ContextScorer(model, tiny_tokenizer, batch_size=4)
    forward = scorer._forward

    def spy(windows):
        widths.append([len(w.input_ids) for w in windows])
        return forward(windows)

    scorer._forward = spy
    items = list(reversed(easy_items))  # any order: the result must follow it
    sorted_scores = scorer.score(items, progress=False)
    flat = [n for batch in widths for n in batch]
    assert flat == sorted(flat) and len(set(flat)) > 1  # one block here: one ascending run of varied lengths
    alone = ContextScorer(model, tiny_tokenizer, batch_size=1).score(items, progress=False)
    for got, want in zip(sorted_scores, alone, strict=True):
        assert got.scores == pytest.approx(want.scores, abs=1e-5)
        assert got.ranking_logit == pytest.approx(want.ranking_logit, abs=1e-5)


def test_a_passage_as_written_scores_like_its_joined_contexts(model, tiny_tokenizer, easy_items):
    from pruning.evaluate.scoring import PassageInput

    scorer = ContextScorer(model, tiny_tokenizer, batch_size=8)
    items = easy_items[:5]
    inputs = [PassageInput(it.query, *join_contexts(it.contexts)) for it in items]
    assert [x.contexts for x in inputs] == [it.contexts for it in items]
    for a, b in zip(scorer.score(inputs, progress=False), scorer.score(items, progress=False), strict=True):
        assert a.scores == b.scores


def test_the_scorer_runs_on_the_resolved_device(model, tiny_tokenizer):
    # no device given: cuda when this machine has it, else cpu; the model is moved there
    want = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    scorer = ContextScorer(model, tiny_tokenizer)
    assert scorer.device == want
    assert {p.device.type for p in model.parameters()} == {want.type}


def test_empty_reference_ranges_are_counted(model, tiny_tokenizer):
    # max_length 12 leaves room for the query and the first context only: the later contexts' ranges are empty
    item = EvalItem("東京は?", ["東京は日本の首都です。", "大阪は晴れです。", "雨です。"], [1, 0, 0])
    from pruning.evaluate.scoring import reference_ranges

    _, ranges = reference_ranges(tiny_tokenizer, item.query, item.contexts, 12)
    empty = sum(1 for r in ranges if len(r) == 0)
    assert 0 < empty < len(ranges)  # the count can be told from "none" and from "all"
    scorer = ContextScorer(model, tiny_tokenizer, max_length=12, input_format="seed", ranges="reference")
    scorer.score([item], progress=False)
    assert scorer.empty_ranges == empty
    scorer.score([item], progress=False)
    assert scorer.empty_ranges == 2 * empty  # counted across calls
