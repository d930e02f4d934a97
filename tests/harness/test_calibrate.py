"""Calibrated baselines on hand-made runs: means, spreads, k, floors, and differences stated in units of σ.

Three runs differ only where the test says; every expected number below is worked by hand.
"""

from __future__ import annotations

import copy
import json
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
    assert scores.detail.endswith("Δ = +0.02 (2.0 σ)") and scores.sigmas == pytest.approx(2.0)
    loss = next(c for c in near.checks if c.name == "final_train pruning_loss")
    assert loss.detail == "Δ = +0 (0.0 σ)" and loss.sigmas == pytest.approx(0.0, abs=1e-9)
    # a difference the runs never showed: σ = 0, so the floor decides and the note says so
    f25 = next(c for c in near.checks if c.name.startswith("easy.json: F2.5"))
    assert "σ = 0" in f25.detail and f25.sigmas is None

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


def _edit(run, file, edit):
    path = run / file
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data))


def _zero_ranking_loss(summary):
    summary["final_train"]["ranking_loss"] = 0.0  # a relative spread around a zero mean is 0, not a division by 0


@pytest.fixture
def varied_runs(tmp_path):
    """Three runs that differ in every calibrated quantity. Run c's q2 positive at 0.25 moves its best to 0.2."""
    runs = [
        make_run(tmp_path / "a", scores=_scores(0.80), pruning_loss=0.30, train_seconds=100.0, eval_losses=(0.8, 0.5)),
        make_run(tmp_path / "b", scores=_scores(0.81), pruning_loss=0.33, train_seconds=110.0, eval_losses=(0.9, 0.52)),
        make_run(
            tmp_path / "c", scores=_scores(0.82, 0.25), pruning_loss=0.36, train_seconds=120.0, eval_losses=(0.7, 0.54)
        ),
    ]
    _edit(runs[1], "run_summary.json", lambda s: s.update(seed=7))
    for run in runs:
        _edit(run, "run_summary.json", _zero_ranking_loss)
    return runs


def _sd(values):
    return statistics.stdev(values)


def test_a_calibrated_baseline_in_full(varied_runs):
    """Every field of the baseline, against means and spreads computed here from the runs' own files."""
    results = [json.loads((r / "eval" / "easy.json").read_text()) for r in varied_runs]
    baseline = calibrate([load_run(r) for r in varied_runs])
    evaluation = baseline["evaluations"]["easy.json"]

    rows = evaluation["thresholds"]
    assert [r["threshold"] for r in rows] == [0.1, 0.2, 0.3, 0.5, 0.7]  # the grid itself, never a mean of it
    for i, row in enumerate(rows):
        for key, value in row.items():
            if key != "threshold":
                assert value == pytest.approx(statistics.fmean(r["thresholds"][i][key] for r in results)), (i, key)
    assert evaluation["best"] == {"metric": "f2_5", "threshold": 0.3, "seen": [0.3, 0.2]}
    assert evaluation["items"] == [
        {"query": "q1", "scores": pytest.approx([0.81, 0.25, 0.05])},
        {"query": "q2", "scores": pytest.approx([0.15, 1.55 / 3])},
    ]

    def at_seen(key):  # the spread of a metric over the thresholds some run chose (0.3 and 0.2: rows 2 and 1)
        return max(_sd([r["thresholds"][i][key] for r in results]) for i in (1, 2))

    counts = max(_sd([r["thresholds"][i][k] for r in results]) for i in range(5) for k in ("tp", "fp", "tn", "fn"))
    spread = {
        "f2_5": at_seen("f2_5"),
        "fn": at_seen("fn"),
        "recall_drop": at_seen("recall"),
        "count": counts,
        "score_drift": _sd([0.65, 0.65, 0.25]),
        "loss_rel": 0.03 / 0.33,  # final_train pruning loss; final_eval's 0.43 ± 0.03 is relatively smaller
        "trajectory_rel": 0.1 / 0.8,  # the step-5 eval loss 0.8 / 0.9 / 0.7
        "train_seconds": 10.0,
    }
    assert spread["fn"] == pytest.approx(_sd([0, 0, 1])) and spread["recall_drop"] == pytest.approx(_sd([1, 1, 0.5]))
    calibration = baseline["calibration"]
    assert calibration.keys() == {"runs", "seeds", "devices", "formula", "k", "floors", "spread"}
    assert (calibration["runs"], calibration["seeds"], calibration["devices"]) == (
        3,
        [42, 7, 42],
        [SETUP["device"]] * 3,
    )
    assert calibration["formula"].startswith("band = max(floor, k × spread)")
    assert calibration["k"] == pytest.approx(K3) and calibration["floors"] == CALIBRATION_FLOORS
    assert calibration["spread"] == pytest.approx(spread)
    want_bands = {kind: max(floor, K3 * spread.get(kind, 0.0)) for kind, floor in CALIBRATION_FLOORS.items()}
    want_bands["train_time_rel"] = CALIBRATION_FLOORS["train_time_rel"]  # wall time is not calibrated down
    for kind, band in want_bands.items():
        assert baseline["bands"][kind] == pytest.approx(band), kind
    assert baseline["bands"]["train_time_abs"] == pytest.approx(K3 * 10.0)

    assert baseline["final_train"] == pytest.approx({"loss": 0.4, "ranking_loss": 0.0, "pruning_loss": 0.33})
    assert baseline["final_eval"] == pytest.approx({"loss": 0.5, "ranking_loss": 0.25, "pruning_loss": 0.43})
    assert baseline["eval_trajectory"] == [
        {"step": 5, "loss": pytest.approx(0.8), "ranking_loss": pytest.approx(0.3), "pruning_loss": pytest.approx(0.7)},
        {
            "step": 10,
            "loss": pytest.approx(0.52),
            "ranking_loss": pytest.approx(0.2),
            "pruning_loss": pytest.approx(0.45),
        },
    ]
    assert baseline["train_seconds"] == pytest.approx(110.0)
    assert (baseline["seed"], baseline["captured_from"]) == (42, [str(r) for r in varied_runs])  # the first run's


