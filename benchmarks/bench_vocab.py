"""Does pruning e5-small's vocabulary make training faster? Seconds per optimizer step, full vs pruned vocabulary.

    python benchmarks/bench_vocab.py ROWS.jsonl [--steps 5] [--batch 4] [--max-length 256] [--freeze 0 6]

ROWS.jsonl is a training split built by pruning-data (its queries and passages choose the pieces to keep). The
pruned checkpoint goes to a temporary folder. For each vocabulary and each `--freeze` setting, the same batches
run through forward, backward and an AdamW step; the first step is a warm-up and is not timed. Prints a table
and one JSON line per setting (figures are measured, not asserted).
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import tempfile
import time
from pathlib import Path

import torch
from transformers import AutoTokenizer

from pruning.backbones.convert import prune_vocabulary
from pruning.backbones.resolve import ensure_checkpoint
from pruning.train.collator import PruningCollator
from pruning.train.modeling import ContextPruner


def _rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _time_steps(model_dir: Path, rows: list[dict], args: argparse.Namespace, freeze: int) -> dict:
    """Median seconds per step after one warm-up step, with the model's size."""
    torch.manual_seed(0)
    model = ContextPruner.from_backbone(str(model_dir))
    model.freeze_lower_layers(freeze)
    model.train()
    collate = PruningCollator(AutoTokenizer.from_pretrained(model_dir), max_length=args.max_length)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-5)
    batches = [collate(rows[i : i + args.batch]) for i in range(0, args.batch * (args.steps + 1), args.batch)]
    times = []
    for batch in batches:
        started = time.perf_counter()
        out = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"])
        loss = out.token_logits.float().pow(2).mean() + out.ranking_logits.float().pow(2).mean()
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        times.append(time.perf_counter() - started)
    return {
        "pieces": model.config.vocab_size,
        "params_m": round(sum(p.numel() for p in model.parameters()) / 1e6, 1),
        "trainable_m": round(sum(p.numel() for p in model.parameters() if p.requires_grad) / 1e6, 1),
        "seconds_per_step": round(statistics.median(times[1:]), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rows", type=Path, help="train.jsonl written by pruning-data")
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--batch", type=int, default=4, help="rows per step (each row holds K passages)")
    parser.add_argument("--max-length", type=int, default=256)
    parser.add_argument("--freeze", type=int, nargs="+", default=[0, 6], help="freeze_layers settings to time")
    args = parser.parse_args()

    rows = _rows(args.rows)
    full = ensure_checkpoint()
    texts = itertools.chain.from_iterable([r["query"], *r["texts"]] for r in rows)
    with tempfile.TemporaryDirectory() as tmp:
        pruned = prune_vocabulary(full, texts, Path(tmp) / "pruned")
        print(f"{args.rows}: {len(rows)} rows; torch threads {torch.get_num_threads()}; median of {args.steps} steps")
        print(f"{'vocabulary':>10}  {'pieces':>7}  {'freeze':>6}  {'params M':>8}  {'trainable M':>11}  {'s/step':>7}")
        for label, model_dir in (("full", full), ("pruned", pruned)):
            for freeze in args.freeze:
                r = _time_steps(model_dir, rows, args, freeze)
                print(
                    f"{label:>10}  {r['pieces']:>7}  {freeze:>6}  {r['params_m']:>8.1f}  {r['trainable_m']:>11.1f}  "
                    f"{r['seconds_per_step']:>7.2f}"
                )
                print(json.dumps({"vocabulary": label, "freeze_layers": freeze, **r}))


if __name__ == "__main__":
    main()
