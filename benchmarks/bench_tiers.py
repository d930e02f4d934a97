"""Wall time of the test tiers (issue 28's per-commit budget): each tier run whole, several times, medians reported.

    python benchmarks/bench_tiers.py [--tier unit] [--tier "unit or slow or cpu_e2e"] [--runs 3] [-- PYTEST ARGS]
    python benchmarks/bench_tiers.py --tier unit -- -n auto      # the per-commit command, one worker per core

Each run is a fresh `python -m pytest -m TIER -q -p no:cacheprovider` process timed from start to exit, the way a
developer waits for it; pytest's own figure (tests only, without start-up and collection) is reported beside it.
Prints one line per tier (median, minimum, maximum, tests passed) and one JSON line. A run that fails is an error:
the time of a red tier means nothing. The JSON says whether PYTHONDONTWRITEBYTECODE was set (scripts/test.sh unsets
it): without bytecode caching every run compiles the package and rewrites the test modules again.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SUMMARY = re.compile(r"(\d+) passed.* in ([\d.]+)s")


def time_tier(tier: str, runs: int, extra: list[str]) -> dict[str, object]:
    walls, inside, passed = [], [], 0
    for _ in range(runs):
        cmd = [sys.executable, "-m", "pytest", "-m", tier, "-q", "-p", "no:cacheprovider", *extra]
        start = time.perf_counter()
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        walls.append(time.perf_counter() - start)
        last = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
        match = SUMMARY.search(last)
        if proc.returncode != 0 or match is None:
            failed = "\n".join(line for line in proc.stdout.splitlines() if line.startswith(("FAILED", "ERROR")))
            raise SystemExit(f"tier {tier!r}: pytest exited {proc.returncode}: {last or proc.stderr[-400:]}\n{failed}")
        passed, seconds = int(match.group(1)), float(match.group(2))
        inside.append(seconds)
    return {
        "tier": tier,
        "runs": runs,
        "tests_passed": passed,
        "wall_median_s": round(statistics.median(walls), 1),
        "wall_min_s": round(min(walls), 1),
        "wall_max_s": round(max(walls), 1),
        "pytest_median_s": round(statistics.median(inside), 1),
        "pytest_args": extra,
        "bytecode_cache": not os.environ.get("PYTHONDONTWRITEBYTECODE"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tier", action="append", help="a -m expression (repeatable; default: unit)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("pytest_args", nargs="*", help="after --: passed to pytest (e.g. -n 2)")
    args = parser.parse_args()
    results = [time_tier(tier, args.runs, args.pytest_args) for tier in args.tier or ["unit"]]
    for r in results:
        print(
            f"{r['tier']}: median {r['wall_median_s']} s wall (min {r['wall_min_s']}, max {r['wall_max_s']}; "
            f"pytest's own {r['pytest_median_s']} s) over {r['runs']} runs, {r['tests_passed']} passed"
        )
    print(json.dumps(results))


if __name__ == "__main__":
    main()
