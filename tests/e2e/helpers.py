"""Shared steps of the end-to-end tiers: train from a config, score evaluation files into RUN/eval/."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pruning.cli.exec import main as exec_main
from pruning.config import load_config
from pruning.harness.artefacts import load_run
from pruning.harness.baseline import Bands, capture, load_baseline
from pruning.harness.compare import Comparison, compare
from pruning.harness.history import append_from_env
from pruning.harness.render import render_table
from pruning.harness.report_page import write_report
from pruning.train.run import train

ROOT = Path(__file__).resolve().parents[2]
CONFIG_DIR = ROOT / "pruning-config"
EVAL_FILES = {
    "ja_v3": CONFIG_DIR / "pruning_data_ja_v3.json",
    "easy_ja": CONFIG_DIR / "pruning_data_easy_ja.json",
}
SEED_THRESHOLDS = ["0.1", "0.2", "0.3", "0.4", "0.5", "0.6", "0.7"]
# The shortened cpu_e2e model scores every context between about 0.31 and 0.48: on the seed's grid it keeps
# everything up to 0.3 and nothing from 0.5 up, so only one row (0.4) would carry any signal.
CPU_E2E_THRESHOLDS = [f"{t / 100:.2f}" for t in range(30, 52, 2)]  # 0.30, 0.32, ..., 0.50: where its scores lie


def train_run(config: Path, run_dir: Path, overrides: list[str] | None = None) -> dict:
    """Train `config` into `run_dir`; return the run summary."""
    cfg = load_config(config, [f"training_args.output_dir={run_dir}", *(overrides or [])])
    return train(cfg, progress=False)


def evaluate(run_dir: Path, data: Path, *extra: str, thresholds: list[str] = SEED_THRESHOLDS) -> dict:
    """Score `data` with the run's final model via the real CLI; the result lands in RUN/eval/<stem>.json."""
    out = run_dir / "eval" / f"{data.stem}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    argv = ["-m", str(run_dir / "final_model"), "-j", str(data), "--thresholds", *thresholds]
    # markdown on stdout (the table a nightly log wants); the full result JSON goes to the file
    code = exec_main([*argv, "--format", "markdown", "--output-json", str(out), "--no-progress", *extra])
    assert code == 0, f"pruning-exec exited {code} on {data}"
    return json.loads(out.read_text(encoding="utf-8"))


REPORT_NAME = "report.html"


def shown(path: Path) -> str:
    """A path relative to the repository when it lies inside it."""
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def compare_and_report(
    run_dir: Path, baseline: dict, baseline_name: str, report_name: str = REPORT_NAME
) -> tuple[Comparison, str]:
    """Compare a run with a baseline, write the report page beside the run and, with PRUNING_HISTORY set, append
    the comparison to that ledger: the comparison, and the table to print or fail with, ending with the page."""
    run = load_run(run_dir)
    comparison = compare(run, baseline, baseline_name)
    page = write_report(run, baseline, comparison, run_dir / report_name)
    append_from_env(run, comparison, page)
    return comparison, f"{render_table(comparison)}\nreport: {page}"


def check_captured_baseline(
    run_dir: Path, path: Path, bands: Bands, force: bool, captured_from: str, report_name: str = REPORT_NAME
) -> None:
    """The checking engine over a whole run against a baseline captured from an earlier run.

    Like pytest-regressions, --force-regen rewrites the baseline only when the run no longer matches it, or when
    the baseline lacks fields a capture now records (e.g. provenance added later); a missing baseline is
    captured. Either way the test then fails once, so that the new file gets reviewed before it is committed.

    A calibrated baseline (`pruning-baseline calibrate`, docs/harness-power.md) keeps the bands its runs measured,
    whatever `bands` says, and is never overwritten by one run's capture: --force-regen on it fails, asking for a
    new calibration.
    """
    run = load_run(run_dir)
    fresh = capture(run, bands)
    comparison = None
    if path.is_file():
        baseline = load_baseline(path)
        calibrated = "calibration" in baseline
        if not calibrated:
            baseline["bands"] = vars(bands)
        comparison, table = compare_and_report(run_dir, baseline, shown(path), report_name)
        print(table)
        if calibrated:
            if comparison.ok:
                return
            hint = "\nit is calibrated: recalibrate it (docs/harness-power.md), --force-regen does not" if force else ""
            pytest.fail(f"\n{table}{hint}")
        stale = [k for k, v in fresh.items() if v is not None and baseline.get(k) is None]
        if comparison.ok and not (force and stale):
            return
    if force or comparison is None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fresh["captured_from"] = captured_from
        path.write_text(json.dumps(fresh, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        pytest.fail(f"{'regenerated' if comparison else 'captured'} {shown(path)}: review it and rerun")
    pytest.fail("\n" + table)
