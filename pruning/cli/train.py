"""`pruning-train CONFIG.yaml [section.key=value ...] [--resume latest|CHECKPOINT_DIR]`: train a pruner and save it
with a run summary. Under `torchrun` / `accelerate launch` every process runs this; only rank 0 prints and writes."""

from __future__ import annotations

import argparse
import json
import logging
from collections.abc import Sequence

from pruning.cli._common import ArgumentParser, run_cli


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog="pruning-train",
        description="Train a Provence-style context pruner from a YAML config.",
        epilog="example: pruning-train pruning-config/tiny-offline.yaml training_args.seed=7 "
        "training_args.max_steps=5; several GPUs: torchrun --nproc_per_node N -m pruning.cli.train CONFIG ... "
        "(docs/training.md)",
    )
    parser.add_argument("config", help="YAML with model_args, data_args, training_args")
    parser.add_argument("overrides", nargs="*", help="section.key=value (value parsed as YAML); override the config")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    parser.add_argument(
        "--resume",
        metavar="latest|CHECKPOINT_DIR",
        help="continue a run from a checkpoint (save_strategy: steps): 'latest' = the newest complete one in "
        "training_args.output_dir",
    )
    return parser


def _main(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_intermixed_args(argv)  # overrides may follow an option: CONFIG a=b --no-progress c=d
    from pruning.config import load_config
    from pruning.train.distributed import launched_rank
    from pruning.train.run import train

    if launched_rank() != 0:  # other DDP ranks: warnings and errors only
        logging.getLogger().setLevel(logging.WARNING)
    config = load_config(args.config, args.overrides)
    summary = train(config, progress=not args.no_progress, resume=args.resume)
    if launched_rank() != 0:
        return 0
    print(json.dumps({k: summary[k] for k in ("model_dir", "train_seconds", "final_train", "final_eval")}, indent=2))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return run_cli(_main, argv)


if __name__ == "__main__":
    raise SystemExit(main())
