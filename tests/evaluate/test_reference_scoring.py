"""The seed evaluator reproduced (`--input-format seed --ranges reference`), the majority rule, and the seed's
single-example mode, checked against positions counted by hand on a character tokenizer (see
tests/train/test_reference_labels.py): "q</s>東京。大阪。" reads
    0 <s>  1 ▁  2 q  3 </s>  4 ▁  5 東  6 京  7 。  8 大  9 阪  10 。  11 </s>
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from pruning.cli.exec import main
from pruning.cli.single import format_line
from pruning.data.eval_files import EvalItem
from pruning.errors import PruningError
from pruning.evaluate.scoring import ContextScorer, context_score, reference_contexts, reference_ranges
from pruning.train.modeling import ContextPruner
from tests.conftest import tiny_bert

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def char_model_dir(tmp_path_factory, char_tokenizer):
    """A random 2-layer BERT pruner over the character tokenizer, saved with it."""
    path = tmp_path_factory.mktemp("char_pruner")
    ContextPruner(tiny_bert(char_tokenizer, seed=5, hidden=16, positions=64)).save_pretrained(
        path, tokenizer=char_tokenizer
    )
    return path


def _probabilities(model, ids: list[int]) -> np.ndarray:
    """Independent forward: one sequence, no padding, keep probability per position."""
    with torch.no_grad():
        out = model(input_ids=torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long))
    return torch.softmax(out.token_logits.float(), dim=-1)[0, :, 1].numpy()


def test_a_period_is_appended_only_where_missing():
    assert reference_contexts(["東京", "大阪。", "Tokyo.", "雨！", "a.b"]) == [
        "東京。",
        "大阪。",
        "Tokyo.",
        "雨！。",
        "a.b。",
    ]


def test_reference_ranges_sit_one_token_right(char_tokenizer):
    # start_0 = len(<s> ▁ q </s> </s>) = 5; end_1 = len(ids("q</s>東京。")) = 9; end_2 = 12.
    ids, ranges = reference_ranges(char_tokenizer, "q", ["東京", "大阪。"], max_length=64)
    assert char_tokenizer.convert_ids_to_tokens(ids) == [
        "<s>",
        "▁",
        "q",
        "</s>",
        "▁",
        "東",
        "京",
        "。",
        "大",
        "阪",
        "。",
        "</s>",
    ]
    # context 0's tokens are 4..7 (▁東京。) and context 1's 8..10: each range misses its first token and takes
    # the next one (大, then </s>)
    assert ranges == [range(5, 9), range(9, 12)]


def test_truncation_leaves_an_empty_range_that_is_kept(char_tokenizer, char_model_dir):
    ids, ranges = reference_ranges(char_tokenizer, "q", ["東京", "大阪。"], max_length=9)
    assert len(ids) == 9 and ranges == [range(5, 9), range(9, 9)]
    model = ContextPruner.from_pretrained(char_model_dir)
    scorer = ContextScorer(model, char_tokenizer, max_length=9, batch_size=1, input_format="seed", ranges="reference")
    [scored] = scorer.score([EvalItem("q", ["東京", "大阪。"], [1, 0])], progress=False)
    probs = _probabilities(model, ids)
    assert scored.scores[0] == pytest.approx(float(probs[5:9].mean()), abs=1e-6)
    assert scored.scores[1] == 1.0  # kept at every threshold, as the seed did
    assert scorer.empty_ranges == 1


def test_reference_scores_are_the_means_over_the_shifted_ranges(char_tokenizer, char_model_dir):
    model = ContextPruner.from_pretrained(char_model_dir)
    items = [
        EvalItem("q", ["東京", "大阪。"], [1, 0]),
        EvalItem("雨?", ["晴です。", "雨", "日本."], [0, 1, 1]),
        EvalItem("東京?", ["大阪", "東京です。"], [0, 1]),
    ]
    scorer = ContextScorer(model, char_tokenizer, batch_size=2, input_format="seed", ranges="reference")
    scored = scorer.score(items, progress=False)
    for item, result in zip(items, scored, strict=True):
        ids, ranges = reference_ranges(char_tokenizer, item.query, item.contexts, 64)
        probs = _probabilities(model, ids)
        want = [float(probs[r.start : r.stop].mean()) for r in ranges]
        assert result.scores == pytest.approx(want, abs=1e-6)


def test_reference_ranges_need_the_seed_input(char_tokenizer, char_model_dir):
    model = ContextPruner.from_pretrained(char_model_dir)
    with pytest.raises(PruningError, match="use input format 'seed'"):
        ContextScorer(model, char_tokenizer, input_format="pair", ranges="reference")


@given(
    st.lists(st.floats(0, 1, width=32), min_size=1, max_size=12),
    st.floats(0, 1),
)
def test_majority_score_decides_as_the_vote(probs, threshold):
    p = np.asarray(probs, dtype=np.float32)
    votes = int(np.sum(p >= np.float32(threshold)))
    assert (context_score(p, "majority") >= float(np.float32(threshold))) == (votes >= len(p) / 2)


def test_majority_by_hand():
    p = np.asarray([0.9, 0.1, 0.2], dtype=np.float32)
    assert context_score(p, "majority") == pytest.approx(0.2)  # two of three reach 0.2; one reaches 0.21
    assert context_score(np.asarray([0.9, 0.1], dtype=np.float32), "majority") == pytest.approx(0.9)  # 1 of 2 is half
    assert context_score(np.asarray([], dtype=np.float32), "majority") == 1.0


def test_cli_ranges_reference_needs_seed_format(char_model_dir, tmp_path, capsys):
    data = tmp_path / "d.json"
    data.write_text(json.dumps([{"query": "q", "contexts": ["東京", "大阪。"], "labels": [1, 0]}]), encoding="utf-8")
    assert main(["-m", str(char_model_dir), "-j", str(data), "--ranges", "reference", "--no-progress"]) == 2
    assert "needs --input-format seed" in capsys.readouterr().err


def test_cli_reference_mode_records_its_settings(char_model_dir, tmp_path, capsys):
    data = tmp_path / "d.json"
    data.write_text(json.dumps([{"query": "q", "contexts": ["東京", "大阪。"], "labels": [1, 0]}]), encoding="utf-8")
    argv = ["-m", str(char_model_dir), "-j", str(data), "--input-format", "seed", "--ranges", "reference"]
    assert main([*argv, "--use-majority", "--format", "json", "--no-progress", "--max-length", "9"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["ranges"], result["rule"], result["input_format"]) == ("reference", "majority", "seed")
    assert result["timing"]["batch_size"] == 1 and result["timing"]["empty_ranges"] == 1
    assert result["items"][0]["scores"][1] == 1.0


def test_format_line_is_the_seeds():
    line = format_line(0.3, "首都は？", 0.8712, ["東京です。", "大阪です。"], [True, False])
    assert line == "th: 0.3, q: 首都は？, score: 0.87, contexts: 東京です。 <del>大阪です。</del>"


@pytest.mark.parametrize("ranges", ["exact", "reference"])
def test_single_example_mode_prints_a_line_per_threshold(char_model_dir, capsys, ranges):
    argv = ["-m", str(char_model_dir), "-q", "雨?", "-c", "晴です。", "雨", "--thresholds", "0.0", "0.5", "1.0"]
    argv += ["--input-format", "seed", "--ranges", ranges, "--no-progress"]
    assert main(argv) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert main([*argv, "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [row["threshold"] for row in data["thresholds"]] == [0.0, 0.5, 1.0]
    pattern = re.compile(r"^th: (\S+), q: 雨\?, score: (\d\.\d\d), contexts: (.*)$")
    for line, row in zip(lines, data["thresholds"], strict=True):
        th, score, shown = pattern.match(line).groups()
        assert float(th) == row["threshold"] and score == f"{data['ranking_score']:.2f}"
        kept = [s >= row["threshold"] for s in data["scores"]]
        assert shown == " ".join(c if k else f"<del>{c}</del>" for c, k in zip(["晴です。", "雨"], kept, strict=True))
    assert lines[0] == f"th: 0.0, q: 雨?, score: {data['ranking_score']:.2f}, contexts: 晴です。 雨"  # 0 keeps all


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["-j", "x.json"], "exclude each other"),
        (["--diagnose"], "--diagnose needs labels"),
        (["--best-by", "f1"], "--best-by needs labels: it applies to -j, not to the single-example mode"),
        (["--best-by", "f2.5"], "--best-by needs labels"),  # even the default's name: it would do nothing
        (["--format", "markdown"], "--format markdown applies to -j"),
    ],
)
def test_single_example_mode_errors(char_model_dir, capsys, extra, message):
    assert main(["-m", str(char_model_dir), "-q", "q", "-c", "東京。", *extra]) == 2
    assert message in capsys.readouterr().err


def test_single_example_needs_contexts_and_model(char_model_dir, capsys):
    assert main(["-m", str(char_model_dir), "-q", "q"]) == 2
    assert "needs both -q QUERY and -c" in capsys.readouterr().err
    assert main(["--scores", "s.json", "-q", "q", "-c", "a."]) == 2
    assert "give -m MODEL_DIR" in capsys.readouterr().err
    assert main(["-m", str(char_model_dir), "-q", " ", "-c", "a."]) == 2
    assert "field 'query': empty" in capsys.readouterr().err
