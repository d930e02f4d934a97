"""The paired bootstrap's speed on a file the size of ja_v3 (a benchmark; the target is under a second).

    python benchmarks/bench_significance.py [DATA.json] [--resamples 2000] [--repeats 5]

Uses the file's real queries and labels, with two synthetic score sets (a baseline, and a run that moves every
score a little), so only the shape of the file matters. Prints the median and best wall time of
`paired_bootstrap` over the repeats, and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np

from pruning.data.eval_files import load_eval_file
from pruning.harness.significance import RESAMPLES, paired_bootstrap

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", type=Path, default=ROOT / "pruning-config" / "pruning_data_ja_v3.json")
    parser.add_argument("--resamples", type=int, default=RESAMPLES)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    items = load_eval_file(args.data)
    rng = np.random.default_rng(0)
    labels = [item.labels for item in items]
    base = [list(0.3 + 0.3 * np.asarray(y) + rng.normal(0, 0.1, len(y))) for y in labels]
    run = [list(np.asarray(s) + rng.normal(0, 0.03, len(s))) for s in base]
    times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        sig = paired_bootstrap(labels, run, base, 0.45, resamples=args.resamples)
        times.append(time.perf_counter() - start)
    contexts = sum(len(y) for y in labels)
    median = statistics.median(times)
    print(f"{args.data.name}: {len(items)} queries, {contexts} contexts, {args.resamples} resamples")
    print(f"paired_bootstrap: median {median * 1000:.1f} ms, best {min(times) * 1000:.1f} ms over {args.repeats}")
    print(f"verdict on the synthetic change: {sig.verdict} ({sig.summary()})")
    record = {"queries": len(items), "contexts": contexts, "resamples": args.resamples, "median_s": median}
    print(json.dumps({**record, "best_s": min(times), "repeats": args.repeats}))


if __name__ == "__main__":
    main()
