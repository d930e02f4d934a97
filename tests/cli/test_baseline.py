"""``pruning-baseline``: capture and compare from the command line, exit statuses and output files."""

from __future__ import annotations

import json

import pytest

from pruning.cli.baseline import main as baseline_main
from tests.harness.helpers import make_run

pytestmark = pytest.mark.unit


def test_cli_capture_and_compare(tmp_path, capsys):
    base = make_run(tmp_path / "base")
    out = tmp_path / "b.json"
    assert baseline_main(["capture", str(base), "-o", str(out)]) == 0
    assert baseline_main(["compare", str(base), str(out)]) == 0
    assert "PASS" in capsys.readouterr().out
    worse = make_run(tmp_path / "worse", train_seconds=500.0)
    assert baseline_main(["compare", str(worse), str(out)]) == 1
    table = capsys.readouterr().out
    assert "training time (s)" in table and "FAIL" in table
    assert baseline_main(["compare", str(tmp_path / "nope"), str(out)]) == 2
    assert "not a run directory" in capsys.readouterr().err


def test_cli_writes_outputs_into_new_folders_and_names_unwritable_ones(tmp_path, capsys):
    base = make_run(tmp_path / "base")
    out = tmp_path / "new" / "dir" / "b.json"
    assert baseline_main(["capture", str(base), "-o", str(out)]) == 0
    report = tmp_path / "reports" / "cmp.json"
    assert baseline_main(["compare", str(base), str(out), "--output-json", str(report)]) == 0
    assert json.loads(report.read_text())["ok"] is True
    capsys.readouterr()
    assert baseline_main(["capture", str(base), "-o", str(tmp_path)]) == 2  # a directory
    assert capsys.readouterr().err.startswith(f"error: {tmp_path}: cannot write")
