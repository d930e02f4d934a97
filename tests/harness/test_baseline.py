"""Loading a baseline: a broken or hand-edited one is a named error."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta

import pytest
import yaml

from pruning.errors import PruningError
from pruning.evaluate.seed_baseline import SEED_BASELINE_PATH, load_seed_baseline
from pruning.harness.artefacts import load_run
from pruning.harness.baseline import baseline_from_seed, capture, load_baseline
from tests.harness.helpers import make_run

pytestmark = pytest.mark.unit


def test_bad_baselines_are_clear_errors(tmp_path):
    path = tmp_path / "b.json"
    path.write_text(json.dumps({"schema_version": 99}))
    with pytest.raises(PruningError, match="schema_version"):
        load_baseline(path)
    path.write_text("{")
    with pytest.raises(PruningError, match="not valid JSON"):
        load_baseline(path)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda b: b["bands"].update(f2_5="0.01"), r"field 'bands.f2_5': expected a number >= 0 or null, got '0.01'"),
        (lambda b: b["bands"].update(fn=-1), r"field 'bands.fn'"),
        (lambda b: b["evaluations"]["easy.json"].pop("best"), r"evaluations\['easy.json'\]: field 'best'"),
        (lambda b: b["evaluations"]["easy.json"]["best"].update(metric="f3"), r"unknown metric 'f3'"),
        (lambda b: b["evaluations"]["easy.json"]["thresholds"][1].pop("fn"), r"thresholds\[1\]: field 'fn' missing"),
        (lambda b: b["evaluations"]["easy.json"]["items"][0].update(scores=["x"]), r"items\[0\] must hold"),
        (lambda b: b.update(evaluations=[]), r"field 'evaluations' must map"),
        (lambda b: b.update(eval_trajectory=[{"loss": 0.5}]), r"field 'eval_trajectory'"),
        (lambda b: b.update(eval_trajectory=[{"step": 5, "loss": "0.5"}]), r"field 'eval_trajectory'"),
        (lambda b: b.update(data_files=["train.jsonl"]), r"field 'data_files' must map splits"),
        (lambda b: b["data_files"]["train"][0].pop("sha256"), r"field 'data_files' must map splits"),
        (lambda b: b.update(code="abc"), r"field 'code' must be"),
        (lambda b: b.update(versions=["torch"]), r"field 'versions' must be an object"),
        (lambda b: b.update(device=3), r"field 'device' must be a string"),
        (lambda b: b["config"].update(training_args="x"), r"field 'config.training_args' must be an object"),
        (lambda b: b.update(band={"f2_5": 0.02}), r"field 'band' is not a baseline field \(known: schema_version"),
    ],
)
def test_hand_edited_baselines_are_named_errors(tmp_path, baseline, edit, message):
    edited = copy.deepcopy(baseline)
    edit(edited)
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(edited))
    with pytest.raises(PruningError, match=message):
        load_baseline(path)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda b: b["bands"].update(f2_5=-1), "field 'bands.f2_5'"),
        (lambda b: b["bands"].update(f3=0.1), "unknown band 'f3'"),
        (lambda b: b.update(device=3), "field 'device' must be a string or null"),
    ],
)
def test_band_and_setup_errors_name_the_file(tmp_path, baseline, edit, message):
    edit(baseline)
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(baseline))
    with pytest.raises(PruningError) as err:
        load_baseline(path)
    assert str(err.value).startswith(f"{path}: ") and message in str(err.value)


def test_capture_and_seed_baselines_record_where_they_came_from(tmp_path, baseline):
    from pruning.evaluate.seed_baseline import load_seed_baseline
    from pruning.harness.baseline import baseline_from_seed

    assert (baseline["kind"], baseline["config_file"], baseline["seed"]) == ("captured", "x.yaml", 42)
    assert baseline_from_seed(load_seed_baseline())["kind"] == "seed (the user's recorded numbers)"


def test_a_baseline_evaluation_may_leave_out_its_items(tmp_path, baseline):
    """Per-context scores are optional in a baseline (a hand-written one need not hold them), unlike in a run."""
    del baseline["evaluations"]["easy.json"]["items"]
    path = tmp_path / "no_items.json"
    path.write_text(json.dumps(baseline))
    assert "items" not in load_baseline(path)["evaluations"]["easy.json"]


def test_the_seed_baseline_saved_as_json_loads_with_every_field(tmp_path):
    """The seed's numbers in the captured layout: a JSON copy of it loads as a baseline and keeps them."""
    seed = load_seed_baseline()
    path = tmp_path / "seed.json"
    path.write_text(json.dumps(baseline_from_seed(seed)))
    loaded = load_baseline(path)
    assert loaded["kind"] == "seed (the user's recorded numbers)" and loaded["captured_from"] == str(SEED_BASELINE_PATH)
    assert (loaded["final_train"], loaded["final_eval"]) == (None, None)  # the seed recorded no final losses
    assert loaded["train_seconds"] == 120.0  # the seed's 2 minutes
    assert loaded["eval_trajectory"] == [{"step": 7, "loss": 0.84}, {"step": 140, "loss": 0.41}]
    assert loaded["bands"] == {
        "f2_5": 0.01,
        "fn": 2.0,
        "recall_min": 0.99,
        "recall_drop": None,
        "count": None,
        "train_time_rel": None,
        "train_time_abs": 30.0,
        "loss_rel": None,
        "trajectory_rel": 0.25,
        "trajectory_abs": None,
        "score_drift": 0.05,
    }


