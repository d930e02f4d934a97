"""`pruning-baseline bisect`: bad input (unit), and a real history (slow) built from the project's files.

The slow test commits the project's package and test helpers into a throwaway repository with a tiny
`cpu_e2e`-style check (train the tiny BERT for 4 steps, score a small evaluation file, compare with a baseline
captured at the first commit), then six more commits: two harmless ones, one that breaks the import of
`pruning.harness.compare`, one that repairs it, the planted one (the default pruning loss weight 1.0 → 0.3, which
the tiny config does not set), and one more harmless. The finder must name the planted commit and skip the broken
one. A second test interrupts a bisect and checks that the user's checkout is exactly as it was.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pruning.cli.baseline import main as baseline_main
from pruning.harness.artefacts import load_run
from pruning.harness.baseline import Bands, capture
from tests.harness.helpers import EASY, char_backbone, tiny_data, tiny_run

ROOT = Path(__file__).resolve().parents[2]
COPIED = [
    ".gitignore",  # as in a real checkout: the bisect command's own process writes __pycache__/ there
    "pruning",
    "conftest.py",
    "pyproject.toml",
    "pruning-config",
    "tests/__init__.py",
    "tests/conftest.py",
    "tests/shared.py",
    "tests/harness/__init__.py",
    "tests/harness/helpers.py",
    "tests/e2e/__init__.py",
    "tests/e2e/helpers.py",
]
CHECK = '''"""A cpu_e2e-style check of a tiny run against the baseline captured at the first commit."""
from pathlib import Path

from pruning.harness.baseline import load_baseline
from tests.e2e.helpers import compare_and_report
from tests.harness.helpers import char_backbone, tiny_data, tiny_run

ROOT = Path(__file__).resolve().parents[1]


def test_tiny_run_matches_its_baseline(tmp_path):
    backbone, data = char_backbone(tmp_path / "backbone"), tiny_data(tmp_path / "data")
    run = tiny_run(tmp_path, backbone, data, "run", 1, eval_file=ROOT / "tiny_eval.json")
    comparison, table = compare_and_report(run, load_baseline(ROOT / "baselines" / "tiny.json"), "tiny.json")
    assert comparison.ok, table
'''
NODE = "tests/test_tiny_check.py::test_tiny_run_matches_its_baseline"
BANDS = Bands(f2_5=0.005, fn=1, count=1, score_drift=1e-3, loss_rel=1e-3, trajectory_rel=1e-3, train_time_rel=None)


def git(repo: Path, *argv: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com"}
    env.update(GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.com")
    return subprocess.run(["git", *argv], cwd=repo, env=env, capture_output=True, text=True, check=True).stdout.strip()


def commit(repo: Path, message: str) -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{path}: {old!r} not found"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def bisect_cli(repo: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    code = "import sys; from pruning.cli.baseline import main; sys.exit(main(sys.argv[1:]))"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-c", code, "bisect", *argv], cwd=repo, env=env, capture_output=True, text=True, timeout=600
    )


def _state(repo: Path) -> tuple[str, ...]:
    """Everything of the user's checkout that a bisect must leave alone."""
    return (
        git(repo, "rev-parse", "HEAD"),
        git(repo, "symbolic-ref", "-q", "HEAD"),
        git(repo, "status", "--porcelain", "--untracked-files=all"),
        git(repo, "diff", "--cached"),
        git(repo, "worktree", "list", "--porcelain"),
        (repo / "notes.txt").read_text(),
        git(repo, "for-each-ref"),  # refs/bisect/* included
        git(repo, "stash", "list"),
        str(sorted(p.name for p in (repo / ".git").iterdir() if p.name.startswith("BISECT"))),
    )


