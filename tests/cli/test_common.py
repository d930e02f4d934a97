"""What every entry point shares: a closed pipe on stdout ends quietly (no traceback), in-process and for real."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pruning.cli._common import run_cli

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]


def test_a_closed_pipe_ends_quietly_with_141(monkeypatch, capsys):
    read, write = os.pipe()
    os.close(read)  # the reader (`head`) has gone
    stream = os.fdopen(write, "w")
    monkeypatch.setattr(sys, "stdout", stream)

    def body(argv):
        for _ in range(10_000):
            print("x" * 100)
        return 0

    assert run_cli(body, []) == 141
    stream.write("after\n")  # stdout now goes to /dev/null: the interpreter's final flush cannot fail
    stream.flush()
    assert capsys.readouterr().err == ""


def _pipe_closed_early(module: str, *args: str) -> tuple[int, str]:
    """`python -m MODULE ARGS | head -1` where head has gone before the first write (closed at once)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", module, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=ROOT
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # long before the command has imported torch and written anything
    err = proc.stderr.read().decode()
    return proc.wait(timeout=120), err


def test_exec_json_piped_into_head_ends_without_a_traceback(tmp_path):
    data = tmp_path / "data.json"
    data.write_text(json.dumps([{"query": f"q{i}", "contexts": ["a。", "b。"], "labels": [1, 0]} for i in range(50)]))
    scores = tmp_path / "scores.json"
    scores.write_text(json.dumps({"items": [{"query": f"q{i}", "scores": [0.7, 0.2]} for i in range(50)]}))
    code, err = _pipe_closed_early("pruning.cli.exec", "--scores", str(scores), "-j", str(data), "--format", "json")
    assert "Traceback" not in err and "BrokenPipeError" not in err, err
    assert code == 141


def test_baseline_compare_json_piped_into_head_ends_without_a_traceback(tmp_path):
    from pruning.harness.artefacts import load_run
    from pruning.harness.baseline import capture
    from tests.harness.helpers import make_run

    run = make_run(tmp_path / "run")
    baseline = tmp_path / "b.json"
    baseline.write_text(json.dumps(capture(load_run(run))))
    code, err = _pipe_closed_early("pruning.cli.baseline", "compare", str(run), str(baseline), "--format", "json")
    assert "Traceback" not in err and "BrokenPipeError" not in err, err
    assert code == 141
