"""Evaluator throughput: contexts per second at several batch sizes (a benchmark, not a test).

    python benchmarks/bench_scoring.py MODEL_DIR [DATA.json] [--batch-sizes 1 8 32] [--repeats 2]

Prints a table and one JSON line per batch size. Scores must not depend on the batch size; the script checks
that too (max |Δ| against the first batch size).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch
from transformers import AutoTokenizer

from pruning.data.eval_files import load_eval_file
from pruning.evaluate.scoring import ContextScorer
from pruning.train.modeling import ContextPruner

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("data", type=Path, nargs="?", default=ROOT / "pruning-config" / "pruning_data_ja_v3.json")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--repeats", type=int, default=2, help="best of N runs per batch size")
    parser.add_argument("--input-format", default="pair")
    args = parser.parse_args()

    items = load_eval_file(args.data)
    n_contexts = sum(len(it.contexts) for it in items)
    model = ContextPruner.from_pretrained(args.model)
    tokenizer = AutoTokenizer.from_pretrained(args.model)
    print(f"{args.data.name}: {len(items)} items, {n_contexts} contexts; torch threads {torch.get_num_threads()}")
    print(f"{'batch':>5}  {'seconds':>8}  {'contexts/s':>10}  {'max |Δ| vs first':>16}")
    reference = None
    for batch_size in args.batch_sizes:
        scorer = ContextScorer(model, tokenizer, batch_size=batch_size, input_format=args.input_format)
        best = float("inf")
        for _ in range(args.repeats):
            started = time.perf_counter()
            scored = scorer.score(items, progress=False)
            best = min(best, time.perf_counter() - started)
        flat = [s for r in scored for s in r.scores]
        reference = reference or flat
        delta = max(abs(a - b) for a, b in zip(flat, reference, strict=True))
        print(f"{batch_size:>5}  {best:>8.2f}  {n_contexts / best:>10.1f}  {delta:>16.2e}")
        record = {
            "batch_size": batch_size,
            "seconds": round(best, 3),
            "contexts_per_second": round(n_contexts / best, 1),
        }
        print(json.dumps({**record, "max_abs_delta": delta}))


if __name__ == "__main__":
    main()
