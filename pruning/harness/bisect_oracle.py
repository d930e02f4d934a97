"""One step of `pruning-baseline bisect`: is the commit checked out in this worktree good, bad or untestable?

Run by `git bisect run` from a copy outside the worktree (so every commit is judged by the same code, even one
that predates this file). Standard library only. Exit 0 good, 1 bad, 125 skip: a commit whose package does not
import, whose tests do not collect (pytest's exit 2 or 4), that selects no test (exit 5), whose fixtures fail (errors
without failures in pytest's JUnit report) or that runs past the time limit is skipped, never blamed. After the
check the worktree is reset to the commit, so that bisect can check out the next one. Each step appends one JSON
line (commit, verdict, reason) to the steps file and prints it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

GOOD, BAD, SKIP = 0, 1, 125
MAX_TAIL = 2000


def _run(argv: list[str], cwd: Path, env: dict[str, str], timeout: float | None, log: Path) -> int | None:
    """Run in its own process group, output appended to `log`; None when it ran past `timeout` (then killed)."""
    with open(log, "ab") as out:
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            return proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return None
        except BaseException:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise


def _tail(log: Path) -> str:
    text = log.read_text(encoding="utf-8", errors="replace")[-MAX_TAIL:]
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def judge(args: argparse.Namespace, worktree: Path, commit: str, log: Path) -> tuple[int, str]:
    """The verdict on the checked-out commit and why."""
    env = {k: v for k, v in os.environ.items() if k != "PRUNING_HISTORY"}  # a bisect is not a night
    env.update(PYTHONPATH=str(worktree), PYTHONDONTWRITEBYTECODE="1")
    for source, target in args.baseline:
        shutil.copyfile(source, worktree / target)
    py = [args.python]
    if _run([*py, "-c", "import pruning"], worktree, env, args.timeout, log) != 0:
        return SKIP, f"the package does not import ({_tail(log)})"
    selection = ["-m", args.tier] if args.tier else list(args.test)
    pytest = [*py, "-m", "pytest", "-p", "no:cacheprovider", *selection]
    basetemp, junit = Path(args.runs) / commit, Path(args.runs) / f"{commit}.xml"
    start = time.monotonic()
    code = _run([*pytest, "-q", f"--basetemp={basetemp}", f"--junitxml={junit}"], worktree, env, args.timeout, log)
    took = f"{time.monotonic() - start:.0f} s"
    if code is None:
        return SKIP, f"ran past the time limit of {args.timeout:g} s"
    if code == 0:
        return GOOD, f"the check passed ({took})"
    if code in (2, 4):  # interrupted by a collection error; "found no collectors" when a named module fails
        return SKIP, f"collection failed ({_tail(log)})"
    if code == 5:
        return SKIP, "no test selected"
    failures, errors = _outcomes(junit)
    if code == 1 and failures:
        return BAD, f"the check failed ({took}; {failures} failed)"
    if code == 1 and errors:
        return SKIP, f"the check could not be set up ({errors} errors in fixtures: {_tail(log)})"
    return SKIP, f"pytest could not run the check (exit {code}: {_tail(log)})"


def _outcomes(junit: Path) -> tuple[int, int]:
    """Tests that failed, and tests that errored (a fixture or setup failed), from pytest's JUnit XML report."""
    try:
        cases = ET.parse(junit).getroot().iter("testcase")
    except (OSError, ET.ParseError):
        return 0, 0
    failures = errors = 0
    for case in cases:
        failures += case.find("failure") is not None
        errors += case.find("error") is not None and case.find("failure") is None
    return failures, errors


def _git(worktree: Path, *argv: str) -> str:
    return subprocess.run(["git", *argv], cwd=worktree, capture_output=True, text=True, check=True).stdout.strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="one bisect step")
    parser.add_argument("--worktree", type=Path, required=True)
    parser.add_argument("--python", required=True)
    parser.add_argument("--tier")
    parser.add_argument("--test", action="append", default=[])
    parser.add_argument("--baseline", nargs=2, action="append", default=[], metavar=("SOURCE", "TARGET"))
    parser.add_argument("--timeout", type=float)
    parser.add_argument("--runs", required=True, help="per-commit pytest --basetemp folders go under here")
    parser.add_argument("--steps", type=Path, required=True, help="JSON Lines file of the steps so far")
    args = parser.parse_args(argv)
    worktree = args.worktree
    commit = _git(worktree, "rev-parse", "HEAD")
    log = Path(args.runs) / f"{commit}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    try:
        verdict, reason = judge(args, worktree, commit, log)
    finally:
        _git(worktree, "reset", "-q", "--hard")
        _git(worktree, "clean", "-fdq")
    name = {GOOD: "good", BAD: "bad", SKIP: "skip"}[verdict]
    with open(args.steps, "a", encoding="utf-8") as f:
        f.write(json.dumps({"commit": commit, "verdict": name, "reason": reason}) + "\n")
    print(f"[bisect] {commit[:10]} {name}: {reason}", flush=True)
    return verdict


if __name__ == "__main__":
    sys.exit(main())
