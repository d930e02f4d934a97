"""Every field of the checks a report shows (obtained, expected, tolerance, status), worked by hand, and the band
rules that are easy to get subtly wrong: an absolute time band alone, a loss part the baseline lacks."""

from __future__ import annotations

import copy
import json
import statistics

import pytest

from pruning.harness.artefacts import load_run
from pruning.harness.baseline import capture
from pruning.harness.calibrate import calibrate, prediction_factor
from pruning.harness.compare import FAIL, INFO, PASS, SKIP, Check, _check_scores, compare
from tests.harness.helpers import SCORES, SETUP, make_run

pytestmark = pytest.mark.unit

K3 = prediction_factor(3)


def _rows(comparison):
    return {c.name: (c.obtained, c.expected, c.tolerance, c.status) for c in comparison.checks}


def test_rows_of_an_identical_run(tmp_path, baseline):
    rows = _rows(compare(load_run(make_run(tmp_path / "same")), baseline))
    # best threshold 0.3 keeps exactly the two relevant contexts: F2.5 = 1, FN = 0; default bands ±0.01 and ±2
    assert rows["easy.json: F2.5 at 0.3"] == (1.0, 1.0, "±0.01", PASS)
    assert rows["easy.json: FN at 0.3"] == (0, 0, "±2", PASS)
    # the eval trajectory: 10 % of each logged value (0.5 → ±0.05, 0.45 → ±0.045)
    assert rows["eval loss at step 10"] == (0.5, 0.5, "±0.05", PASS)
    assert rows["eval pruning_loss at step 10"] == (0.45, 0.45, "±0.045", PASS)
    # final losses: 5 % (pruning 0.3 → ±0.015)
    assert rows["final_train pruning_loss"] == (0.3, 0.3, "±0.015", PASS)
    assert rows["training time (s)"] == (100.0, 100.0, "<= +25 s", PASS)


def test_a_baseline_evaluation_the_run_lacks_is_a_failed_row(tmp_path, baseline):
    baseline["evaluations"]["other.json"] = baseline["evaluations"]["easy.json"]
    rows = _rows(compare(load_run(make_run(tmp_path / "same")), baseline))
    assert rows["other.json: evaluation"] == (None, "other.json", "present", FAIL)


@pytest.mark.parametrize(("seconds", "status"), [(129.0, PASS), (131.0, FAIL)])
def test_an_absolute_time_band_alone_applies(tmp_path, baseline, seconds, status):
    # the seed's rule: 120 s ± 30 s, no relative band
    baseline["bands"].update(train_time_rel=None, train_time_abs=30)
    rows = _rows(compare(load_run(make_run(tmp_path / "t", train_seconds=seconds)), baseline))
    assert rows["training time (s)"] == (seconds, 100.0, "<= +30 s", status)


def test_time_without_any_band_is_reported_only(tmp_path, baseline):
    baseline["bands"].update(train_time_rel=None, train_time_abs=None)
    rows = _rows(compare(load_run(make_run(tmp_path / "t", train_seconds=500.0)), baseline))
    assert rows["training time (s)"] == (500.0, 100.0, "report only", INFO)


def test_a_loss_part_the_baseline_lacks_does_not_hide_the_next(tmp_path, baseline):
    baseline["final_train"]["ranking_loss"] = None
    rows = _rows(compare(load_run(make_run(tmp_path / "p", pruning_loss=0.4)), baseline))
    assert rows["final_train ranking_loss"] == (0.2, None, "", SKIP)  # shown as skipped, not dropped
    assert rows["final_train pruning_loss"] == (0.4, 0.3, "±0.015", FAIL)


def test_recall_floor_time_change_and_missing_time_rows(tmp_path, baseline):
    rows = {c.name: c for c in compare(load_run(make_run(tmp_path / "slow", train_seconds=120.0)), baseline).checks}
    # recall 1.0 at the best threshold, default drop 0.01: the floor is 0.99
    assert (rows["easy.json: recall at 0.3"].tolerance, rows["easy.json: recall at 0.3"].status) == (">= 0.9900", PASS)
    assert rows["training time (s)"].detail == "+20 %"
    baseline["train_seconds"] = None
    rows = {c.name: c for c in compare(load_run(make_run(tmp_path / "none")), baseline).checks}
    time = rows["training time (s)"]
    assert (time.obtained, time.expected, time.tolerance, time.status, time.detail) == (
        100.0,
        None,
        "",
        SKIP,
        "not compared: the baseline recorded no train_seconds",
    )


