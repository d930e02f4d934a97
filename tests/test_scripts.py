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