@pytest.fixture(scope="module")
def history(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    repo = tmp_path_factory.mktemp("bisect") / "repo"
    repo.mkdir()
    for name in COPIED:
        source, target = ROOT / name, repo / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copyfile(source, target)
    items = json.loads(EASY.read_text(encoding="utf-8"))[:8]
    (repo / "tiny_eval.json").write_text(json.dumps(items, ensure_ascii=False), encoding="utf-8")
    (repo / "tests" / "test_tiny_check.py").write_text(CHECK, encoding="utf-8")
    work = tmp_path_factory.mktemp("bisect_baseline")
    backbone, data = char_backbone(work / "backbone"), tiny_data(work / "data")
    run = tiny_run(work, backbone, data, "run", 1, eval_file=repo / "tiny_eval.json")
    (repo / "baselines").mkdir()
    (repo / "baselines" / "tiny.json").write_text(json.dumps(capture(load_run(run), BANDS)), encoding="utf-8")
    git(repo, "init", "-q", "-b", "main")
    shas = {"c0": commit(repo, "the tiny check and its baseline")}
    (repo / "NOTES.md").write_text("harmless\n")
    shas["c1"] = commit(repo, "docs: a note")
    (repo / "NOTES.md").write_text("harmless, twice\n")
    shas["c2"] = commit(repo, "docs: another note")
    compare_py = repo / "pruning" / "harness" / "compare.py"
    edit(compare_py, "import math\n", "import math\nimport not_a_module_of_this_project\n")
    shas["c3"] = commit(repo, "harness: an import that breaks")
    edit(compare_py, "import not_a_module_of_this_project\n", "")
    shas["c4"] = commit(repo, "harness: the import repaired")
    edit(
        repo / "pruning" / "config.py",
        "pruning_weight: float = field(default=1.0",
        "pruning_weight: float = field(default=0.3",
    )
    shas["c5"] = commit(repo, "config: a new default pruning weight")
    (repo / "NOTES.md").write_text("harmless, three times\n")
    shas["c6"] = commit(repo, "docs: a third note")
    (repo / "notes.txt").write_text("the user's untracked file\n")  # untracked: must survive every bisect
    return repo, shas


@pytest.mark.slow
def test_bisect_names_the_planted_commit_and_skips_the_broken_one(history, tmp_path):
    repo, shas = history
    before = _state(repo)
    page = tmp_path / "culprit.html"
    done = bisect_cli(repo, "--good", shas["c0"], "--bad", "main", "--test", NODE, "--report", str(page))
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    assert f"first bad commit: {shas['c5']}\n  config: a new default pruning weight\n  authored 20" in out
    assert f"skipped {shas['c3'][:10]}: collection failed" in out, out
    assert f"[bisect] {shas['c3'][:10]} skip" in out and f"[bisect] {shas['c5'][:10]} bad" in out
    assert f"[bisect] {shas['c4'][:10]} good" in out
    tested = int(out.split(" commits tested (")[0].rsplit("\n", 1)[-1])
    assert 4 <= tested <= 7 and "(1 skipped)" in out
    assert f"report: {page}" in out and "FAIL: " in page.read_text()
    assert _state(repo) == before


@pytest.mark.slow
def test_an_interrupted_bisect_leaves_the_checkout_untouched(history):
    repo, shas = history
    before = _state(repo)
    code = "import sys; from pruning.cli.baseline import main; sys.exit(main(sys.argv[1:]))"
    argv = [sys.executable, "-c", code, "bisect", "--good", shas["c0"], "--bad", shas["c6"], "--test", NODE]
    proc = subprocess.Popen(
        argv, cwd=repo, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and "worktree" not in git(repo, "worktree", "list").split("\n", 1)[-1]:
        time.sleep(0.2)
    assert len(git(repo, "worktree", "list").splitlines()) == 2, "the bisect never set up its worktree"
    time.sleep(3)  # let the first check get going
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130 and b"interrupted" in err
    assert _state(repo) == before
    assert subprocess.run(["git", "bisect", "log"], cwd=repo, capture_output=True).returncode != 0


@pytest.mark.unit
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, monkeypatch):
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "a.txt").write_text("1")
    first = commit(repo, "one")
    (repo / "a.txt").write_text("2")
    second = commit(repo, "two")
    git(repo, "checkout", "-q", "-b", "side", first)
    (repo / "b.txt").write_text("3")
    side = commit(repo, "side")
    git(repo, "checkout", "-q", "main")
    monkeypatch.chdir(repo)
    cases = [
        (["--good", "nope", "--bad", second], "--good 'nope': unknown revision"),
        (["--good", side, "--bad", second], f"--good {side} is not an ancestor of --bad {second}"),
        (["--good", second, "--bad", "main"], "are the same commit"),
        (["--good", first, "--bad", second, "--baseline", "missing.json"], "--baseline missing.json: no such file"),
        (["--good", first, "--bad", second, "--timeout", "0"], "--timeout: must be a positive number"),
    ]
    for argv, message in cases:
        assert baseline_main(["bisect", *argv]) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, err
    (repo / "a.txt").write_text("uncommitted")
    assert baseline_main(["bisect", "--good", first, "--bad", "HEAD"]) == 2
    assert "is HEAD and the checkout has uncommitted changes" in capsys.readouterr().err
    monkeypatch.chdir(tmp_path)
    assert baseline_main(["bisect", "--good", first, "--bad", second]) == 2
    assert "not inside a git checkout" in capsys.readouterr().err
    assert git(repo, "worktree", "list").count("\n") == 0  # nothing was set up
