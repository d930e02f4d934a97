"""`pruning-baseline calibrate` on three real tiny runs (seeds 1, 2, 3) trained and scored on CPU.

Each run trains the tiny BERT for 4 steps, evaluating twice, and scores pruning_data_easy_ja.json with the real
`pruning-exec`; the calibrated baseline must pass each of its own runs, state their distance in σ, and record
where it came from. A rerun of seed 1 matches run 1 exactly, so it passes too (its training time aside, which
follows the machine's load).
"""

from __future__ import annotations

import json

import pytest

from pruning.cli.baseline import main as baseline_main
from pruning.harness.artefacts import load_run
from pruning.harness.baseline import load_baseline
from pruning.harness.calibrate import CALIBRATION_FLOORS
from pruning.harness.compare import FAIL, SKIP, compare
from tests.harness.helpers import tiny_data, tiny_run

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def runs(tmp_path_factory, tiny_backbone_dir):
    root = tmp_path_factory.mktemp("calibrate")
    data = tiny_data(root / "data")
    return root, [tiny_run(root, tiny_backbone_dir, data, f"seed{s}", s) for s in (1, 2, 3)], (tiny_backbone_dir, data)


def test_calibrated_baseline_from_three_seeds_passes_its_runs(runs, capsys):
    root, run_dirs, (backbone, data) = runs
    out = root / "calibrated.json"
    assert baseline_main(["calibrate", *map(str, run_dirs), "-o", str(out)]) == 0
    baseline = load_baseline(out)
    cal, bands = baseline["calibration"], baseline["bands"]
    assert (cal["runs"], cal["seeds"]) == (3, [1, 2, 3])
    assert len(set(cal["devices"])) == 1 and cal["devices"][0].startswith("cpu: ")
    # three seeds really differ, so the score and loss bands come from the spread, not the floors
    assert cal["spread"]["score_drift"] > 0 and cal["spread"]["trajectory_rel"] > 0
    assert bands["score_drift"] == pytest.approx(cal["k"] * cal["spread"]["score_drift"])
    assert all(bands[kind] >= floor for kind, floor in CALIBRATION_FLOORS.items())
    assert len(baseline["eval_trajectory"]) == 2
    for run_dir in run_dirs:
        result = compare(load_run(run_dir), baseline, str(out))
        assert result.ok, [c for c in result.checks if c.status == FAIL]
        scores = next(c for c in result.checks if "per-context scores" in c.name)
        assert " σ)" in scores.detail
    rerun = tiny_run(root, backbone, data, "seed1-again", 1)
    # its results match run 1's exactly; its wall time depends on the machine's load (other tests, other workers),
    # so the rerun is compared against the baseline with its training time unset, which the three runs above did check
    timeless = root / "calibrated-timeless.json"
    timeless.write_text(json.dumps({**baseline, "train_seconds": None}))
    result = compare(load_run(rerun), load_baseline(timeless), str(timeless))
    assert result.ok, [c for c in result.checks if c.status == FAIL]
    assert next(c for c in result.checks if c.name == "training time (s)").status == SKIP
    assert baseline_main(["compare", str(rerun), str(timeless)]) == 0
    assert "σ)" in capsys.readouterr().out
