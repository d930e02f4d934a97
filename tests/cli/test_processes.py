"""pruning-train and pruning-export as real processes (slow tier): a bad input exits 2 with one error line, no traceback.

Their in-process tests (test_train.py, test_export.py) check the same messages through `main()`; these add what
only a process shows, the exit status and stderr of `python -m pruning.cli.<command>`. Each starts a Python that
imports torch and transformers (5-7 s here), which is why they are not in the unit tier.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", *argv], capture_output=True, text=True, env=env, timeout=120)


def test_train_missing_config_has_no_traceback(tmp_path):
    proc = _run("pruning.cli.train", str(tmp_path / "none.yaml"))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [f"error: {tmp_path / 'none.yaml'}: no such config file"]


def test_export_missing_model_dir_has_no_traceback(tmp_path):
    proc = _run("pruning.cli.export", str(tmp_path / "none"), "--onnx", str(tmp_path / "out"))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [
        f"error: {tmp_path / 'none'}: not a pruner model directory (pruner_config.json missing)"
    ]
