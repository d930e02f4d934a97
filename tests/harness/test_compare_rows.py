"""Every field of the checks a report shows (obtained, expected, tolerance, status), worked by hand, and the band
rules that are easy to get subtly wrong: an absolute time band alone, a loss part the baseline lacks."""

from __future__ import annotations

import pytest

from pruning.harness.artefacts import load_run
from pruning.harness.compare import FAIL, INFO, PASS, SKIP, compare
from tests.harness.helpers import make_run

pytestmark = pytest.mark.unit


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
    assert "final_train ranking_loss" not in rows
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
        "not recorded",
    )