def test_the_per_context_scores_row_in_full():
    want = [{"query": "q1", "scores": [0.5, 0.5, 0.5]}, {"query": "q2", "scores": [0.5, 0.5]}]
    got = [{"query": "q1", "scores": [0.8500001, 0.75, 0.2]}, {"query": "q2", "scores": [0.5, 0.1000001]}]
    # |Δ|: 0.3500001, 0.25 (exactly the band: within it), 0.3, 0, 0.3999999 → three beyond ±0.25, worst first
    row = _check_scores("easy.json", got, want, tol=0.25)
    assert row == Check(
        "easy.json: per-context scores (max |Δ|)",
        0.4,
        0,
        "±0.25",
        FAIL,
        "3 of 5 beyond; worst: item 1 ctx 1: 0.1000 vs 0.5000; item 0 ctx 0: 0.8500 vs 0.5000; "
        "item 0 ctx 2: 0.2000 vs 0.5000",
        high=0.25,
    )
    assert _check_scores("easy.json", got, want, tol=None).detail.startswith("0 of 5 beyond")  # report only
    assert _check_scores("none.json", [], [], tol=0.25) == Check(
        "none.json: per-context scores (max |Δ|)", 0.0, 0, "±0.25", PASS, "0 of 0 beyond; worst: ", high=0.25
    )
    assert _check_scores("easy.json", got[:1], want, tol=0.25) == Check(
        "easy.json: per-context scores", None, None, "±0.25", FAIL, "inputs differ from the baseline's"
    )


def test_setup_rows_for_one_sided_differences(tmp_path, baseline):
    setup = copy.deepcopy(SETUP)
    del setup["config"]["model_args"]["max_length"]  # a key only the baseline has
    setup["code"] = {"commit": None}  # git failed without saying why
    setup["data_files"]["validation"] = [{"path": "/data/v.jsonl", "bytes": 5, "sha256": "3" * 64}]
    rows = {c.name: c for c in compare(load_run(make_run(tmp_path / "one_sided", setup=setup)), baseline).checks}
    assert rows["setup: config"].detail == "model_args.max_length: - vs 256"
    assert rows["setup: code"].obtained == "unknown (git failed)"
    assert rows["setup: training data"].detail.startswith("differs: the validation files' SHA-256 changed")

    baseline["data_files"] = {"train": [], "validation": []}  # a hub dataset: nothing hashed on the baseline's side
    data = next(c for c in compare(load_run(make_run(tmp_path / "local")), baseline).checks if "data" in c.name)
    assert (data.obtained, data.detail) == (
        "other files",
        "differs: the train files' SHA-256 changed, so results need not match",
    )


def test_a_comparison_as_json(tmp_path, baseline):
    run = make_run(tmp_path / "same")
    comparison = compare(load_run(run), baseline, baseline_name="b.json")
    out = comparison.as_dict()
    assert (out["run_dir"], out["baseline"], out["ok"]) == (str(run), "b.json", True)
    assert out["checks"][0] == {f: getattr(comparison.checks[0], f) for f in Check.__dataclass_fields__}
    assert len(out["checks"]) == len(comparison.checks)


def test_the_best_threshold_is_recomputed_by_the_baselines_own_metric(tmp_path):
    by_recall = capture(load_run(make_run(tmp_path / "base", best_by="recall")))  # recall's best: 0.1
    rows = _rows(compare(load_run(make_run(tmp_path / "run")), by_recall))  # this run was evaluated by F2.5 (0.3)
    assert rows["easy.json: best threshold by recall"] == (0.1, 0.1, "exact", PASS)


def test_rows_at_the_best_threshold_of_a_run_that_differs(tmp_path, baseline):
    # a false positive at 0.35: at 0.3, P = 2/3 and R = 1, so F2.5 = 29/31 = 0.93548…, shown to 4 decimals
    rows = _rows(compare(load_run(make_run(tmp_path / "fp", scores=[[0.8, 0.35, 0.05], [0.15, 0.65]])), baseline))
    assert rows["easy.json: F2.5 at 0.3"] == (0.9355, 1.0, "±0.01", FAIL)
    assert rows["easy.json: FN at 0.3"] == (0, 0, "±2", PASS)


