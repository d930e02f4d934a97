"""The history ledger: what a line records, appends from two processes at once, and torn lines after a crash."""

from __future__ import annotations

import json
import multiprocessing
import os

import pytest

from pruning.cli.baseline import main as baseline_main
from pruning.errors import PruningError
from pruning.harness.artefacts import load_run
from pruning.harness.baseline import capture
from pruning.harness.compare import compare
from pruning.harness.history import ENV, append, entry, key_metrics, read
from tests.harness.helpers import make_run

pytestmark = pytest.mark.unit


def test_entry_records_the_run_and_its_key_metrics(tmp_path, baseline):
    run = load_run(make_run(tmp_path / "run", scores=[[0.8, 0.25, 0.05], [0.15, 0.09]]))
    comparison = compare(run, baseline, "base.json")
    record = entry(run, comparison, tmp_path / "report.html")
    assert record["commit"] == "a" * 40 and record["dirty"] is False
    assert record["device"] == "cpu: x86_64 (2 threads)" and record["versions"]["torch"] == "2.13.0+cpu"
    assert record["verdict"] == "FAIL" and "easy.json: recall at 0.3" in record["failed"]
    assert record["report"] == str(tmp_path / "report.html") and record["baseline"] == "base.json"
    assert record["significance"] == {"easy.json": "within noise"}
    metrics = {m["name"]: m for m in record["metrics"]}
    assert set(metrics) == {
        "easy.json: F2.5 at 0.3",
        "easy.json: FN at 0.3",
        "easy.json: recall at 0.3",
        "final_eval ranking_loss",
        "final_eval pruning_loss",
    }
    assert metrics["easy.json: FN at 0.3"] == {
        "name": "easy.json: FN at 0.3",
        "value": 1,
        "baseline": 0,
        "low": -2.0,
        "high": 2.0,
    }
    recall = metrics["easy.json: recall at 0.3"]
    assert recall["value"] == 0.5 and recall["low"] == pytest.approx(0.99) and recall["high"] is None


def test_key_metrics_skip_checks_without_numbers(tmp_path, baseline):
    run = load_run(make_run(tmp_path / "run"))
    comparison = compare(run, baseline)
    comparison.checks[1].obtained = None  # e.g. a row the run did not sweep
    assert comparison.checks[1].name not in {m["name"] for m in key_metrics(comparison)}


def _append_many(path, tag, n):
    for i in range(n):
        append(path, {"metrics": [], "writer": tag, "i": i, "pad": "x" * 5000})


def test_a_value_json_cannot_hold_is_written_as_its_text(tmp_path):
    """A team's nightly script may add its own fields: a path or a time is kept as text, not refused."""
    report = tmp_path / "nights" / "report.html"
    path = append(tmp_path / "ledger.jsonl", {"metrics": [], "report": report})
    assert read(path).entries == [{"metrics": [], "report": str(report)}]


def test_two_processes_appending_at_once_never_interleave(tmp_path):
    path = tmp_path / "ledger.jsonl"
    ctx = multiprocessing.get_context("fork")  # the children only append: no torch threads involved
    procs = [ctx.Process(target=_append_many, args=(path, tag, 150)) for tag in ("a", "b")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
        assert p.exitcode == 0
    ledger = read(path)
    assert ledger.skipped == []
    for tag in ("a", "b"):
        assert [r["i"] for r in ledger.entries if r["writer"] == tag] == list(range(150))


def test_a_torn_last_line_is_reported_skipped_and_ended_before_the_next_append(tmp_path, caplog):
    path = tmp_path / "ledger.jsonl"
    append(path, {"metrics": [], "n": 1})
    with open(path, "ab") as f:  # a crash in the middle of a write
        f.write(b'{"metrics": [], "n": 2, "ha')
    ledger = read(path)
    assert [r["n"] for r in ledger.entries] == [1] and ledger.skipped == [(2, "torn (not a whole JSON entry)")]
    assert "line 2 skipped: torn" in caplog.text
    append(path, {"metrics": [], "n": 3})
    ledger = read(path)
    assert [r["n"] for r in ledger.entries] == [1, 3] and ledger.skipped == [(2, "torn (not a whole JSON entry)")]
    path.write_text(path.read_text() + '["not", "an entry"]\n')
    assert read(path).skipped[-1] == (4, "not a ledger entry")


def test_unreadable_ledger_is_a_named_error(tmp_path):
    with pytest.raises(PruningError, match="cannot read the history ledger"):
        read(tmp_path / "missing.jsonl")
    (tmp_path / "file").write_text("")
    with pytest.raises(PruningError, match="cannot append to the history ledger"):
        append(tmp_path / "file" / "x.jsonl", {"metrics": []})


def test_compare_appends_when_the_variable_is_set(tmp_path, baseline, monkeypatch, capsys):
    run = make_run(tmp_path / "run")
    (tmp_path / "base.json").write_text(json.dumps(baseline))
    argv = ["compare", str(run), str(tmp_path / "base.json")]
    monkeypatch.delenv(ENV, raising=False)
    assert baseline_main(argv) == 0
    ledger = tmp_path / "nights" / "ledger.jsonl"
    assert not ledger.exists()
    monkeypatch.setenv(ENV, str(ledger))
    assert baseline_main([*argv, "--report", str(tmp_path / "r.html")]) == 0
    assert baseline_main(argv) == 0
    records = read(ledger).entries
    assert [r["verdict"] for r in records] == ["pass", "pass"]
    assert records[0]["report"] == str(tmp_path / "r.html") and records[1]["report"] is None
    assert oct(os.stat(ledger).st_mode & 0o777) == "0o644"
    capsys.readouterr()
    # capture and report write no ledger line: only comparisons do
    assert baseline_main(["capture", str(run), "-o", str(tmp_path / "b2.json")]) == 0
    assert len(read(ledger).entries) == 2
    assert capture(load_run(run))["evaluations"]
