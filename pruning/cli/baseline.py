"""`pruning-baseline capture RUN_DIR -o BASELINE.json`, `pruning-baseline calibrate RUN_DIR RUN_DIR RUN_DIR ... -o
BASELINE.json` (bands from the spread of repeated runs; docs/harness-power.md) and `pruning-baseline compare RUN_DIR
BASELINE [--report FILE]` and `pruning-baseline report RUN_DIR BASELINE -o report.html`.

compare prints the pass/fail table (for nightly logs) and exits 1 when a check fails, 2 on bad input. report
writes the page (docs/report.md) and prints its verdict; it exits 0 once the page is written, whatever the verdict.
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
    return parser


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
    page = args.output if args.command == "report" else args.report
    if page:
        from pruning.harness.report_page import verdict_sentence, write_report

        write_report(run, baseline, result, page)
        if args.command == "report":
            print(f"wrote {page}\n{verdict_sentence(result)}")
            return 0
    if args.output_json:
        write_output(args.output_json, json.dumps(result.as_dict(), indent=1, default=str) + "\n")
    print(json.dumps(result.as_dict(), indent=1, default=str) if args.format == "json" else render_table(result))
    return 0 if result.ok else 1


def main(argv: Sequence[str] | None = None) -> int:
    return run_cli(_main, argv)


if __name__ == "__main__":
    raise SystemExit(main())
