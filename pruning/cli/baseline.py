"""`pruning-baseline capture RUN_DIR -o BASELINE.json`, `pruning-baseline calibrate RUN_DIR RUN_DIR RUN_DIR ... -o
BASELINE.json` (bands from the spread of repeated runs; docs/harness-power.md) and `pruning-baseline compare RUN_DIR
BASELINE [--report FILE]`, `pruning-baseline report RUN_DIR BASELINE -o report.html`, `pruning-baseline history
LEDGER -o trend.html` and `pruning-baseline bisect --good REV --bad REV [--tier T | --test NODEID]` (docs/nightly.md).

compare prints the pass/fail table (for nightly logs) and exits 1 when a check fails, 2 on bad input. report
writes the page (docs/report.md) and prints its verdict; it exits 0 once the page is written, whatever the verdict.
history exits 0 (1 with --fail-on-drift when a drift alarm fires); bisect exits 0 when it names the first bad
commit, 1 when skipped commits hide it, 2 on bad input or when --good fails or --bad passes the check.
BASELINE is a captured JSON or the seed YAML (baselines/seed_jpre-xs-minimal_20250730.yaml).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

from pruning.cli._common import ArgumentParser, run_cli, write_output


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog="pruning-baseline", description="Capture a baseline from a run, or check a run against one."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    cap = sub.add_parser("capture", help="write a baseline JSON from a finished run directory")
    cap.add_argument("run_dir", type=Path)
    cap.add_argument("-o", "--output", type=Path, required=True, help="baseline JSON to write")
    cal = sub.add_parser(
        "calibrate", help="write a baseline whose bands come from the spread of >= 3 runs of one config"
    )
    cal.add_argument("run_dirs", type=Path, nargs="+", metavar="run_dir")
    cal.add_argument("-o", "--output", type=Path, required=True, help="baseline JSON to write")
    cal.add_argument(
        "--k",
        type=float,
        default=None,
        help="band = max(floor, k × spread); default: the 99 %% prediction factor for the number of runs",
    )
    cmp_ = sub.add_parser("compare", help="check a run against a baseline; exit 1 on any failed check")
    cmp_.add_argument("run_dir", type=Path)
    cmp_.add_argument("baseline", type=Path)
    cmp_.add_argument("--format", choices=("text", "json"), default="text")
    cmp_.add_argument("--output-json", type=Path, help="also write the structured result here")
    cmp_.add_argument("--report", type=Path, metavar="FILE", help="also write the report page (HTML) here")
    rep = sub.add_parser(
        "report", help="write the report page: verdict, checks, curves, significance, drifting contexts, setup"
    )
    rep.add_argument("run_dir", type=Path)
    rep.add_argument("baseline", type=Path)
    rep.add_argument("-o", "--output", type=Path, required=True, help="HTML file to write")
    his = sub.add_parser("history", help="draw a history ledger's key metrics over the nights and flag slow drift")
    his.add_argument("ledger", type=Path, help="the JSON Lines file PRUNING_HISTORY appends to")
    his.add_argument("-o", "--output", type=Path, required=True, help="trend.html or trend.png")
    his.add_argument("--run-length", type=int, default=5, help="nights on one side of the baseline that flag drift")
    his.add_argument("--fail-on-drift", action="store_true", help="exit 1 when a drift alarm fires")
    bis = sub.add_parser("bisect", help="find the first commit at which a check fails (git bisect in a temp worktree)")
    bis.add_argument("--good", required=True, help="a revision at which the check passes")
    bis.add_argument("--bad", required=True, help="a later revision at which it fails")
    which = bis.add_mutually_exclusive_group()
    which.add_argument("--tier", choices=("unit", "slow", "cpu_e2e", "gpu_e2e"), help="the oracle: a test tier")
    which.add_argument("--test", action="append", metavar="NODEID", help="the oracle: a pytest node id (repeatable)")
    bis.add_argument("--baseline", type=Path, help="use this file of the checkout (as it is now) at every commit")
    bis.add_argument("--timeout", type=float, help="seconds per commit; a commit that runs longer is skipped")
    bis.add_argument("--report", type=Path, help="where to copy the first bad commit's report page")
    return parser


def _bisect(args: argparse.Namespace) -> int:
    from pruning.errors import PruningError
    from pruning.harness.bisect import bisect, describe, repo_root

    repo = repo_root(Path.cwd())
    if args.timeout is not None and not args.timeout > 0:
        raise PruningError(f"--timeout: must be a positive number of seconds, got {args.timeout:g}")
    tier = None if args.test else (args.tier or "cpu_e2e")
    oracle = f"-m {tier}" if tier else " ".join(args.test)
    print(f"bisecting {args.good}..{args.bad} in a temporary worktree; oracle: pytest {oracle}")
    result = bisect(repo, args.good, args.bad, tier, args.test, args.baseline, args.timeout, args.report)
    tested = len(result.steps)
    for step in result.skipped:
        print(f"skipped {step.commit[:10]}: {step.reason}")
    if result.first_bad is None:
        print(f"undecided after {tested} commits tested: skipped commits hide the first bad one; it is one of:")
        for commit in result.candidates:
            c = describe(repo, commit)
            print(f"  {c['commit'][:10]} {c['date']} {c['subject']}")
        return 1
    c = describe(repo, result.first_bad)
    print(f"first bad commit: {c['commit']}\n  {c['subject']}\n  authored {c['date']}")
    print(f"{tested} commits tested ({len(result.skipped)} skipped)")
    print(f"report: {result.report}" if result.report else f"report: none ({result.report_note})")
    if result.report and result.report_note:
        print(result.report_note)
    return 0


def _main(argv: Sequence[str] | None) -> int:
    from pruning.harness.artefacts import load_run
    from pruning.harness.baseline import capture, load_baseline
    from pruning.harness.compare import compare
    from pruning.harness.render import render_table

    args = build_parser().parse_args(argv)
    if args.command == "calibrate":
        from pruning.harness.calibrate import calibrate

        baseline = calibrate([load_run(d) for d in args.run_dirs], k=args.k)
        write_output(args.output, json.dumps(baseline, indent=1, ensure_ascii=False) + "\n")
        cal, bands = baseline["calibration"], baseline["bands"]
        print(f"wrote {args.output}: calibrated from {cal['runs']} runs (seeds {cal['seeds']}), k = {cal['k']:.2f}")
        for kind, sigma in cal["spread"].items():
            band = bands.get(kind, bands.get("train_time_abs") if kind == "train_seconds" else None)
            print(f"  {kind}: spread {sigma:.4g} -> band {band:.4g}" if band is not None else f"  {kind}: {sigma:.4g}")
        return 0
    if args.command == "history":
        return _history(args)
    if args.command == "bisect":
        return _bisect(args)
    run = load_run(args.run_dir)
    if args.command == "capture":
        baseline = capture(run)
        write_output(args.output, json.dumps(baseline, indent=1, ensure_ascii=False) + "\n")
        print(
            f"wrote {args.output}: {len(baseline['evaluations'])} evaluations, "
            f"{len(baseline['eval_trajectory'])} eval points"
        )
        return 0
    baseline = load_baseline(args.baseline)
    result = compare(run, baseline, str(args.baseline))
    if args.command == "report":
        from pruning.harness.report_page import verdict_sentence, write_report

        write_report(run, baseline, result, args.output)
        print(f"wrote {args.output}\n{verdict_sentence(result)}")
        return 0
    if args.report:
        from pruning.harness.report_page import write_report

        write_report(run, baseline, result, args.report)
    from pruning.harness.history import append_from_env

    append_from_env(run, result, args.report)
    if args.output_json:
        write_output(args.output_json, json.dumps(result.as_dict(), indent=1, default=str) + "\n")
    print(json.dumps(result.as_dict(), indent=1, default=str) if args.format == "json" else render_table(result))
    return 0 if result.ok else 1


def _history(args: argparse.Namespace) -> int:
    from pruning.errors import PruningError
    from pruning.harness.history import read
    from pruning.harness.trend_page import render

    if args.run_length < 2:
        raise PruningError(f"--run-length: need at least 2 nights, got {args.run_length}")
    ledger = read(args.ledger)
    for number, why in ledger.skipped:
        print(f"{args.ledger}: line {number} skipped: {why}")
    path, alarms = render(ledger, args.output, args.run_length)
    print(f"wrote {path}: {len(ledger.entries)} nights")
    for alarm in alarms:
        print(f"DRIFT {alarm.metric}: {alarm.rule}: {alarm.detail}")
    if not alarms:
        print("no drift alarm")
    return 1 if alarms and args.fail_on_drift else 0


def main(argv: Sequence[str] | None = None) -> int:
    return run_cli(_main, argv)


if __name__ == "__main__":
    raise SystemExit(main())
