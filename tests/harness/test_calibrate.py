"""Calibrated baselines on hand-made runs: means, spreads, k, floors, and differences stated in units of σ.

Three runs differ only where the test says; every expected number below is worked by hand.
"""

from __future__ import annotations

import copy
import math
import statistics

import pytest

from pruning.cli.baseline import main as baseline_main
from pruning.errors import PruningError
from pruning.harness.artefacts import load_run
from pruning.harness.baseline import load_baseline
from pruning.harness.calibrate import CALIBRATION_FLOORS, calibrate, prediction_factor
from pruning.harness.compare import FAIL, PASS, compare
from tests.harness.helpers import SETUP, make_run

pytestmark = pytest.mark.unit

K3 = 9.925 * math.sqrt(4 / 3)  # t(0.995, 2) × √(1 + 1/3) = 11.46


def _scores(first: float, positive: float = 0.65) -> list[list[float]]:
    return [[first, 0.25, 0.05], [0.15, positive]]


@pytest.fixture
def three_runs(tmp_path):
    """Context 0 scores 0.80 / 0.81 / 0.82 (σ = 0.01), pruning loss 0.30 / 0.33 / 0.36, time 100 / 110 / 120 s."""
    return [
        make_run(
            tmp_path / f"r{i}",
            scores=_scores(0.80 + i / 100),
            pruning_loss=0.30 + 3 * i / 100,
            train_seconds=100.0 + 10 * i,
        )
        for i in range(3)
    ]


def test_prediction_factor_is_the_t_quantile_times_the_new_run_term():
    assert prediction_factor(3) == pytest.approx(K3)
    assert prediction_factor(5) == pytest.approx(4.604 * math.sqrt(1.2))
    assert prediction_factor(12) == pytest.approx(3.169 * math.sqrt(1 + 1 / 12))  # dof 11: the dof-10 row (wider)
    assert prediction_factor(500) == pytest.approx(2.576 * math.sqrt(1 + 1 / 500))
    with pytest.raises(ValueError):
        prediction_factor(1)


def test_bands_are_k_times_the_spread_above_their_floors(three_runs):
    baseline = calibrate([load_run(r) for r in three_runs])
    cal, bands = baseline["calibration"], baseline["bands"]
    assert cal["runs"] == 3 and cal["seeds"] == [42, 42, 42] and cal["devices"] == [SETUP["device"]] * 3
    assert cal["k"] == pytest.approx(K3)
    assert cal["spread"]["score_drift"] == pytest.approx(0.01)
    assert bands["score_drift"] == pytest.approx(K3 * 0.01)
    # final_train pruning loss: mean 0.33, σ 0.03 → relative 0.0909 (final_eval's 0.43 ± 0.03 is smaller)
    assert cal["spread"]["loss_rel"] == pytest.approx(0.03 / 0.33)
    assert bands["loss_rel"] == pytest.approx(K3 * 0.03 / 0.33)
    # nothing else varies: those bands sit on their floors
    for kind in ("f2_5", "fn", "count", "recall_drop", "trajectory_rel"):
        assert cal["spread"][kind] == 0.0
        assert bands[kind] == CALIBRATION_FLOORS[kind]
    assert baseline["train_seconds"] == pytest.approx(110.0)
    assert bands["train_time_abs"] == pytest.approx(K3 * 10.0)
    # expected values are the means
    assert baseline["evaluations"]["easy.json"]["items"][0]["scores"] == pytest.approx([0.81, 0.25, 0.05])
    assert baseline["final_train"]["pruning_loss"] == pytest.approx(0.33)


def test_compare_states_differences_in_units_of_sigma(tmp_path, three_runs):
    baseline = calibrate([load_run(r) for r in three_runs])
    near = compare(load_run(make_run(tmp_path / "near", scores=_scores(0.83), pruning_loss=0.33)), baseline)
    assert near.ok, [c for c in near.checks if c.status == FAIL]
    scores = next(c for c in near.checks if c.name.startswith("easy.json: per-context scores"))
    assert scores.detail.endswith("Δ = +0.02 (2.0 σ)")
    loss = next(c for c in near.checks if c.name == "final_train pruning_loss")
    assert loss.detail == "Δ = +0 (0.0 σ)"
    # a difference the runs never showed: σ = 0, so the floor decides and the note says so
    f25 = next(c for c in near.checks if c.name.startswith("easy.json: F2.5"))
    assert "σ = 0" in f25.detail

    far = compare(load_run(make_run(tmp_path / "far", scores=_scores(0.95))), baseline)
    scores = next(c for c in far.checks if c.name.startswith("easy.json: per-context scores"))
    assert scores.status == FAIL and scores.detail.endswith("(14.0 σ)")