def test_runs_without_a_time_get_no_time_band(varied_runs):
    _edit(varied_runs[2], "run_summary.json", lambda s: s.update(train_seconds=None))
    baseline = calibrate([load_run(r) for r in varied_runs])
    assert baseline["bands"]["train_time_abs"] is None and "train_seconds" not in baseline["calibration"]["spread"]
    assert baseline["train_seconds"] == 100.0  # the first run's, as a captured baseline records it


def test_a_factor_below_one_may_be_chosen(varied_runs):
    baseline = calibrate([load_run(r) for r in varied_runs], k=0.5)
    assert baseline["calibration"]["k"] == 0.5
    assert baseline["bands"]["score_drift"] == pytest.approx(0.5 * _sd([0.65, 0.65, 0.25]))


def test_prediction_factor_at_the_last_row_of_the_table():
    assert prediction_factor(121) == pytest.approx(2.617 * math.sqrt(1 + 1 / 121))  # dof 120: its own row


def _another_file(result):
    return {**result, "data": "data/other.json"}


@pytest.mark.parametrize(
    ("which", "edit", "what"),
    [
        (0, lambda run: _edit(run, "eval/easy.json", lambda r: r["thresholds"][4].update(threshold=0.8)), "grid"),
        (1, lambda run: _edit(run, "eval/easy.json", lambda r: r["best"].update(metric="f1")), "metric"),
        (2, lambda run: _edit(run, "eval/easy.json", lambda r: r["items"][1]["scores"].pop()), "items"),
        (1, lambda run: _edit(run, "log_history.json", lambda h: h[2].update(step=12)), "steps"),
        (
            2,
            lambda run: (run / "eval" / "other.json").write_text(
                json.dumps(_another_file(json.loads((run / "eval" / "easy.json").read_text())))
            ),
            "files",
        ),
    ],
)
def test_each_difference_between_the_runs_is_named(tmp_path, which, edit, what):
    runs = [make_run(tmp_path / name) for name in "abc"]
    edit(runs[which])
    message = {
        "grid": "easy.json: the threshold grid",
        "metric": "easy.json: the best-threshold metric",
        "items": r"easy.json: the items \(queries and context counts\)",
        "steps": "the logged eval steps",
        "files": "the evaluated data files",
    }[what]
    named = runs[1] if which == 0 else runs[which]  # each run is held against the first
    with pytest.raises(PruningError, match=rf"^{named}: {message} differs from {runs[0]}'s; calibrate one config"):
        calibrate([load_run(r) for r in runs])


def test_spreads_read_only_where_they_apply(tmp_path):
    """F2.5, FN and recall spread only at the thresholds some run chose; a kind no run reports has spread 0."""
    runs = [
        make_run(tmp_path / "a"),
        make_run(tmp_path / "b"),
        make_run(tmp_path / "c", scores=[[0.6, 0.25, 0.05], [0.15, 0.65]]),
    ]
    for run in runs:  # no final losses recorded
        _edit(run, "run_summary.json", lambda s: s.update(final_train=None, final_eval=None))
    baseline = calibrate([load_run(r) for r in runs])
    spread = baseline["calibration"]["spread"]
    # run c drops q1's relevant context at 0.7 only (FN 1, 1, 2); every run's best is 0.3, where they agree
    assert baseline["evaluations"]["easy.json"]["best"]["seen"] == [0.3]
    assert (spread["f2_5"], spread["fn"], spread["recall_drop"]) == (0.0, 0.0, 0.0)
    assert spread["count"] == pytest.approx(_sd([1, 1, 2]))
    assert spread["loss_rel"] == 0.0 and baseline["bands"]["loss_rel"] == CALIBRATION_FLOORS["loss_rel"]
    assert baseline["final_train"] is None and baseline["final_eval"] is None
