"""The Python API's speed against the physical limit: a pure forward pass over the same batches (a benchmark).

    python benchmarks/bench_api.py MODEL_DIR [DATA.json] [--batch-sizes 1 8 32] [--repeats 3]

For each batch size: sentences/s of `Pruner.prune` on every item of the file (its contexts joined into one
string, so splitting, tokenising, windowing, scoring and building results are all counted), and the time of
the model's forward passes alone over exactly the batches that call made (recorded, then replayed under
torch.no_grad). The ratio API / forward is the overhead of everything around the model; the target is
<= 1.15 at batch 32 on the CPU. Prints a table and one JSON line per batch size.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from pruning import Pruner
from pruning.data.eval_files import load_eval_file
from pruning.data.spans import join_contexts

ROOT = Path(__file__).resolve().parents[1]


def _record_batches(pruner: Pruner, questions, contexts, batch_size: int) -> list[dict[str, torch.Tensor]]:
    """The model inputs of one API call, batch by batch, as the scorer built them."""
    model = pruner.scorer.model
    seen: list[dict[str, torch.Tensor]] = []
    original = model.forward

    def spy(**inputs):
        seen.append({k: v.clone() for k, v in inputs.items()})
        return original(**inputs)

    model.forward = spy
    try:
        pruner.prune(questions, contexts, threshold=0.5, batch_size=batch_size)
    finally:
        model.forward = original
    return seen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("data", type=Path, nargs="?", default=ROOT / "pruning-config" / "pruning_data_ja_v3.json")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--repeats", type=int, default=3, help="best of N runs")
    args = parser.parse_args()

    items = load_eval_file(args.data)
    questions = [it.query for it in items]
    contexts = [join_contexts(it.contexts)[0] for it in items]
    pruner = Pruner.from_pretrained(args.model, device="cpu")
    n_sentences = sum(len(r.sentences) for r in pruner.prune(questions, contexts, threshold=0.5))
    print(f"{args.data.name}: {len(items)} contexts, {n_sentences} sentences; torch threads {torch.get_num_threads()}")
    print(f"{'batch':>5}  {'API s':>7}  {'sent/s':>8}  {'forward s':>9}  {'sent/s':>8}  {'API / forward':>13}")
    for batch_size in args.batch_sizes:
        batches = _record_batches(pruner, questions, contexts, batch_size)
        api = forward = float("inf")
        for _ in range(args.repeats):
            started = time.perf_counter()
            pruner.prune(questions, contexts, threshold=0.5, batch_size=batch_size)
            api = min(api, time.perf_counter() - started)
            started = time.perf_counter()
            with torch.no_grad():
                for inputs in batches:
                    pruner.scorer.model(**inputs)
            forward = min(forward, time.perf_counter() - started)
        ratio = api / forward
        print(
            f"{batch_size:>5}  {api:>7.2f}  {n_sentences / api:>8.1f}  {forward:>9.2f}  "
            f"{n_sentences / forward:>8.1f}  {ratio:>13.3f}"
        )
        record = {
            "batch_size": batch_size,
            "api_seconds": round(api, 3),
            "api_sentences_per_second": round(n_sentences / api, 1),
            "forward_seconds": round(forward, 3),
            "forward_sentences_per_second": round(n_sentences / forward, 1),
            "ratio": round(ratio, 3),
            "batches": len(batches),
        }
        print(json.dumps(record))


if __name__ == "__main__":
    main()
