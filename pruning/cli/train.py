"""`pruning-train CONFIG.yaml [section.key=value ...]`: train a pruner and save it with a run summary."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence

from pruning.cli._common import ArgumentParser, run_cli


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog="pruning-train",
        description="Train a Provence-style context pruner from a YAML config.",
        epilog="example: pruning-train pruning-config/tiny-offline.yaml training_args.seed=7 training_args.max_steps=5",
    )
    parser.add_argument("config", help="YAML with model_args, data_args, training_args")
    parser.add_argument("overrides", nargs="*", help="section.key=value (value parsed as YAML); override the config")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    return parser


def _main(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)
    from pruning.config import load_config
    from pruning.train.run import train

    config = load_config(args.config, args.overrides)
    summary = train(config, progress=not args.no_progress)
    print(json.dumps({k: summary[k] for k in ("model_dir", "train_seconds", "final_train", "final_eval")}, indent=2))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return run_cli(_main, argv)


if __name__ == "__main__":
    raise SystemExit(main())
