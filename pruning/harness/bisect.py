"""The commit finder: the first commit between a good and a bad one at which a check fails (`git bisect run`).

Everything happens in a temporary linked worktree (its own HEAD, index and bisect state), so the user's checkout,
branch, index and untracked files are never touched, even when the bisect is interrupted: the worktree is removed
on the way out. Each commit is judged by `bisect_oracle` (copied out of the package once, so every commit is
judged by the same code) with this Python's environment: a tier (`-m cpu_e2e`) or test node ids. Commits that
cannot be set up, imported or collected are skipped, never blamed. The good end must pass and the bad end fail
before bisecting starts.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pruning.errors import PruningError
from pruning.harness import bisect_oracle

REPORT_NAME = "report.html"


@dataclass
class Step:
    commit: str
    verdict: str  # good / bad / skip
    reason: str


@dataclass
class BisectResult:
    """The first bad commit (or the candidates when skipped commits hide it) and every step taken."""

    first_bad: str | None
    candidates: list[str]
    steps: list[Step] = field(default_factory=list)
    report: Path | None = None
    report_note: str = ""

    @property
    def skipped(self) -> list[Step]:
        return [s for s in self.steps if s.verdict == "skip"]


def _git(repo: Path, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(["git", *argv], cwd=repo, capture_output=True, text=True)
    if check and done.returncode != 0:
        raise PruningError(f"git {' '.join(argv)}: {done.stderr.strip() or done.stdout.strip()}")
    return done


def repo_root(start: Path) -> Path:
    done = _git(start, "rev-parse", "--show-toplevel", check=False)
    if done.returncode != 0:
        raise PruningError(f"{start}: not inside a git checkout")
    return Path(done.stdout.strip())


def resolve(repo: Path, rev: str, what: str) -> str:
    done = _git(repo, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}", check=False)
    if done.returncode != 0:
        raise PruningError(f"{what} {rev!r}: unknown revision")
    return done.stdout.strip()


def describe(repo: Path, commit: str) -> dict[str, str]:
    """Hash, subject and author date of a commit."""
    sha, subject, date = _git(repo, "show", "-s", "--format=%H%x00%s%x00%aI", commit).stdout.strip().split("\0")
    return {"commit": sha, "subject": subject, "date": date}


def check_range(repo: Path, good: str, bad: str, good_rev: str, bad_rev: str) -> None:
    """Bad input stops here: good not an ancestor of bad, or uncommitted changes under a bad end that is HEAD."""
    if good == bad:
        raise PruningError(f"--good {good_rev} and --bad {bad_rev} are the same commit")
    if _git(repo, "merge-base", "--is-ancestor", good, bad, check=False).returncode != 0:
        raise PruningError(f"--good {good_rev} is not an ancestor of --bad {bad_rev}")
    head = _git(repo, "rev-parse", "HEAD").stdout.strip()
    dirty = _git(repo, "status", "--porcelain", "--untracked-files=no").stdout.strip()
    if bad == head and dirty:
        raise PruningError(
            f"--bad {bad_rev} is HEAD and the checkout has uncommitted changes: the bisect tests commits only; "
            "commit or stash them, or name the commit"
        )


@contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM (a CI job cancelled) unwinds like Ctrl-C, so the worktree is removed either way."""

    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _stream(argv: list[str], cwd: Path, echo: Callable[[str], None], log: Path) -> int:
    """Run a child in its own process group, keep its output in `log`, echo the oracle's lines; kill on interrupt."""
    with open(log, "a", encoding="utf-8") as out:
        proc = subprocess.Popen(
            argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
        )
        try:
            assert proc.stdout is not None
            for line in proc.stdout:
                out.write(line)
                if line.startswith("[bisect]"):
                    echo(line.rstrip())
            return proc.wait()
        except BaseException:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise


