"""scripts/nightly.sh's CPU dry run (slow tier): the nightly's plumbing, without a GPU.

Three nights in one folder: the first captures both device baselines and is red (a capture asks for a review);
the second compares against them and is green, listing its report pages, the ledger and the trend; the third runs
against a tampered baseline (one context's score moved by 0.3) and is red again. `NIGHTLY_PYTHON` is this
interpreter and set-up is skipped, so the script runs as CI has it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pruning.harness.history import read

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]


def _night(out: Path, *pytest_args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NIGHTLY_DIR": str(out), "NIGHTLY_DRY_RUN": "1", "NIGHTLY_SETUP": "0"}
    env.update(NIGHTLY_PYTHON=sys.executable, PYTHONPATH=str(ROOT))
    env.pop("PRUNING_HISTORY", None)
    return subprocess.run(
        ["bash", "scripts/nightly.sh", "-q", *pytest_args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_nightly_dry_run_captures_then_passes_then_catches_a_change(tmp_path):
    out = tmp_path / "nightly"
    first = _night(out)
    assert first.returncode == 1, first.stdout[-3000:]
    assert "captured " in first.stdout and "cpu-dry-run__reference.json: review it and rerun" in first.stdout
    assert {p.name for p in (out / "baselines").iterdir()} == {"cpu-dry-run.json", "cpu-dry-run__reference.json"}
    assert first.stdout.rstrip().endswith("verdict:  RED (exit 1)")

    second = _night(out)
    assert second.returncode == 0, second.stdout[-3000:]
    summary = second.stdout.split("== nightly: where everything is ==")[1]
    reports = [line.split()[1] for line in summary.splitlines() if line.startswith("report:")]
    assert sorted(Path(r).name for r in reports) == ["report.html", "report_own_baseline.html"]
    assert all(Path(r).is_file() and "PASS: " in Path(r).read_text() for r in reports)
    assert f"trend:    {out / 'trend.html'}" in summary and summary.rstrip().endswith("verdict:  green")
    ledger = read(out / "ledger.jsonl")
    assert [e["verdict"] for e in ledger.entries] == ["pass", "pass"] and ledger.skipped == []

    baseline = out / "baselines" / "cpu-dry-run.json"
    data = json.loads(baseline.read_text())
    item = data["evaluations"]["pruning_data_ja_v3.json"]["items"][0]
    item["scores"][0] = min(1.0, item["scores"][0] + 0.3) if item["scores"][0] < 0.7 else item["scores"][0] - 0.3
    baseline.write_text(json.dumps(data))
    third = _night(out, "-k", "corrected")
    assert third.returncode == 1, third.stdout[-3000:]
    assert "pruning_data_ja_v3.json: per-context scores (max |Δ|)" in third.stdout
    assert "report: " in third.stdout and third.stdout.rstrip().endswith("verdict:  RED (exit 1)")
    assert [e["verdict"] for e in read(out / "ledger.jsonl").entries] == ["pass", "pass", "FAIL"]
