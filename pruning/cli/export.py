"""`pruning-export MODEL_DIR --onnx OUT_DIR [--quantize int8] [--opset N]`: export a pruner for CPU serving."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence

from pruning.cli._common import ArgumentParser, run_cli


def build_parser() -> argparse.ArgumentParser:
    from pruning.prune.onnx_export import DEFAULT_OPSET, MAX_OPSET, MIN_OPSET

    parser = ArgumentParser(
        prog="pruning-export",
        description="Export a trained pruner to ONNX (fp32, optionally int8) for onnxruntime on CPU.",
        epilog="example: pruning-export runs/x/final_model --onnx runs/x/onnx --quantize int8",
    )
    parser.add_argument("model_dir", help="a directory written by pruning-train (pruner_config.json, weights)")
    parser.add_argument("--onnx", required=True, metavar="OUT_DIR", help="where to write model.onnx and its files")
    parser.add_argument("--quantize", choices=["int8"], help="also write model.int8.onnx (dynamic int8 weights)")
    parser.add_argument(
        "--opset", type=int, default=DEFAULT_OPSET, help=f"ONNX opset, {MIN_OPSET}..{MAX_OPSET} (default %(default)s)"
    )
    return parser


def _main(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)
    from pruning.prune.onnx_export import ONNX_CONFIG, export_onnx

    out_dir = export_onnx(args.model_dir, args.onnx, quantize=args.quantize == "int8", opset=args.opset)
    meta = json.loads((out_dir / ONNX_CONFIG).read_text())
    summary = {k: meta[k] for k in ("opset", "inputs", "files", "check_max_abs_diff_vs_torch")}
    print(json.dumps({"onnx_dir": str(out_dir), **summary}, indent=2))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return run_cli(_main, argv)


if __name__ == "__main__":
    raise SystemExit(main())
