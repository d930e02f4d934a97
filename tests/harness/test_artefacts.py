"""Reading a run directory: a hand-edited or ambiguous run is a named error."""

from __future__ import annotations

import json

import pytest

from pruning.errors import PruningError
from pruning.harness.artefacts import load_run
from tests.harness.helpers import SETUP, make_run

pytestmark = pytest.mark.unit


def test_two_results_for_one_data_file_are_an_error(tmp_path):
    run = make_run(tmp_path / "run")
    (run / "eval" / "easy_seed.json").write_text((run / "eval" / "easy.json").read_text())
    with pytest.raises(PruningError, match=r"easy_seed.json: evaluates easy.json as easy.json does"):
        load_run(run)


def test_hand_edited_run_result_is_a_named_error(tmp_path):
    run = make_run(tmp_path / "run")
    result = json.loads((run / "eval" / "easy.json").read_text())
    del result["thresholds"][0]["recall"]
    (run / "eval" / "easy.json").write_text(json.dumps(result))
    with pytest.raises(PruningError, match=r"easy.json: thresholds\[0\]: field 'recall' missing or not a number"):
        load_run(run)


def test_hand_edited_run_summary_provenance_is_a_named_error(tmp_path):
    run = make_run(tmp_path / "run", setup={**SETUP, "data_files": {"train": "train.jsonl"}})
    with pytest.raises(PruningError, match=r"run_summary.json: field 'data_files' must map splits"):
        load_run(run)


def _edit_result(run, edit):
    path = run / "eval" / "easy.json"
    result = json.loads(path.read_text())
    edit(result)
    path.write_text(json.dumps(result))


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda r: r.pop("data"), r"easy.json: field 'data' missing \(not a pruning-exec result\)"),
        (lambda r: r.update(thresholds={"0.1": {}}), r"easy.json: field 'thresholds' must be a non-empty list"),
        (lambda r: r.update(thresholds=[]), r"easy.json: field 'thresholds' must be a non-empty list"),
        (lambda r: r["best"].update(threshold="0.5"), r"easy.json: field 'best' must be \{'metric'"),
        (lambda r: r["best"].update(metric=2.5), r"easy.json: field 'best' must be \{'metric'"),
        (lambda r: r.pop("items"), r"easy.json: field 'items' must be a list"),  # a run's result needs its scores
    ],
    ids=["no data", "thresholds a mapping", "no thresholds", "best threshold text", "best metric number", "no items"],
)
def test_each_defect_of_a_run_result_is_named(tmp_path, edit, message):
    run = make_run(tmp_path / "run")
    _edit_result(run, edit)
    with pytest.raises(PruningError, match=message):
        load_run(run)


@pytest.mark.parametrize("key", ["device", "precision", "versions", "config"])
def test_each_provenance_field_of_the_wrong_type_is_named(tmp_path, key):
    run = make_run(tmp_path / "run", setup={**SETUP, key: 7})
    with pytest.raises(PruningError, match=rf"run_summary.json: field '{key}' must be an? "):
        load_run(run)


def test_the_eval_trajectory_holds_only_evaluations(tmp_path):
    run = make_run(tmp_path / "run")
    history = json.loads((run / "log_history.json").read_text())
    history.append({"loss": 0.7, "ranking_loss": 0.2, "pruning_loss": 0.6, "step": 15})  # a training log line
    (run / "log_history.json").write_text(json.dumps(history))
    trajectory = load_run(run).eval_trajectory()
    assert [p["step"] for p in trajectory] == [5, 10]
    assert trajectory[1] == {"step": 10, "loss": 0.5, "ranking_loss": 0.2, "pruning_loss": 0.45}


def test_a_compat_run_loads_and_its_preset_must_be_a_name(tmp_path):
    """A `compat: reference` config records its preset as a name beside the argument groups (found by the gpu_e2e
    dry run: such a run could not be compared at all)."""
    import copy

    setup = copy.deepcopy(SETUP)
    setup["config"]["compat"] = "reference"
    assert load_run(make_run(tmp_path / "ref", setup=setup)).summary["config"]["compat"] == "reference"
    setup["config"]["compat"] = 3
    with pytest.raises(PruningError, match=r"field 'config.compat' must be a name"):
        load_run(make_run(tmp_path / "bad", setup=setup))