def _checks_of_a_run_without(tmp_path, baseline, threshold):
    """Compare a run whose threshold table lacks one row."""
    run = make_run(tmp_path / "grid")
    path = run / "eval" / "easy.json"
    result = json.loads(path.read_text())
    result["thresholds"] = [r for r in result["thresholds"] if r["threshold"] != threshold]
    path.write_text(json.dumps(result))
    return {c.name: c for c in compare(load_run(run), baseline).checks}


def test_a_run_without_the_best_threshold_row(tmp_path, baseline):
    checks = _checks_of_a_run_without(tmp_path, baseline, 0.3)
    assert checks["easy.json: row at 0.3"] == Check(
        "easy.json: row at 0.3", None, 0.3, "present", FAIL, "threshold not swept"
    )


def test_two_changed_splits_are_both_named(tmp_path, baseline):
    setup = copy.deepcopy(SETUP)
    setup["data_files"]["train"][0]["sha256"] = "2" * 64
    setup["data_files"]["validation"] = [{"path": "/data/v.jsonl", "bytes": 5, "sha256": "3" * 64}]
    data = next(
        c
        for c in compare(load_run(make_run(tmp_path / "both", setup=setup)), baseline).checks
        if c.name == "setup: training data"
    )
    assert data.detail.startswith("differs: the train and validation files' SHA-256 changed")


def test_calibrated_rows_state_f2_5_and_fn_in_units_of_sigma(tmp_path):
    # run c: q2's positive at 0.25, so at 0.3 FN = 1 and F2.5 = 0.537 (R = 0.5); runs a, b: FN 0, F2.5 1
    runs = [
        make_run(tmp_path / n, scores=s) for n, s in (("a", SCORES), ("b", SCORES), ("c", [SCORES[0], [0.15, 0.25]]))
    ]
    baseline = calibrate([load_run(r) for r in runs])
    checks = {c.name: c for c in compare(load_run(runs[2]), baseline).checks}
    f25_c = 7.25 * 0.5 / (6.25 + 0.5)
    delta = f25_c - (2 + f25_c) / 3
    sigma = statistics.stdev([1.0, 1.0, f25_c])
    assert checks["easy.json: F2.5 at 0.3"].detail == f"Δ = {delta:+.4g} ({abs(delta) / sigma:.1f} σ)"
    assert checks["easy.json: FN at 0.3"].detail == f"Δ = +0.6667 ({(2 / 3) / statistics.stdev([0, 0, 1]):.1f} σ)"
    scores = checks["easy.json: per-context scores (max |Δ|)"].detail
    assert scores.startswith("0 of 5 beyond; worst: item 1 ctx 1: 0.2500 vs 0.5167; ")  # parts joined by "; "
    assert scores.endswith("; Δ = +0.2667 (1.2 σ)")  # the largest |Δ| against the score's σ


FP_AND_FN = [[0.8, 0.35, 0.05], [0.15, 0.25]]  # at 0.3: q1's 0.35 kept (FP), q2's relevant 0.25 dropped (FN)


