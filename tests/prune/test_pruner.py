"""The Python API: offsets into the text as written, one scoring path with pruning-exec, batching invisible."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pruning import Pruner, PruningError
from pruning.cli.exec import main as exec_main
from pruning.data.eval_files import load_eval_file
from pruning.prune.threshold import read_default_threshold

pytestmark = pytest.mark.unit

EASY = Path(__file__).resolve().parents[2] / "pruning-config" / "pruning_data_easy_ja.json"
JA = "東京は日本の首都です。「人口は多い。」と言われる！本当？\n大阪は西にあります。"
EN = 'Tokyo is the capital. "Is it big?" she asked.\nYes!  It is.'


def _flat(rows):
    """Per-item score lists as one flat list, prefixed by the lengths so that the structure is compared too."""
    return [float(len(r)) for r in rows] + [v for r in rows for v in r]


@pytest.fixture(scope="module")
def pruner(pruner_dir):
    return Pruner.from_pretrained(pruner_dir, device="cpu")


@pytest.mark.parametrize("context", [JA, EN], ids=["ja", "en"])
def test_offsets_point_into_the_text_as_written(pruner, context):
    r = pruner.prune("首都は？", context, threshold=0.0)
    assert len(r.sentences) >= 4 and r.context == context
    assert all(context[s.start : s.end] == s.text for s in r.sentences)
    assert [s.index for s in r.sentences] == list(range(len(r.sentences)))
    # threshold 0 keeps every sentence: the pruned text is the context as written, newlines and spaces included
    assert r.pruned_context == context.strip()
    assert r.compression.sentences == 0.0
    none = pruner.prune("首都は？", context, threshold=1.0)
    assert none.pruned_context == "" and none.compression.sentences == 1.0 and none.compression.characters == 1.0


def test_japanese_sentences_follow_the_project_splitter(pruner):
    r = pruner.prune("首都は？", JA, threshold=0.5)
    assert [s.text for s in r.sentences] == [
        "東京は日本の首都です。",
        "「人口は多い。」と言われる！",
        "本当？",
        "大阪は西にあります。",
    ]


def test_mixed_decisions_rebuild_the_pruned_text(pruner):
    r = pruner.prune("capital?", EN, threshold=0.0)
    threshold = sorted(s.score for s in r.sentences)[len(r.sentences) // 2]
    r = pruner.prune("capital?", EN, threshold=threshold)
    kept = [s for s in r.sentences if s.kept]
    assert 0 < len(kept) < len(r.sentences)
    want = ""
    for s in r.sentences:
        if s.kept:
            want += (EN[r.sentences[s.index - 1].end : s.start] if want else "") + s.text
    assert r.pruned_context == want


def test_a_long_context_goes_through_windows_and_every_sentence_is_scored(pruner_dir):
    pruner = Pruner.from_pretrained(pruner_dir, device="cpu", max_length=64)
    context = "".join(f"これは{i}番目の文です。" for i in range(400))
    assert len(context) > 5000
    r = pruner.prune("何番目？", context, threshold=0.5)
    assert len(r.sentences) == 400 and all(0.0 <= s.score <= 1.0 for s in r.sentences)
    assert all(context[s.start : s.end] == s.text for s in r.sentences)


def test_scores_equal_pruning_exec_on_the_easy_file(pruner, pruner_dir, tmp_path):
    out = tmp_path / "easy.json"
    argv = ["-m", str(pruner_dir), "-j", str(EASY), "--format", "json", "--output-json", str(out), "--no-progress"]
    assert exec_main([*argv, "--batch-size", "8"]) == 0
    want = [item["scores"] for item in json.loads(out.read_text(encoding="utf-8"))["items"]]
    items = load_eval_file(EASY)
    results = pruner.prune([it.query for it in items], [it.contexts for it in items], threshold=0.5, batch_size=8)
    assert _flat([[s.score for s in r.sentences] for r in results]) == pytest.approx(_flat(want), abs=1e-6)
    assert [[s.text for s in r.sentences] for r in results] == [it.contexts for it in items]


def test_batch_size_never_changes_a_score(pruner):
    items = load_eval_file(EASY)[:12]
    questions, contexts = [it.query for it in items], [it.contexts for it in items]
    base = [[s.score for s in r.sentences] for r in pruner.prune(questions, contexts, threshold=0.5, batch_size=1)]
    for size in (3, 32):
        got = [
            [s.score for s in r.sentences] for r in pruner.prune(questions, contexts, threshold=0.5, batch_size=size)
        ]
        assert _flat(got) == pytest.approx(_flat(base), abs=1e-5)
    assert pruner.scorer.batch_size == 32  # a per-call batch size does not stick


def test_default_threshold_round_trip(pruner_dir, tmp_path):
    import shutil

    model = tmp_path / "model"
    shutil.copytree(pruner_dir, model)
    with pytest.raises(PruningError, match="no threshold given and the model has no default"):
        Pruner.from_pretrained(model, device="cpu").prune("q?", "a。", threshold=None)
    argv = ["-m", str(model), "-j", str(EASY), "--thresholds", "0.3", "0.5", "0.7", "--no-progress"]
    assert exec_main([*argv, "--format", "json", "--set-default-threshold", "--best-by", "f2"]) == 0
    stored = read_default_threshold(model)
    assert stored["metric"] == "f2" and stored["value"] in (0.3, 0.5, 0.7) and stored["data"] == str(EASY)
    pruner = Pruner.from_pretrained(model, device="cpu")
    assert pruner.default_threshold == stored["value"]
    assert pruner.prune("q?", "a。b。").threshold == stored["value"]
    # a threshold chosen on the seed's evaluator would not carry over to the API
    assert exec_main([*argv, "--input-format", "seed", "--set-default-threshold"]) == 2


def test_a_broken_stored_threshold_is_named(pruner_dir, tmp_path):
    import shutil

    model = tmp_path / "model"
    shutil.copytree(pruner_dir, model)
    meta = json.loads((model / "pruner_config.json").read_text())
    meta["default_threshold"] = {"value": 1.5}
    (model / "pruner_config.json").write_text(json.dumps(meta))
    with pytest.raises(PruningError, match=r"field 'default_threshold.value': expected a number in \[0, 1\]"):
        Pruner.from_pretrained(model, device="cpu")


@pytest.mark.parametrize(
    ("question", "context", "message"),
    [
        ("", "a。", "field 'question': expected a non-empty string"),
        ("q", "  ", "field 'context': empty"),
        ("q", ["a。", ""], r"field 'context\[1\]': expected a non-empty string"),
        ("q", [], "expected a string or a non-empty list of sentences"),
        (["q1", "q2"], ["a。"], "2 questions but 1 contexts"),
        (["q1"], "a。", "1 questions but str contexts"),
    ],
)
def test_bad_input_is_a_clear_error(pruner, question, context, message):
    with pytest.raises(PruningError, match=message):
        pruner.prune(question, context, threshold=0.5)


def test_bad_options_are_clear_errors(pruner, pruner_dir):
    with pytest.raises(PruningError, match=r"threshold must be a number in \[0, 1\]"):
        pruner.prune("q", "a。", threshold=1.5)
    with pytest.raises(PruningError, match="batch_size must be an integer >= 1"):
        pruner.prune("q", "a。", threshold=0.5, batch_size=0)
    with pytest.raises(PruningError, match="backend 'tf'"):
        Pruner.from_pretrained(pruner_dir, backend="tf")
    bad = Pruner.from_pretrained(pruner_dir, device="cpu", splitter=lambda text: [(3, 1)])
    with pytest.raises(PruningError, match=r"splitter returned span \(3, 1\)"):
        bad.prune("q", "abcdef", threshold=0.5)
    with pytest.raises(PruningError, match="not a pruner model directory"):
        Pruner.from_pretrained(pruner_dir.parent / "nowhere")
