"""scripts/main.sh's last step: the trained model gets a default threshold, so that the README's next steps (the API
without a threshold, `pruning-prune -m MODEL`) work on it. Checked on a tiny model and the easy file."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.unit
def test_main_sh_stores_the_default_threshold_of_the_model_it_trained():
    main = (ROOT / "scripts" / "main.sh").read_text(encoding="utf-8")
    assert 'bash scripts/store-default-threshold.sh "$RUN/final_model"' in main


@pytest.mark.slow
def test_the_stored_threshold_serves_the_readme_next_steps(pruner_dir, tmp_path, capsys):
    model = tmp_path / "final_model"
    shutil.copytree(pruner_dir, model)
    env = {**os.environ, "PYTHON": sys.executable, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        ["bash", "scripts/store-default-threshold.sh", str(model), "pruning-config/pruning_data_easy_ja.json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    stored = json.loads((model / "pruner_config.json").read_text(encoding="utf-8"))["default_threshold"]
    assert (stored["metric"], stored["min_recall"]) == ("f2_5", 0.99)
    line = proc.stdout.strip()
    assert re.fullmatch(
        rf"default threshold: {stored['value']:g} \(best f2_5 with recall >= 0\.99 on "
        rf"pruning-config/pruning_data_easy_ja\.json\), stored in {re.escape(str(model))}/pruner_config\.json",
        line,
    ), line
    from pruning import Pruner
    from pruning.cli.prune import main

    r = Pruner.from_pretrained(model, device="cpu").prune(
        "富士山の高さは？", "富士山は高い。琵琶湖は広い。"
    )  # no threshold
    assert r.threshold == stored["value"]
    src = tmp_path / "contexts.jsonl"
    src.write_text(json.dumps({"query": "q", "context": "a。b。"}) + "\n", encoding="utf-8")
    assert main(["-m", str(model), str(src), "--no-progress"]) == 0
    assert json.loads(capsys.readouterr().out)["threshold"] == stored["value"]


@pytest.mark.slow
def test_experiment_sh_scores_three_files_and_tabulates_them(pruner_dir, tmp_path):
    """scripts/experiment.sh with SKIP_TRAIN=1 on a tiny model: three result files with diagnostics, one table each."""
    run = tmp_path / "E0-tiny"
    shutil.copytree(pruner_dir, run / "final_model")
    heldout = tmp_path / "heldout.json"
    heldout.write_text(
        json.dumps([{"query": "q", "contexts": ["a.", "b.", "c."], "labels": [0, 1, 0]}]), encoding="utf-8"
    )
    env = {
        **os.environ,
        "PYTHON": sys.executable,
        "PYTHONPATH": str(ROOT),
        "EXPERIMENTS_DIR": str(tmp_path),
        "HELDOUT": str(heldout),
        "SKIP_TRAIN": "1",
    }
    cmd = ["bash", "scripts/experiment.sh", "E0-tiny", "pruning-config/tiny-offline.yaml"]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    names = sorted(p.name for p in (run / "eval").iterdir())
    assert names == ["heldout.json", "pruning_data_easy_ja.json", "pruning_data_ja_v3.json"]
    result = json.loads((run / "eval" / "heldout.json").read_text(encoding="utf-8"))
    best = result["diagnostics"]["best_over_every_score"]
    assert best["threshold"] in result["items"][0]["scores"]
    for name in names:
        assert f"\n{name}\n" in proc.stdout
    assert proc.stdout.count("| E0-tiny | ") == 3 and proc.stdout.count("| keep everything | ") == 3
    assert "| keep everything | 0.6444 (FN 0, at 0) |" in proc.stdout  # easy_ja: 30 of 150 relevant
    missing = subprocess.run(cmd, cwd=ROOT, env={**env, "HELDOUT": str(tmp_path / "no.json")}, capture_output=True)
    assert missing.returncode == 2 and b"no.json not found" in missing.stderr
