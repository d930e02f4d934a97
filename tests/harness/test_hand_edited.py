"""A hand-edited baseline or run summary, field by field: a named one-line error (exit 2) or a check shown as skipped
and why; never a traceback, never a silent pass. Starts from the real baseline the cpu_e2e tier captured."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from pruning.cli.baseline import main
from pruning.harness.artefacts import load_run
from pruning.harness.baseline import REQUIRED_FIELDS, load_baseline
from pruning.harness.compare import SKIP, compare

pytestmark = pytest.mark.unit

CAPTURED = Path(__file__).resolve().parents[2] / "baselines" / "test_cpu_e2e" / "run_baseline.json"
#: Fields no check reads: free text that only says where the baseline came from. Deleting them is still an error.
DESCRIPTIVE = {"kind", "captured_from", "captured_at", "config_file", "schema_version"}
#: Fields whose deletion or null shows skipped rows (named by the text each row's detail gives).
NULLABLE = ("device", "precision", "seed", "versions", "config", "data_files", "code", "train_seconds")
NESTED = [("final_train", "ranking_loss"), ("final_train", "pruning_loss"), ("final_eval", "pruning_loss")]
WRONG = ["x", True, [1], {"a": 1}]


def _baseline() -> dict:
    return json.loads(CAPTURED.read_text(encoding="utf-8"))


def _run_from(baseline: dict, root: Path) -> Path:
    """A run directory that reproduces the captured baseline exactly."""
    (root / "eval").mkdir(parents=True)
    keys = ("config_file", "device", "precision", "versions", "code", "config", "data_files", "seed")
    summary = {k: baseline[k] for k in keys} | {k: baseline[k] for k in ("train_seconds", "final_train", "final_eval")}
    history = [
        {"step": p["step"], **{f"eval_{k}": v for k, v in p.items() if k != "step"}}
        for p in baseline["eval_trajectory"]
    ]
    (root / "run_summary.json").write_text(json.dumps(summary))
    (root / "log_history.json").write_text(json.dumps(history))
    for name, ev in baseline["evaluations"].items():
        # the run's result carries the evaluation file's labels, as pruning-exec writes them
        data = json.loads((CAPTURED.parents[2] / "pruning-config" / name).read_text(encoding="utf-8"))
        items = [{**it, "labels": d["labels"]} for it, d in zip(ev["items"], data, strict=True)]
        (root / "eval" / name).write_text(json.dumps({"data": f"pruning-config/{name}", **ev, "items": items}))
    return root


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    return _run_from(_baseline(), tmp_path_factory.mktemp("runs") / "captured")


def _compare(run_dir: Path, baseline: dict, tmp_path: Path, capsys) -> tuple[int, str, str]:
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(baseline))
    code = main(["compare", str(run_dir), str(path), "--format", "json"])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_captured_baseline_passes_against_its_own_run(run_dir, tmp_path, capsys):
    code, out, _ = _compare(run_dir, _baseline(), tmp_path, capsys)
    assert code == 0
    assert not [c for c in json.loads(out)["checks"] if c["status"] == SKIP]


@pytest.mark.parametrize("field", [f for f in _baseline() if f not in ("evaluations", "bands", "eval_trajectory")])
@pytest.mark.parametrize("edit", ["delete", *WRONG, None])
def test_each_field_deleted_or_corrupted(run_dir, tmp_path, capsys, field, edit):
    baseline = _baseline()
    if edit == "delete":
        del baseline[field]
    elif type(edit) is type(baseline[field]):
        pytest.skip("a value of the field's own type is an edit, not a corruption: the rows compare it")
    else:
        baseline[field] = edit
    code, out, err = _compare(run_dir, baseline, tmp_path, capsys)
    if code == 2:  # one line naming the file and the field
        assert err.count("\n") == 1 and "edited.json" in err and f"'{field}" in err, err
        return
    assert field in DESCRIPTIVE or field in NULLABLE or edit is None, (field, edit, out)
    checks = json.loads(out)["checks"]
    if field in DESCRIPTIVE:
        assert code == 0 and edit != "delete"
        return
    # a recorded field that is gone is a skipped row that says so
    named = {"data_files": "data_files", "versions": "versions", "config": "config"}.get(field, field)
    skipped = [c for c in checks if c["status"] == SKIP and named in c["detail"]]
    assert skipped, (field, edit, [c for c in checks if c["status"] != "pass"])
    assert all("recorded no" in c["detail"] for c in skipped)


@pytest.mark.parametrize(("group", "part"), NESTED)
@pytest.mark.parametrize("edit", ["delete", "0.5", [0.5], None])
def test_each_loss_deleted_or_corrupted(run_dir, tmp_path, capsys, group, part, edit):
    baseline = _baseline()
    if edit == "delete":
        del baseline[group][part]
    else:
        baseline[group][part] = edit
    code, out, err = _compare(run_dir, baseline, tmp_path, capsys)
    if edit in ("delete", None):
        row = next(c for c in json.loads(out)["checks"] if c["name"] == f"{group} {part}")
        assert (code, row["status"], row["detail"]) == (0, SKIP, f"not compared: the baseline recorded no {part}")
    else:
        assert (
            code == 2
            and err
            == f"error: {tmp_path / 'edited.json'}: field '{group}.{part}' must be a number or null, got {edit!r}\n"
        )


def test_every_required_field_is_named_when_deleted(tmp_path):
    for field in REQUIRED_FIELDS:
        baseline = copy.deepcopy(_baseline())
        del baseline[field]
        path = tmp_path / "b.json"
        path.write_text(json.dumps(baseline))
        with pytest.raises(Exception, match=rf"b.json: field '{field}'"):
            load_baseline(path)


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (lambda s: s.update(train_seconds="98"), "train_seconds"),
        (lambda s: s["final_train"].update(pruning_loss="0.5"), "final_train.pruning_loss"),
        (lambda s: s.update(final_eval=[0.5]), "final_eval"),
        (lambda s: s.update(seed="42"), "seed"),
    ],
)
def test_a_hand_edited_run_summary_is_a_named_error(run_dir, tmp_path, capsys, edit, field):
    run = _run_from(_baseline(), tmp_path / "run")
    summary = json.loads((run / "run_summary.json").read_text())
    edit(summary)
    (run / "run_summary.json").write_text(json.dumps(summary))
    assert main(["compare", str(run), str(CAPTURED)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {run / 'run_summary.json'}: field '{field}' must be") and err.count("\n") == 1


def test_a_run_without_a_recorded_time_says_so(tmp_path):
    run = _run_from(_baseline(), tmp_path / "run")
    summary = json.loads((run / "run_summary.json").read_text())
    del summary["train_seconds"]
    (run / "run_summary.json").write_text(json.dumps(summary))
    row = next(c for c in compare(load_run(run), _baseline()).checks if c.name == "training time (s)")
    assert (row.status, row.detail) == (SKIP, "not recorded: the run's summary has no train_seconds")


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda h: h[0].update(eval_loss="0.5"), "entry 0: field 'eval_loss' must be a number"),
        (lambda h: h[0].update(eval_pruning_loss=[1]), "entry 0: field 'eval_pruning_loss' must be a number"),
        (lambda h: h[0].pop("step"), "entry 0: field 'step' must be a number"),
        (lambda h: h.append(3), "expected a list of log objects"),
    ],
)
def test_a_hand_edited_log_history_is_a_named_error(tmp_path, capsys, edit, message):
    run = _run_from(_baseline(), tmp_path / "run")
    history = json.loads((run / "log_history.json").read_text())
    edit(history)
    (run / "log_history.json").write_text(json.dumps(history))
    assert main(["compare", str(run), str(CAPTURED)]) == 2
    assert capsys.readouterr().err == f"error: {run / 'log_history.json'}: {message}\n"


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda b: b["evaluations"]["easy.json"]["best"].update(seen=["0.3"]), "field 'best.seen' must be"),
        (lambda b: b["evaluations"]["easy.json"]["best"].update(seen=[]), "field 'best.seen' must be"),
        (lambda b: b["calibration"]["spread"].update(f2_5="0.01"), "field 'calibration.spread' must map"),
        (lambda b: b.update(calibration=[]), "field 'calibration.spread' must map"),
    ],
)
def test_a_hand_edited_calibrated_baseline_is_a_named_error(tmp_path, capsys, edit, message):
    from pruning.harness.calibrate import calibrate
    from tests.harness.helpers import make_run

    runs = [load_run(make_run(tmp_path / f"r{i}")) for i in range(3)]
    baseline = calibrate(runs)
    baseline["evaluations"]["easy.json"]["best"].setdefault("seen", [0.3])
    edit(baseline)
    code, _, err = _compare(runs[0].run_dir, baseline, tmp_path, capsys)
    assert code == 2 and message in err and err.count("\n") == 1, err
