"""The checking engine on hand-made run directories: every check can pass and can fail."""

from __future__ import annotations

import copy
import json

import pytest

from pruning.data.eval_files import EvalItem
from pruning.evaluate.seed_baseline import load_seed_baseline
from pruning.harness.artefacts import load_run
from pruning.harness.baseline import baseline_from_seed, capture
from pruning.harness.compare import FAIL, INFO, PASS, SKIP, compare
from tests.harness.helpers import ITEMS, SCORES, SETUP, make_run

pytestmark = pytest.mark.unit


def _status(comparison, prefix):
    return {c.name: c.status for c in comparison.checks if c.name.startswith(prefix)}


def test_identical_run_passes_every_check(tmp_path, baseline):
    result = compare(load_run(make_run(tmp_path / "same")), baseline)
    assert result.ok, [c for c in result.checks if c.status == FAIL]
    judged = [c for c in result.checks if not c.name.startswith("setup: ") and "paired bootstrap" not in c.name]
    assert {c.status for c in judged} == {PASS}
    noise = next(c for c in result.checks if "paired bootstrap" in c.name)
    assert (noise.name, noise.status, noise.obtained) == (
        "easy.json: change at 0.3 (paired bootstrap)",
        INFO,
        "within noise",
    )
    assert noise.detail.startswith("ΔF2.5 +0.0000 [+0.0000, +0.0000];")
    assert noise.detail.endswith("(95% interval, 2000 resamples of 2 queries)")
    assert result.as_dict()["significance"]["easy.json"]["verdict"] == "within noise"
    setup = {c.name: (c.status, c.detail) for c in result.checks if c.name.startswith("setup: ")}
    assert set(setup) == {
        f"setup: {k}" for k in ("device", "precision", "seed", "package versions", "config", "training data", "code")
    }
    assert set(setup.values()) == {(INFO, "")}
    assert len(baseline["eval_trajectory"]) == 2  # the repeated final point is kept once


def test_setup_differences_are_reported_not_judged(tmp_path, baseline):
    other = copy.deepcopy(SETUP)
    other.update(device="cuda: NVIDIA H100 80GB HBM3", precision="bf16")
    other["versions"]["torch"] = "2.11.0"
    other["code"] = {"commit": "b" * 40, "dirty": True}
    other["config"]["training_args"].update(output_dir="/runs/other", bf16=True)
    other["data_files"]["train"][0]["path"] = "/elsewhere/train.jsonl"  # same bytes under another path
    other["config"]["data_args"] = {"train_files": ["/elsewhere/train.jsonl"]}
    result = compare(load_run(make_run(tmp_path / "gpu", setup=other)), baseline)
    assert result.ok
    rows = {c.name: c for c in result.checks if c.name.startswith("setup: ")}
    assert {c.status for c in rows.values()} == {INFO}
    assert rows["setup: device"].detail == "differs"
    assert rows["setup: precision"].obtained == "bf16"
    assert rows["setup: package versions"].detail == "torch: 2.11.0 vs 2.13.0+cpu"
    assert rows["setup: config"].detail == "training_args.bf16: True vs -"  # output folder and data paths aside
    assert rows["setup: code"].obtained == "bbbbbbbbbb (uncommitted changes)"
    assert (rows["setup: training data"].obtained, rows["setup: training data"].detail) == ("same", "")

    other["data_files"]["train"][0]["sha256"] = "2" * 64
    result = compare(load_run(make_run(tmp_path / "newdata", setup=other)), baseline)
    data = next(c for c in result.checks if c.name == "setup: training data")
    assert data.obtained == "other files" and data.detail.startswith("differs: the train files' SHA-256 changed")