def test_a_trajectory_point_may_lack_loss_parts(tmp_path, baseline):
    baseline["eval_trajectory"] = [{"step": 5, "loss": 0.5, "ranking_loss": None}, {"step": 10, "loss": 0.4}]
    path = tmp_path / "partial.json"
    path.write_text(json.dumps(baseline))
    assert load_baseline(path)["eval_trajectory"] == baseline["eval_trajectory"]


@pytest.mark.parametrize("suffix", [".yaml", ".yml"])
def test_a_yaml_baseline_is_the_seed_format(tmp_path, suffix):
    path = tmp_path / f"seed{suffix}"
    path.write_text(SEED_BASELINE_PATH.read_text(encoding="utf-8"), encoding="utf-8")
    loaded = load_baseline(path)
    assert loaded == baseline_from_seed(load_seed_baseline(path)) and loaded["captured_from"] == str(path)


def test_capture_records_where_and_when_in_utc(tmp_path):
    run = make_run(tmp_path / "run")
    captured = capture(load_run(run))
    assert captured["captured_from"] == str(run)
    stamp = datetime.fromisoformat(captured["captured_at"])
    assert stamp.utcoffset() == timedelta(0) and abs(datetime.now(UTC) - stamp) < timedelta(minutes=5)
    assert captured["config"]["data_args"] == {"train_files": ["/data/train.jsonl"]}  # paths kept in the record
    assert "output_dir" not in captured["config"]["training_args"]


def test_a_seed_baseline_takes_its_bands_from_the_seed_file(tmp_path):
    """Another seed document's tolerances become the bands, not the harness's defaults."""
    text = SEED_BASELINE_PATH.read_text(encoding="utf-8")
    edited = yaml.safe_load(text)
    edited["acceptance"]["f2_5"]["tolerance"] = 0.02
    edited["acceptance"]["fn"]["tolerance"] = 3
    edited["acceptance"]["score_drift_max"] = 0.1
    header = "".join(line + "\n" for line in text.splitlines() if line.startswith("#"))
    path = tmp_path / "other_seed.yaml"
    path.write_text(header + yaml.safe_dump(edited, allow_unicode=True), encoding="utf-8")
    bands = load_baseline(path)["bands"]
    assert (bands["f2_5"], bands["fn"], bands["score_drift"]) == (0.02, 3, 0.1)