def test_loss_trajectory_beyond_its_floor_fails(tmp_path, three_runs):
    baseline = calibrate([load_run(r) for r in three_runs])
    # the runs agree on every eval point: band = floor 0.2 %; 0.5 → 0.51 is 2 % off
    result = compare(load_run(make_run(tmp_path / "traj", eval_losses=(0.8, 0.51))), baseline)
    assert {c.name: c.status for c in result.checks}["eval loss at step 10"] == FAIL


def test_any_best_threshold_the_runs_chose_passes(tmp_path):
    # q2's positive at 0.65 → best 0.3; at 0.25 → best 0.2 (F2.5 0.935 vs 0.537 at 0.3)
    runs = [make_run(tmp_path / f"r{i}", scores=_scores(0.8, p)) for i, p in enumerate((0.65, 0.65, 0.25))]
    baseline = calibrate([load_run(r) for r in runs])
    best = baseline["evaluations"]["easy.json"]["best"]
    assert (best["threshold"], best["seen"]) == (0.3, [0.3, 0.2])  # the most common first
    again = compare(load_run(runs[2]), baseline)
    row = next(c for c in again.checks if c.name.startswith("easy.json: best threshold"))
    assert (row.status, row.tolerance) == (PASS, "one of 0.3, 0.2")
    never = compare(load_run(make_run(tmp_path / "never", scores=_scores(0.8, 0.12))), baseline)
    assert next(c for c in never.checks if c.name.startswith("easy.json: best threshold")).status == FAIL


def test_runs_must_share_a_config_but_may_differ_in_seed(tmp_path):
    seeds = copy.deepcopy(SETUP)
    seeds["config"]["training_args"]["seed"] = 7
    runs = [make_run(tmp_path / "a"), make_run(tmp_path / "b"), make_run(tmp_path / "c", setup=seeds)]
    calibrate([load_run(r) for r in runs])
    other = copy.deepcopy(SETUP)
    other["config"]["model_args"]["max_length"] = 128
    runs[2] = make_run(tmp_path / "d", setup=other)
    with pytest.raises(PruningError, match=r"d: the config \(seed and paths aside\) differs"):
        calibrate([load_run(r) for r in runs])
    with pytest.raises(PruningError, match="at least 3 runs"):
        calibrate([load_run(r) for r in runs[:2]])


def test_cli_calibrate_writes_a_baseline_compare_reads(tmp_path, three_runs, capsys):
    out = tmp_path / "cal.json"
    assert baseline_main(["calibrate", *map(str, three_runs), "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "calibrated from 3 runs" in printed and "score_drift: spread 0.01 -> band 0.1146" in printed
    assert load_baseline(out)["calibration"]["runs"] == 3
    assert baseline_main(["compare", str(three_runs[1]), str(out)]) == 0
    assert "(0.0 σ)" in capsys.readouterr().out
    assert baseline_main(["calibrate", str(three_runs[0]), "-o", str(out)]) == 2
    assert "at least 3 runs" in capsys.readouterr().err
    assert baseline_main(["calibrate", *map(str, three_runs), "-o", str(out), "--k", "0"]) == 2


def test_f2_5_spread_is_read_at_every_threshold_a_run_chose(tmp_path):
    # a false positive at 0.35 in run 3: at 0.3 its F2.5 drops to 29/31 (P = 2/3, R = 1) and its best moves to 0.5
    runs = [
        make_run(tmp_path / "a"),
        make_run(tmp_path / "b"),
        make_run(tmp_path / "c", scores=[[0.8, 0.35, 0.05], [0.15, 0.65]]),
    ]
    baseline = calibrate([load_run(r) for r in runs])
    assert baseline["evaluations"]["easy.json"]["best"]["seen"] == [0.3, 0.5]
    assert baseline["calibration"]["spread"]["f2_5"] == pytest.approx(statistics.stdev([1.0, 1.0, 29 / 31]))
    assert baseline["bands"]["f2_5"] == pytest.approx(K3 * statistics.stdev([1.0, 1.0, 29 / 31]))


def test_runs_of_the_same_data_under_other_paths_calibrate(tmp_path, three_runs):
    moved = copy.deepcopy(SETUP)
    moved["config"]["data_args"]["train_files"] = ["/elsewhere/train.jsonl"]
    moved["config"]["training_args"]["output_dir"] = "/runs/elsewhere"
    runs = [*three_runs[:2], make_run(tmp_path / "moved", setup=moved)]
    baseline = calibrate([load_run(r) for r in runs])
    assert baseline["kind"] == "calibrated"
    assert baseline["captured_from"] == [str(r) for r in runs]


def test_two_runs_have_a_prediction_factor_but_calibrate_asks_for_three():
    assert prediction_factor(2) == pytest.approx(63.657 * math.sqrt(1.5))
