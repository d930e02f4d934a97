"""CPU serving speed and drift: the torch model vs its ONNX export (fp32 and int8) under ContextScorer.

    python benchmarks/bench_onnx.py MODEL_DIR [--data DATA.json] [--batch-size 32] [--threads N]
        [--threshold 0.5] [--repeats 1] [--onnx-dir DIR]

Exports MODEL_DIR (fp32 + int8) to a temporary directory (or --onnx-dir, reused when it already holds both
files), scores every context of the data file with each backend at the same batch size and thread count, and
prints sentences (contexts) per second, the largest |score - torch score| and how many keep decisions
(score >= threshold) differ from torch's. Backends run in turn within each repeat; the best time is kept.
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from transformers import AutoTokenizer

from pruning.data.eval_files import load_eval_file
from pruning.evaluate.scoring import ContextScorer
from pruning.prune.onnx_backend import OnnxPrunerModel
from pruning.prune.onnx_export import MODEL_FILES, export_onnx
from pruning.train.modeling import ContextPruner

ROOT = Path(__file__).resolve().parents[1]


def _run(scorer: ContextScorer, items) -> tuple[float, np.ndarray]:
    started = time.perf_counter()
    scored = scorer.score(items, progress=False)
    return time.perf_counter() - started, np.asarray([s for r in scored for s in r.scores])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("--data", type=Path, default=ROOT / "pruning-config" / "pruning_data_ja_v3.json")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads(), help="torch and onnxruntime threads")
    parser.add_argument("--threshold", type=float, default=0.5, help="keep when score >= threshold")
    parser.add_argument("--repeats", type=int, default=1, help="best of N timed runs per backend")
    parser.add_argument("--onnx-dir", type=Path, help="export here (kept) instead of a temporary directory")
    parser.add_argument("--input-format", default="pair")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    torch.set_num_threads(args.threads)
    items = load_eval_file(args.data)
    n_contexts = sum(len(it.contexts) for it in items)
    tokenizer = AutoTokenizer.from_pretrained(args.model)
    with tempfile.TemporaryDirectory() as tmp:
        onnx_dir = args.onnx_dir or Path(tmp)
        if not all((onnx_dir / f).is_file() for f in MODEL_FILES.values()):
            started = time.perf_counter()
            export_onnx(args.model, onnx_dir, quantize=True)
            print(f"export (fp32 + int8): {time.perf_counter() - started:.1f} s")
        sizes = {v: (onnx_dir / f).stat().st_size / 2**20 for v, f in MODEL_FILES.items()}
        backends = {
            "torch": ContextPruner.from_pretrained(args.model),
            "onnx-fp32": OnnxPrunerModel(onnx_dir, "fp32", threads=args.threads),
            "onnx-int8": OnnxPrunerModel(onnx_dir, "int8", threads=args.threads),
        }
        options = {"batch_size": args.batch_size, "input_format": args.input_format, "device": "cpu"}
        scorers = {name: ContextScorer(model, tokenizer, **options) for name, model in backends.items()}
        print(
            f"{args.data.name}: {len(items)} items, {n_contexts} contexts; batch {args.batch_size}, "
            f"threads {args.threads}; onnx fp32 {sizes['fp32']:.0f} MiB, int8 {sizes['int8']:.0f} MiB"
        )
        best = {name: float("inf") for name in scorers}
        scores = {}
        for _ in range(args.repeats):
            for name, scorer in scorers.items():
                seconds, scores[name] = _run(scorer, items)
                best[name] = min(best[name], seconds)
    reference = scores["torch"]
    keep = reference >= args.threshold
    print(f"{'backend':>10}  {'seconds':>8}  {'sentences/s':>11}  {'speed-up':>8}  {'max |Δscore|':>12}  changed keeps")
    for name, seconds in best.items():
        delta = float(np.abs(scores[name] - reference).max())
        changed = int(((scores[name] >= args.threshold) != keep).sum())
        record = {
            "backend": name,
            "seconds": round(seconds, 2),
            "sentences_per_second": round(n_contexts / seconds, 1),
            "speedup_vs_torch": round(best["torch"] / seconds, 2),
            "max_abs_delta_score": delta,
            "mean_abs_delta_score": float(np.abs(scores[name] - reference).mean()),
            "changed_keep_decisions": changed,
            "threshold": args.threshold,
            "contexts": n_contexts,
        }
        print(
            f"{name:>10}  {seconds:>8.2f}  {record['sentences_per_second']:>11.1f}  "
            f"{record['speedup_vs_torch']:>7.2f}x  {delta:>12.2e}  {changed} / {n_contexts}"
        )
        print(json.dumps(record))


if __name__ == "__main__":
    main()
