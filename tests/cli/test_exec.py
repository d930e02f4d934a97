"""pruning-exec: outputs, --output-json -> --scores round trip, and one-line errors with exit status 2."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from pruning.cli.exec import DEFAULT_THRESHOLDS, build_parser, main

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
EASY = ROOT / "pruning-config" / "pruning_data_easy_ja.json"


@pytest.fixture
def data(tmp_path: Path) -> Path:
    path = tmp_path / "data.json"
    items = [
        {"query": "消費税率は？", "contexts": ["税制。", "10%です。", "軽減税率8%。"], "labels": [0, 1, 1]},
        {"query": "capital of France?", "contexts": ["Paris.", "Lyon is big."], "labels": [1, 0], "reasoning": "r"},
    ]
    path.write_text(json.dumps(items, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.fixture
def scores(tmp_path: Path) -> Path:
    path = tmp_path / "scores.json"
    payload = {
        "items": [
            {"query": "消費税率は？", "scores": [0.15, 0.9, 0.35]},
            {"query": "capital of France?", "scores": [0.62, 0.3]},
        ]
    }
    path.write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
    return path


def _table(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("| ")]


def test_defaults() -> None:
    assert DEFAULT_THRESHOLDS == (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7)
    args = build_parser().parse_args(["--scores", "s.json", "-j", "d.json"])
    assert args.thresholds == list(DEFAULT_THRESHOLDS)
    assert (args.best_by, args.format, args.output_json) == (None, "text", None)  # None: f2.5 unless given


def test_best_by_defaults_to_f2_5(data: Path, scores: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--scores", str(scores), "-j", str(data), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["best"]["metric"] == "f2_5"


def test_markdown_output(data: Path, scores: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--scores", str(scores), "-j", str(data), "--thresholds", "0.3", "0.5", "--format", "markdown"]) == 0
    out = capsys.readouterr().out
    table = _table(out)
    assert table[0].startswith("| threshold | precision % | recall % | F1 | F2 | F2.5 |")
    best = "| **0.3** | **75.00** | **100.00** | **0.8571** | **0.9375** | **0.9560** |"
    assert table[1] == best + " **3** | **1** | **1** | **0** | **20.0** |"
    assert "best threshold by F2.5: 0.3" in out
    assert "| keep everything | - |" in out


def test_text_and_json_output(data: Path, scores: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--scores", str(scores), "-j", str(data), "--best-by", "precision"]) == 0
    out = capsys.readouterr().out
    assert "threshold 0.7\n" in out and "TP 1  FP 0  TN 2  FN 2" in out
    assert "best threshold by precision: 0.4" in out
    assert main(["--scores", str(scores), "-j", str(data), "--format", "json", "--best-by", "f2"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["best"] == {"metric": "f2", "threshold": 0.2}
    assert result["scores_file"] == str(scores)
    assert [row["threshold"] for row in result["thresholds"]] == list(DEFAULT_THRESHOLDS)


def test_recall_floor_and_diagnostics(data: Path, scores: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--scores", str(scores), "-j", str(data), "--thresholds", "0.3", "0.5", "0.7", "--min-recall", "0.9"]
    assert main([*argv, "--format", "markdown", "--diagnose"]) == 0
    out = capsys.readouterr().out
    assert "**best threshold by F2.5: 0.3**\n\n**best threshold by F2.5 with recall >= 90 %: 0.3**" in out
    assert "| this run (best by F2.5 with recall >= 90 %) | 0.3 | 0.9560 | 0 | 100.00 | 75.00 | 20.00 |" in out
    assert "within-item AUC (mean over 2 items with both labels): 1.000" in out
    assert main([*argv[:-1], "1.0", "--thresholds", "0.5", "0.7", "--format", "json", "--diagnose"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["best_with_min_recall"] == {"metric": "f2_5", "min_recall": 1.0, "threshold": None}
    assert result["diagnostics"]["item_auc"] is None  # every item holds a relevant context
    assert [e["query"] for e in result["diagnostics"]["hardest_items"]] == ["消費税率は？", "capital of France?"]
    assert main([*argv[:-1], "1.0", "--thresholds", "0.5", "0.7", "--format", "markdown"]) == 0
    out = capsys.readouterr().out
    assert "**best threshold by F2.5 with recall >= 100 %: none of the thresholds**" in out
    assert "note: no swept threshold keeps recall >= 100 %." in out


def test_output_json_roundtrip(data: Path, scores: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out1 = tmp_path / "run1.json"
    argv = ["-j", str(data), "--thresholds", "0.2", "0.4", "0.6", "--format", "markdown"]
    assert main(["--scores", str(scores), *argv, "--output-json", str(out1)]) == 0
    first = capsys.readouterr().out
    assert main(["--scores", str(out1), *argv]) == 0
    second = capsys.readouterr().out
    assert _table(first) == _table(second) and len(_table(first)) > 3
    run1 = json.loads(out1.read_text(encoding="utf-8"))
    assert {"data", "n_queries", "n_contexts", "n_keep", "thresholds", "best", "items"} <= set(run1)


def test_shipped_easy_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    items = json.loads(EASY.read_text(encoding="utf-8"))
    payload = {"items": [{"query": it["query"], "scores": [0.2 + 0.6 * v for v in it["labels"]]} for it in items]}
    path = tmp_path / "s.json"
    path.write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
    assert main(["--scores", str(path), "-j", str(EASY), "--thresholds", "0.3", "--format", "markdown"]) == 0
    out = capsys.readouterr().out
    assert "contexts: 150" in out and "| **1.0000** |" in out


BAD_ARGS = [
    ("threshold_above_1", ["--thresholds", "0.3", "1.2"], "threshold '1.2' is outside [0, 1]"),
    ("threshold_negative", ["--thresholds", "-0.1"], "outside [0, 1]"),
    ("threshold_nan", ["--thresholds", "nan"], "threshold 'nan' is outside [0, 1]"),
    ("threshold_word", ["--thresholds", "high"], "not a number: 'high'"),
    ("threshold_duplicate", ["--thresholds", "0.3", "0.3"], "each threshold may be given only once"),
    ("best_by_unknown", ["--best-by", "auc"], "invalid choice: 'auc'"),
    ("format_unknown", ["--format", "html"], "invalid choice: 'html'"),
    ("no_progress_with_scores", ["--no-progress"], "--no-progress applies to scoring with -m, not to --scores"),
    ("plot_suffix", ["--plot", "sweep.txt"], "--plot sweep.txt: the file name must end in .png, .svg, .pdf"),
    ("min_recall_above_1", ["--min-recall", "1.5"], "argument --min-recall: recall '1.5' is outside [0, 1]"),
    ("min_recall_word", ["--min-recall", "most"], "not a number: 'most'"),
]


@pytest.mark.parametrize(("extra", "expected"), [c[1:] for c in BAD_ARGS], ids=[c[0] for c in BAD_ARGS])
def test_bad_arguments(
    data: Path, scores: Path, extra: list[str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--scores", str(scores), "-j", str(data), *extra]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and expected in err[0]


def test_score_source_is_required(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-j", str(data)]) == 2
    assert "one of the arguments -m/--model --scores --e5-zero-shot is required" in capsys.readouterr().err


def test_help_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    assert "--scores" in capsys.readouterr().out


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "pruning.cli.exec", *args], capture_output=True, text=True, env=env, cwd=ROOT, timeout=60
    )


def test_subprocess_bad_inputs_exit_2_without_traceback(data: Path, scores: Path, tmp_path: Path) -> None:
    bad_data = tmp_path / "bad.json"
    bad_data.write_text('[{"query": "q", "contexts": ["a", "b"], "labels": [1]}]', encoding="utf-8")
    proc = _run("--scores", str(scores), "-j", str(bad_data))
    assert proc.returncode == 2 and proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert lines == [f"error: {bad_data}: item 0: field 'labels': length 1 != 2 contexts"]

    mismatched = tmp_path / "other.json"
    mismatched.write_text('{"items": [{"query": "消費税率は？", "scores": [0.1]}]}', encoding="utf-8")
    proc = _run("--scores", str(mismatched), "-j", str(data))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip() == f"error: {mismatched}: top level: field 'items': 1 items != 2 in the data file"

    missing = tmp_path / "missing.json"
    proc = _run("--scores", str(missing), "-j", str(data))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip() == f"error: {missing}: cannot read: No such file or directory"

    proc = _run("--scores", str(scores), "-j", str(data), "--batch-size", "4")
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip() == "error: --batch-size applies to scoring with -m, not to --scores"

    proc = _run("--scores", str(scores), "-j", str(data), "--format", "markdown")
    assert proc.returncode == 0 and "| **" in proc.stdout


# ---- scoring with a model (-m) -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory, tiny_backbone_dir, tiny_tokenizer) -> Path:
    import torch

    from pruning.train.modeling import ContextPruner

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("pruner")
    ContextPruner.from_backbone(str(tiny_backbone_dir)).save_pretrained(path, tokenizer=tiny_tokenizer)
    return path


@pytest.mark.parametrize("input_format", ["pair", "seed"])
def test_model_scoring_writes_the_schema_and_extras(tiny_model_dir, tmp_path, capsys, input_format) -> None:
    out = tmp_path / "out.json"
    plot = tmp_path / "sweep.png"
    easy = ROOT / "pruning-config" / "pruning_data_easy_ja.json"
    argv = ["-m", str(tiny_model_dir), "-j", str(easy), "--output-json", str(out), "--input-format", input_format]
    assert main([*argv, "--batch-size", "7", "--no-progress", "--format", "markdown", "--plot", str(plot)]) == 0
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["n_contexts"] == 150 and len(result["items"]) == 30
    assert result["input_format"] == input_format and len(result["ranking_logits"]) == 30
    assert result["timing"]["batch_size"] == 7 and result["timing"]["contexts_per_second"] > 0
    assert all(0.0 <= s <= 1.0 for it in result["items"] for s in it["scores"])
    assert plot.stat().st_size > 1000
    assert "| threshold |" in capsys.readouterr().out
    # the saved scores reproduce the same table
    again = tmp_path / "again.json"
    assert main(["--scores", str(out), "-j", str(easy), "--output-json", str(again), "--format", "json"]) == 0
    assert json.loads(again.read_text())["thresholds"] == result["thresholds"]


def test_model_dir_without_head_is_exit_2(tiny_backbone_dir, capsys) -> None:
    easy = ROOT / "pruning-config" / "pruning_data_easy_ja.json"
    assert main(["-m", str(tiny_backbone_dir), "-j", str(easy)]) == 2
    assert "not a pruner model directory" in capsys.readouterr().err


def test_max_length_beyond_the_models_positions_is_exit_2(tiny_model_dir, capsys) -> None:
    easy = ROOT / "pruning-config" / "pruning_data_easy_ja.json"
    assert main(["-m", str(tiny_model_dir), "-j", str(easy), "--max-length", "1024", "--no-progress"]) == 2
    assert "max length 1024 exceeds the model's 256 positions" in capsys.readouterr().err


def test_unknown_device_is_exit_2(tiny_model_dir, capsys) -> None:
    easy = ROOT / "pruning-config" / "pruning_data_easy_ja.json"
    assert main(["-m", str(tiny_model_dir), "-j", str(easy), "--device", "gpu", "--no-progress"]) == 2
    assert capsys.readouterr().err.startswith("error: device 'gpu': not a torch device")


def test_outputs_go_into_new_folders_and_unwritable_ones_are_named(data, scores, tmp_path, capsys) -> None:
    pytest.importorskip("matplotlib")
    out, plot = tmp_path / "a" / "r.json", tmp_path / "b" / "c" / "sweep.png"
    assert main(["--scores", str(scores), "-j", str(data), "--output-json", str(out), "--plot", str(plot)]) == 0
    assert json.loads(out.read_text())["n_queries"] == 2 and plot.stat().st_size > 0
    capsys.readouterr()
    assert main(["--scores", str(scores), "-j", str(data), "--output-json", str(tmp_path)]) == 2
    assert capsys.readouterr().err.startswith(f"error: {tmp_path}: cannot write")
    blocked = tmp_path / "file"
    blocked.write_text("")
    assert main(["--scores", str(scores), "-j", str(data), "--plot", str(blocked / "s.png")]) == 2
    assert capsys.readouterr().err.startswith(f"error: {blocked / 's.png'}: cannot write the plot")


def test_broken_pruner_config_is_exit_2(tiny_model_dir, tmp_path, capsys) -> None:
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(tiny_model_dir, broken)
    (broken / "pruner_config.json").write_text("[]")
    easy = ROOT / "pruning-config" / "pruning_data_easy_ja.json"
    assert main(["-m", str(broken), "-j", str(easy), "--no-progress"]) == 2
    assert "top level must be an object" in capsys.readouterr().err


def _documented_extras(mode: str) -> set[str]:
    """The extra result keys docs/cli.md lists for a mode ("-m" or "--scores")."""
    doc = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    block = doc[doc.index("...extra keys") :]
    part = block[block.index(f"with {mode}:") :].split(";")[0].split("}")[0]
    return set(re.findall(r'"(\w+)"', part))


BASE_KEYS = {"data", "n_queries", "n_contexts", "n_keep", "thresholds", "best", "items"}


def test_the_documented_result_keys_are_the_written_ones(tiny_model_dir, data, scores, tmp_path) -> None:
    easy = ROOT / "pruning-config" / "pruning_data_easy_ja.json"
    out = tmp_path / "out.json"
    assert main(["-m", str(tiny_model_dir), "-j", str(easy), "--output-json", str(out), "--no-progress"]) == 0
    assert set(json.loads(out.read_text(encoding="utf-8"))) - BASE_KEYS == _documented_extras("-m")
    assert main(["--scores", str(scores), "-j", str(data), "--output-json", str(out)]) == 0
    assert set(json.loads(out.read_text(encoding="utf-8"))) - BASE_KEYS == _documented_extras("--scores")


def test_e5_zero_shot_scores_each_context_alone(data: Path, tiny_backbone_dir, capsys) -> None:
    argv = ["--e5-zero-shot", str(tiny_backbone_dir), "-j", str(data), "--format", "json", "--no-progress"]
    assert main([*argv, "--diagnose"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["e5_zero_shot"] == str(tiny_backbone_dir)
    assert [len(it["scores"]) for it in result["items"]] == [3, 2]
    assert "best_over_every_score" in result["diagnostics"]
    assert main([*argv, "--batch-size", "4"]) == 2
    assert "--batch-size applies to scoring with -m, not to --e5-zero-shot" in capsys.readouterr().err