def test_a_run_from_before_provenance_gets_skipped_code_and_data_rows(tmp_path):
    old = {k: v for k, v in SETUP.items() if k not in ("code", "data_files")}
    baseline = capture(load_run(make_run(tmp_path / "old", setup=old)))
    assert "code" not in baseline and baseline["data_files"] is None
    rows = {c.name: c for c in compare(load_run(make_run(tmp_path / "new")), baseline).checks}
    for what, field in (("code", "code"), ("training data", "data_files")):  # shown as skipped, and why
        assert (rows[f"setup: {what}"].status, rows[f"setup: {what}"].detail) == (
            SKIP,
            f"not compared: the baseline recorded no {field}",
        )
    rows = {
        c.name: c.obtained
        for c in compare(
            load_run(make_run(tmp_path / "old2", setup=old)), capture(load_run(make_run(tmp_path / "new2")))
        ).checks
    }
    assert rows["setup: training data"] == "not recorded" and rows["setup: code"] == "not recorded"
    installed = compare(
        load_run(make_run(tmp_path / "pip", setup={**SETUP, "code": None})),
        capture(load_run(make_run(tmp_path / "new3"))),
    )
    code = next(c for c in installed.checks if c.name == "setup: code")
    assert (code.obtained, code.expected, code.detail) == ("not a git checkout", "aaaaaaaaaa", "differs")


def test_hub_data_uncommitted_code_and_git_failures_are_said_as_such(tmp_path):
    hub = {**SETUP, "data_files": {"train": [], "validation": []}, "code": {"commit": "a" * 40, "dirty": True}}
    baseline = capture(load_run(make_run(tmp_path / "base", setup=hub)))
    rows = {c.name: c for c in compare(load_run(make_run(tmp_path / "run", setup=hub)), baseline).checks}
    assert (rows["setup: training data"].obtained, rows["setup: training data"].detail) == (
        "not hashed",
        "hub dataset: see the config row",
    )
    assert rows["setup: code"].obtained == rows["setup: code"].expected == "aaaaaaaaaa (uncommitted changes)"
    assert rows["setup: code"].detail.startswith("cannot tell")
    failed = {**hub, "code": {"commit": None, "dirty": None, "error": "fatal: detected dubious ownership"}}
    code = next(
        c
        for c in compare(load_run(make_run(tmp_path / "odd", setup=failed)), baseline).checks
        if c.name == "setup: code"
    )
    assert code.obtained == "unknown (fatal: detected dubious ownership)" and code.detail.startswith("cannot tell")


def test_a_seed_baseline_lists_its_seed_and_says_why_the_other_setup_rows_are_skipped(tmp_path):
    seed = baseline_from_seed(load_seed_baseline())
    result = compare(load_run(make_run(tmp_path / "run")), seed)
    setup = {c.name: c for c in result.checks if c.name.startswith("setup: ")}
    assert (setup["setup: seed"].obtained, setup["setup: seed"].expected, setup["setup: seed"].status) == (42, 42, INFO)
    skipped = {name: c.detail for name, c in setup.items() if c.status == SKIP}
    assert set(skipped) == {
        f"setup: {k}" for k in ("device", "precision", "package versions", "config", "training data", "code")
    }
    assert skipped["setup: device"] == "not compared: the seed's recorded numbers hold no device"
    # a skipped row still shows what the run recorded where the row is one value; the others show nothing
    shown = {k: setup[f"setup: {k}"].obtained for k in ("device", "precision", "config", "code")}
    assert shown == {"device": "cpu: x86_64 (2 threads)", "precision": "fp32", "config": None, "code": None}
    losses = {c.name: (c.status, c.detail) for c in result.checks if c.name.startswith("final_")}
    assert losses == {
        "final_train": (SKIP, "not compared: the seed's recorded numbers hold no final_train"),
        "final_eval": (SKIP, "not compared: the seed's recorded numbers hold no final_eval"),
    }


def test_score_drift_fails_and_names_the_worst(tmp_path, baseline):
    drifted = copy.deepcopy(SCORES)
    drifted[1][0] = 0.15 + 0.06
    result = compare(load_run(make_run(tmp_path / "drift", scores=drifted)), baseline)
    check = next(c for c in result.checks if "per-context scores" in c.name)
    assert check.status == FAIL and check.obtained == pytest.approx(0.06)
    assert "item 1 ctx 0: 0.2100 vs 0.1500" in check.detail