def test_the_rows_of_an_evaluation_in_full(tmp_path, baseline):
    # at 0.3: TP 1, FP 1, TN 2, FN 1 → P = R = 0.5, F2.5 = 0.5; its own best is 0.2 (TP 2, FP 1)
    run = load_run(make_run(tmp_path / "fpfn", scores=FP_AND_FN))
    checks = {c.name: c for c in compare(run, baseline).checks}
    assert checks["easy.json: best threshold by f2_5"] == Check(
        "easy.json: best threshold by f2_5", 0.2, 0.3, "exact", FAIL
    )
    # the band also as numbers (low, high): what the history ledger records
    assert checks["easy.json: F2.5 at 0.3"] == Check(
        "easy.json: F2.5 at 0.3", 0.5, 1.0, "±0.01", FAIL, low=0.99, high=1.01
    )
    assert checks["easy.json: FN at 0.3"] == Check("easy.json: FN at 0.3", 1, 0, "±2", PASS, low=-2, high=2)
    # recall floor: the baseline's 1.0 less the default drop band 0.01
    assert checks["easy.json: recall at 0.3"] == Check(
        "easy.json: recall at 0.3", 0.5, 1.0, ">= 0.9900", FAIL, low=0.99
    )
    # the first largest cell difference, thresholds ascending and TP, FP, TN, FN in turn (0.1 and 0.2 agree)
    pattern = Check("easy.json: threshold pattern (max cell Δ)", 1, 0, "±2", PASS, "TP at 0.3: 1 vs 2", high=2)
    assert checks["easy.json: threshold pattern (max cell Δ)"] == pattern

    for bands, row in (
        ({"recall_min": 0.9}, (">= 0.9000", FAIL)),  # a recall floor wins over the drop band
        ({"recall_min": 0.5}, (">= 0.5000", PASS)),  # exactly at the floor passes
        ({"recall_drop": None}, ("report only", INFO)),  # neither: reported only
    ):
        edited = {**baseline, "bands": {**baseline["bands"], **bands}}
        recall = next(c for c in compare(run, edited).checks if c.name == "easy.json: recall at 0.3")
        assert (recall.obtained, recall.expected, recall.tolerance, recall.status) == (0.5, 1.0, *row)


def test_an_identical_run_has_no_pattern_difference(tmp_path, baseline):
    checks = {c.name: c for c in compare(load_run(make_run(tmp_path / "same")), baseline).checks}
    assert checks["easy.json: threshold pattern (max cell Δ)"] == Check(
        "easy.json: threshold pattern (max cell Δ)", 0.0, 0, "±2", PASS, "", high=2
    )


def test_a_threshold_the_run_did_not_sweep_is_named(tmp_path, baseline):
    checks = _checks_of_a_run_without(tmp_path, baseline, 0.7)
    assert checks["easy.json: row at 0.7"] == Check("easy.json: row at 0.7", None, 0.7, "present", FAIL, "not swept")


def test_calibrated_recall_and_pattern_rows(tmp_path):
    runs = [
        make_run(tmp_path / n, scores=s) for n, s in (("a", SCORES), ("b", SCORES), ("c", [SCORES[0], [0.15, 0.25]]))
    ]
    checks = {c.name: c for c in compare(load_run(runs[2]), calibrate([load_run(r) for r in runs])).checks}
    sigma = statistics.stdev([1.0, 1.0, 0.5])  # recall at 0.3 over the runs
    recall = checks["easy.json: recall at 0.3"]
    assert (recall.obtained, recall.expected, recall.status) == (0.5, 0.8333, PASS)
    assert recall.tolerance == f">= {5 / 6 - K3 * sigma:.4f}"
    assert recall.detail == f"Δ = {0.5 - 5 / 6:+.4g} ({(5 / 6 - 0.5) / sigma:.1f} σ)"
    pattern = checks["easy.json: threshold pattern (max cell Δ)"]
    assert pattern.detail.startswith("TP at 0.3: 1 vs 1.66666") and pattern.detail.endswith("(1.2 σ)")


@pytest.mark.parametrize(
    ("seconds", "row"),
    [
        (125.0, (125.0, 100.0, "<= +25 s", PASS, "+25 %")),  # the limit itself passes
        (125.04, (125.0, 100.0, "<= +25 s", FAIL, "+25 %")),  # shown to 0.1 s
        (75.0, (75.0, 100.0, "<= +25 s", PASS, "-25 %")),  # exactly the limit faster: not called faster
        (74.96, (75.0, 100.0, "<= +25 s", PASS, "-25 % (faster)")),
        (12.34, (12.3, 100.0, "<= +25 s", PASS, "-88 % (faster)")),
    ],
)
def test_the_training_time_row(tmp_path, baseline, seconds, row):
    check = next(
        c
        for c in compare(load_run(make_run(tmp_path / "t", train_seconds=seconds)), baseline).checks
        if c.name == "training time (s)"
    )
    assert (check.obtained, check.expected, check.tolerance, check.status, check.detail) == row