def _read_steps(path: Path) -> list[Step]:
    if not path.is_file():
        return []
    return [Step(**json.loads(line)) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def bisect(
    repo: Path,
    good_rev: str,
    bad_rev: str,
    tier: str | None = None,
    tests: list[str] | None = None,
    baseline: Path | None = None,
    timeout: float | None = None,
    report: Path | None = None,
    echo: Callable[[str], None] = print,
) -> BisectResult:
    """Find the first commit in (good, bad] at which the check fails; see the module docstring."""
    good, bad = resolve(repo, good_rev, "--good"), resolve(repo, bad_rev, "--bad")
    check_range(repo, good, bad, good_rev, bad_rev)
    if baseline is not None and not baseline.is_file():
        raise PruningError(f"--baseline {baseline}: no such file")
    with tempfile.TemporaryDirectory(prefix="pruning-bisect-") as tmp, _terminate_as_interrupt():
        work = Path(tmp)
        worktree, steps, runs, log = work / "worktree", work / "steps.jsonl", work / "runs", work / "bisect.log"
        oracle = work / "oracle.py"
        shutil.copyfile(bisect_oracle.__file__, oracle)
        argv = [sys.executable, str(oracle), "--worktree", str(worktree), "--python", sys.executable]
        argv += ["--runs", str(runs), "--steps", str(steps)]
        argv += ["--tier", tier] if tier else [a for t in tests or [] for a in ("--test", t)]
        if timeout is not None:
            argv += ["--timeout", str(timeout)]
        if baseline is not None:
            saved = work / "baseline" / baseline.name
            saved.parent.mkdir()
            shutil.copyfile(baseline, saved)
            argv += ["--baseline", str(saved), str(baseline.resolve().relative_to(repo.resolve()))]
        _git(repo, "worktree", "add", "--detach", "--quiet", str(worktree), bad)
        try:
            return _run_bisect(repo, worktree, good, bad, good_rev, bad_rev, argv, steps, runs, log, report, echo)
        finally:
            _git(repo, "worktree", "remove", "--force", str(worktree), check=False)
            _git(repo, "worktree", "prune", check=False)


def _run_bisect(
    repo: Path,
    worktree: Path,
    good: str,
    bad: str,
    good_rev: str,
    bad_rev: str,
    argv: list[str],
    steps: Path,
    runs: Path,
    log: Path,
    report: Path | None,
    echo: Callable[[str], None],
) -> BisectResult:
    for commit, rev, want, role in ((bad, bad_rev, 1, "--bad"), (good, good_rev, 0, "--good")):
        _git(worktree, "checkout", "--quiet", "--detach", commit)
        code = _stream(argv, worktree, echo, log)
        step = _read_steps(steps)[-1]
        if code != want:
            what = "cannot be tested" if code == bisect_oracle.SKIP else ("passes" if code == 0 else "fails")
            raise PruningError(f"{role} {rev} {what} the check ({step.reason}): nothing to bisect")
    _git(worktree, "bisect", "start", bad, good)
    _stream(["git", "bisect", "run", *argv], worktree, echo, log)
    bisect_log = _git(worktree, "bisect", "log", check=False).stdout
    _git(worktree, "bisect", "reset", "--quiet", check=False)
    text = log.read_text(encoding="utf-8")
    result = BisectResult(None, [], _read_steps(steps))
    found = [line.split()[0] for line in text.splitlines() if line.endswith("is the first bad commit")]
    if found:
        result.first_bad = found[-1]
    elif "could be any of:" in text:
        tail = text.split("could be any of:")[-1].split("We cannot bisect more")[0]
        result.candidates = [w for w in tail.split() if len(w) == 40]
    else:
        raise PruningError(f"git bisect ended without an answer:\n{bisect_log.strip()}")
    if result.first_bad:
        pages = sorted((runs / result.first_bad).rglob(REPORT_NAME))
        if not pages:
            result.report_note = "the check at that commit wrote no report page (it compares nothing, or predates them)"
        else:
            target = report or Path(f"bisect-{result.first_bad[:10]}.html")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(pages[0], target)
            result.report = target
            if len(pages) > 1:
                result.report_note = f"{len(pages)} report pages; the first, {pages[0].parent.name}, is copied"
    return result