def test_significance_row_calls_a_large_change_significant_and_never_fails(tmp_path, baseline):
    items = ITEMS * 30  # 60 queries, so that resampling them can tell a change from noise
    base = capture(load_run(make_run(tmp_path / "base60", items=items, scores=SCORES * 30)))
    lost = [[0.8, 0.25, 0.05], [0.15, 0.09]] * 30  # every q2 loses its only relevant context
    result = compare(load_run(make_run(tmp_path / "lost", items=items, scores=lost)), base)
    row = next(c for c in result.checks if "paired bootstrap" in c.name)
    assert (row.status, row.obtained) == (INFO, "significant")
    sig = result.as_dict()["significance"]["easy.json"]
    assert sig["fn"]["delta"] == 30 and sig["changed"] == ["f2_5", "recall", "fn"] and sig["queries"] == 60
    shuffled = [
        dict(it, query=f"other {i}")
        for i, it in enumerate(load_run(tmp_path / "lost").evaluations["easy.json"]["items"])
    ]
    (tmp_path / "lost" / "eval" / "easy.json").write_text(
        json.dumps({**load_run(tmp_path / "lost").evaluations["easy.json"], "items": shuffled})
    )
    row = next(c for c in compare(load_run(tmp_path / "lost"), base).checks if "paired bootstrap" in c.name)
    assert (row.status, row.detail) == (SKIP, "inputs differ from the baseline's: nothing to pair")


def test_counts_best_threshold_and_recall_can_fail(tmp_path, baseline):
    flipped = [[0.8, 0.25, 0.05], [0.15, 0.09]]  # the second keep drops below every threshold
    result = compare(load_run(make_run(tmp_path / "worse", scores=flipped)), baseline)
    statuses = _status(result, "easy.json")
    assert statuses["easy.json: best threshold by f2_5"] == PASS  # still 0.3
    assert statuses["easy.json: recall at 0.3"] == FAIL
    assert statuses["easy.json: FN at 0.3"] == PASS  # 1 FN is within ± 2
    assert statuses["easy.json: threshold pattern (max cell Δ)"] == PASS
    assert not result.ok


def test_losses_trajectory_and_time(tmp_path, baseline):
    slow = compare(load_run(make_run(tmp_path / "slow", train_seconds=130.0)), baseline)
    assert _status(slow, "training time")["training time (s)"] == FAIL
    fast = compare(load_run(make_run(tmp_path / "fast", train_seconds=50.0)), baseline)
    time_check = next(c for c in fast.checks if c.name == "training time (s)")
    assert time_check.status == PASS and "faster" in time_check.detail
    drift = compare(load_run(make_run(tmp_path / "traj", eval_losses=(0.8, 0.6))), baseline)
    assert _status(drift, "eval loss at step 10")["eval loss at step 10"] == FAIL
    loss = compare(load_run(make_run(tmp_path / "loss", pruning_loss=0.4)), baseline)
    assert _status(loss, "final_train")["final_train pruning_loss"] == FAIL
    assert _status(loss, "final_eval")["final_eval pruning_loss"] == FAIL
    assert _status(loss, "final_")["final_train ranking_loss"] == PASS


def test_f2_5_and_threshold_pattern_can_fail(tmp_path, baseline):
    one_fp = [[0.8, 0.35, 0.05], [0.15, 0.65]]  # a negative now kept at 0.3: F2.5 1.0 → 0.9355
    statuses = _status(compare(load_run(make_run(tmp_path / "fp", scores=one_fp)), baseline), "easy.json")
    assert statuses["easy.json: F2.5 at 0.3"] == FAIL
    assert statuses["easy.json: threshold pattern (max cell Δ)"] == PASS  # one cell moved by 1, band 2
    all_fp = [[0.8, 0.9, 0.9], [0.9, 0.65]]  # every negative kept: FP 0 → 3 from 0.3 up (first worst cell named)
    result = compare(load_run(make_run(tmp_path / "allfp", scores=all_fp)), baseline)
    check = next(c for c in result.checks if c.name.endswith("threshold pattern (max cell Δ)"))
    assert (check.status, check.obtained, check.detail) == (FAIL, 3, "FP at 0.3: 3 vs 0")


def test_other_inputs_fail_the_score_check(tmp_path, baseline):
    items = [ITEMS[0], EvalItem("another query", ["d", "e"], [0, 1])]
    result = compare(load_run(make_run(tmp_path / "other", items=items)), baseline)
    check = next(c for c in result.checks if "per-context scores" in c.name)
    assert (check.status, check.detail) == (FAIL, "inputs differ from the baseline's")