def test_a_baseline_of_zero_seconds_and_a_run_without_a_time(tmp_path, baseline):
    baseline["train_seconds"] = 0.0
    baseline["bands"]["train_time_abs"] = 5.0
    check = next(
        c
        for c in compare(load_run(make_run(tmp_path / "z", train_seconds=3.0)), baseline).checks
        if c.name == "training time (s)"
    )
    assert (check.obtained, check.expected, check.tolerance, check.status, check.detail) == (
        3.0,
        0.0,
        "<= +5 s",
        PASS,
        "+0 %",
    )
    baseline["train_seconds"] = 99.44  # both sides shown to 0.1 s
    check = next(
        c
        for c in compare(load_run(make_run(tmp_path / "r", train_seconds=99.44)), baseline).checks
        if c.name == "training time (s)"
    )
    assert (check.obtained, check.expected) == (99.4, 99.4)
    baseline["train_seconds"] = 100.0
    check = next(
        c
        for c in compare(load_run(make_run(tmp_path / "n", train_seconds=None)), baseline).checks
        if c.name == "training time (s)"
    )
    assert check == Check(
        "training time (s)", None, 100.0, "", SKIP, "not recorded: the run's summary has no train_seconds"
    )


def test_loss_rows_when_the_run_lacks_a_value_and_with_an_absolute_band(tmp_path, baseline):
    run = make_run(tmp_path / "gaps")
    summary = json.loads((run / "run_summary.json").read_text())
    del summary["final_eval"]["pruning_loss"]
    (run / "run_summary.json").write_text(json.dumps(summary))
    history = [h for h in json.loads((run / "log_history.json").read_text()) if h.get("step") != 5 or "loss" in h]
    (run / "log_history.json").write_text(json.dumps(history))  # no evaluation logged at step 5
    baseline["bands"]["trajectory_abs"] = 0.2
    checks = {c.name: c for c in compare(load_run(run), baseline).checks}
    assert checks["final_eval pruning_loss"] == Check(
        "final_eval pruning_loss", None, 0.4, "±0.02", FAIL, "", low=pytest.approx(0.38), high=pytest.approx(0.42)
    )
    assert checks["eval loss at step 5"] == Check(
        "eval loss at step 5",
        None,
        0.8,
        "±0.2",
        FAIL,
        "no eval_loss logged at step 5",
        low=pytest.approx(0.6),
        high=1.0,
    )
    assert checks["eval loss at step 10"].tolerance == "±0.2"  # max(10 % of 0.5, 0.2)
    assert checks["eval ranking_loss at step 10"].tolerance == "±0.2"


def test_setup_rows_show_both_sides(tmp_path, baseline):
    checks = {c.name: c for c in compare(load_run(make_run(tmp_path / "same")), baseline).checks}
    assert (checks["setup: device"].obtained, checks["setup: device"].expected) == (SETUP["device"], SETUP["device"])
    assert checks["setup: package versions"].obtained == "same" and checks["setup: config"].obtained == "same"
    assert checks["setup: code"].detail == ""
    setup = copy.deepcopy(SETUP)
    setup["versions"].update(torch="2.12.0", python="3.12.1")
    checks = {c.name: c for c in compare(load_run(make_run(tmp_path / "older", setup=setup)), baseline).checks}
    assert checks["setup: package versions"].obtained == "2 differ"
    assert checks["setup: package versions"].detail == "python: 3.12.1 vs 3.11.2; torch: 2.12.0 vs 2.13.0+cpu"


def test_calibrated_loss_rows_state_sigma(tmp_path):
    runs = [
        make_run(tmp_path / f"r{i}", pruning_loss=0.30 + 0.03 * i, eval_losses=(0.8 + 0.1 * i, 0.5)) for i in range(3)
    ]
    baseline = calibrate([load_run(r) for r in runs])
    checks = {c.name: c for c in compare(load_run(runs[2]), baseline).checks}
    # step-5 eval loss 0.8 / 0.9 / 1.0: mean 0.9, σ 0.1; run 3 is 0.1 (1.0 σ) above
    assert checks["eval loss at step 5"].detail == "Δ = +0.1 (1.0 σ)"
    # final_train pruning loss 0.30 / 0.33 / 0.36: mean 0.33, σ 0.03; run 3 is 0.03 (1.0 σ) above
    assert checks["final_train pruning_loss"].detail == "Δ = +0.03 (1.0 σ)"
