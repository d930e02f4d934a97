"""The CI workflows and the scripts they run: valid against GitHub's workflow schema (check-jsonschema's bundled
copy, offline) and clean under shellcheck; a broken workflow or script fails the same checks."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
SCRIPTS = [*sorted((ROOT / "scripts").glob("*.sh")), ROOT / ".ci" / "run"]


def _schema_check(*paths: Path) -> subprocess.CompletedProcess[str]:
    tool = Path(sys.executable).with_name("check-jsonschema")
    if not tool.exists():
        pytest.skip("check-jsonschema is not installed (pip install -e '.[lint]')")
    argv = [str(tool), "--builtin-schema", "vendor.github-workflows", *map(str, paths)]
    return subprocess.run(argv, capture_output=True, text=True, timeout=120)


def _shellcheck(*paths: Path) -> subprocess.CompletedProcess[str]:
    if shutil.which("shellcheck") is None:
        if os.environ.get("PRUNING_REQUIRE_BROWSER") == "1":  # scripts/test.sh (CI): the tools are installed there
            pytest.fail("shellcheck is not installed: apt-get install shellcheck (scripts/setup-env.sh does as root)")
        pytest.skip("shellcheck is not installed: apt-get install shellcheck")
    return subprocess.run(["shellcheck", *map(str, paths)], capture_output=True, text=True, timeout=120)


def test_the_workflows_validate_and_a_broken_one_does_not(tmp_path):
    assert [p.name for p in WORKFLOWS] == ["ci.yml", "nightly-gpu.yml", "unit.yml"]
    done = _schema_check(*WORKFLOWS)
    assert done.returncode == 0, done.stdout + done.stderr
    broken = tmp_path / "broken.yml"
    text = (ROOT / ".github" / "workflows" / "unit.yml").read_text()
    broken.write_text(text.replace("runs-on: ubuntu-latest", "runs_on: ubuntu-latest"))
    done = _schema_check(broken)
    assert done.returncode != 0 and "runs-on" in done.stdout + done.stderr


def test_the_workflows_do_what_the_three_uses_need():
    flows = {p.stem: yaml.safe_load(p.read_text()) for p in WORKFLOWS}
    unit, ci, nightly = flows["unit"], flows["ci"], flows["nightly-gpu"]
    # PyYAML reads the key `on` as True
    assert set(unit[True]) == {"push", "pull_request"}
    steps = unit["jobs"]["unit"]["steps"]
    assert any(s.get("with", {}).get("cache") == "pip" for s in steps)
    assert any("pytest -m unit" in s.get("run", "") for s in steps)
    assert any(s.get("run") == "bash scripts/test.sh" for s in ci["jobs"]["test"]["steps"])
    assert set(nightly[True]) == {"schedule", "workflow_dispatch"}
    job = nightly["jobs"]["nightly"]
    assert job["runs-on"][0] == "self-hosted" and "GPU_RUNNER_LABEL" in job["runs-on"][1]
    runs = [s.get("run", "") for s in job["steps"]]
    assert "bash scripts/nightly.sh" in runs
    upload = next(s for s in job["steps"] if str(s.get("uses", "")).startswith("actions/upload-artifact"))
    assert upload["if"] == "always()" and "nightly/" in upload["with"]["path"]


def test_the_scripts_pass_shellcheck_and_a_broken_one_does_not(tmp_path):
    done = _shellcheck(*SCRIPTS)
    assert done.returncode == 0, done.stdout
    broken = tmp_path / "broken.sh"
    broken.write_text('#!/usr/bin/env bash\ncd $(dirname "$0")\nrm -rf $TARGET/*\n')
    assert _shellcheck(broken).returncode != 0


def test_tox_lint_checks_every_workflow_and_script():
    """tox.ini lists the files (tox runs no shell globs): a new workflow or script must be added there."""
    lint = (ROOT / "tox.ini").read_text().split("[testenv:lint]")[1]
    for path in [*WORKFLOWS, *SCRIPTS]:
        assert str(path.relative_to(ROOT)) in lint, f"tox -e lint does not check {path.relative_to(ROOT)}"