def test_best_threshold_is_judged_by_the_baselines_metric(tmp_path, baseline):
    run_dir = make_run(tmp_path / "byrecall", best_by="recall")  # the run's own best: 0.1 by recall
    assert json.loads((run_dir / "eval" / "easy.json").read_text())["best"] == {"metric": "recall", "threshold": 0.1}
    check = next(c for c in compare(load_run(run_dir), baseline).checks if "best threshold" in c.name)
    assert (check.status, check.obtained) == (PASS, 0.3)


def test_best_threshold_change_fails(tmp_path, baseline):
    lower = [[0.8, 0.05, 0.05], [0.05, 0.25]]  # every negative below 0.1: the best moves to 0.1
    result = compare(load_run(make_run(tmp_path / "lower", scores=lower)), baseline)
    check = next(c for c in result.checks if c.name.endswith("best threshold by f2_5"))
    assert (check.status, check.obtained, check.expected) == (FAIL, 0.1, 0.3)


def test_missing_evaluation_fails(tmp_path, baseline):
    run_dir = make_run(tmp_path / "noeval")
    (run_dir / "eval" / "easy.json").unlink()
    result = compare(load_run(run_dir), baseline)
    assert [c.status for c in result.checks if c.name.endswith("evaluation")] == [FAIL]


def test_seed_baseline_checks_the_acceptance_list(tmp_path):
    seed = baseline_from_seed(load_seed_baseline())
    assert seed["bands"]["f2_5"] == 0.01 and seed["bands"]["fn"] == 2 and seed["bands"]["recall_min"] == 0.99
    rows = seed["evaluations"]["pruning_data_ja_v3.json"]["thresholds"]
    assert [r["fn"] for r in rows] == [0, 0, 5, 59, 274, 497, 643]
    # A run reproducing the seed's counts exactly passes the metric checks.
    run_dir = tmp_path / "seedlike"
    (run_dir / "eval").mkdir(parents=True)
    (run_dir / "run_summary.json").write_text(json.dumps({"train_seconds": 110.0}))
    (run_dir / "log_history.json").write_text(
        json.dumps([{"eval_loss": 0.80, "step": 7}, {"eval_loss": 0.43, "step": 140}])
    )
    result = {
        "data": "pruning_data_ja_v3.json",
        "thresholds": rows,
        "best": {"metric": "f2_5", "threshold": 0.3},
        "items": [],
    }
    (run_dir / "eval" / "ja.json").write_text(json.dumps(result))
    comparison = compare(load_run(run_dir), seed)
    assert comparison.ok, [c for c in comparison.checks if c.status == FAIL]
    statuses = {c.name: c.status for c in comparison.checks}
    assert statuses["pruning_data_ja_v3.json: per-context scores"] == SKIP
    assert statuses["pruning_data_ja_v3.json: threshold pattern (max cell Δ)"] == INFO
    noise = next(c for c in comparison.checks if "paired bootstrap" in c.name)
    assert (noise.status, noise.detail) == (SKIP, "baseline has no per-context scores to pair with")
    assert comparison.as_dict()["significance"] == {}
    # FN 8 is outside 5 ± 2
    bad = copy.deepcopy(rows)
    bad[2].update(tp=683, fn=8)
    (run_dir / "eval" / "ja.json").write_text(json.dumps({**result, "thresholds": bad}))
    statuses = {c.name: c.status for c in compare(load_run(run_dir), seed).checks}
    assert statuses["pruning_data_ja_v3.json: FN at 0.3"] == FAIL


def test_config_row_sets_the_data_paths_aside_and_nothing_else(tmp_path, baseline):
    other = copy.deepcopy(SETUP)
    other["config"]["data_args"] = {"train_files": ["/elsewhere/t.jsonl"], "validation_files": ["/elsewhere/v.jsonl"]}
    rows = {c.name: c for c in compare(load_run(make_run(tmp_path / "moved", setup=other)), baseline).checks}
    assert (rows["setup: config"].obtained, rows["setup: config"].detail) == ("same", "")
    other["config"]["data_args"]["token_labels"] = "reference"
    rows = {c.name: c for c in compare(load_run(make_run(tmp_path / "relabelled", setup=other)), baseline).checks}
    assert rows["setup: config"].detail == "data_args.token_labels: reference vs -"
