"""Nightly: reproduce the seed run on a GPU and check the user's recorded acceptance list; check the corrected
pipeline against its own captured baseline.

1. test_seed_reproduction trains pruning-config/jpre-xs-msmarco-ja-minimal.yaml as written (`compat:
   reference`: the reference implementation that made the seed's numbers; hub model + hub dataset, bf16, seed
   42), evaluates pruning_data_ja_v3.json at 0.1 … 0.7 with the seed's evaluator (`--input-format seed
   --ranges reference`), and checks baselines/seed_jpre-xs-minimal_20250730.yaml through the checking engine.
2. test_corrected_pipeline trains the same config with `compat=none` and evaluates with the default pair
   format and exact ranges, checked against baselines/gpu_e2e/<device>[__<stand-in model>].json. A first run on
   a device captures that file and fails once, asking for a review; commit it to record the device's baseline.
   That file may instead be a calibrated baseline (`pruning-baseline calibrate` over >= 3 runs kept with
   PRUNING_GPU_RUNS_DIR, see docs/harness-power.md): its bands then come from the runs' spread.

Skips, saying which, when CUDA, the model or the dataset is missing. For air-gapped GPU hosts:
PRUNING_GPU_MODEL (local model directory) and PRUNING_GPU_DATA (directory with train.* / validation.*
json/jsonl/parquet files, shards `train-*` too). PRUNING_GPU_RUNS_DIR=DIR keeps the corrected pipeline's run
directory as DIR/<timestamp> (train + eval results), for `pruning-baseline calibrate DIR/* -o BASELINE`.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from pruning.evaluate.seed_baseline import load_seed_baseline
from pruning.harness.baseline import Bands, baseline_from_seed

from .helpers import CONFIG_DIR, EVAL_FILES, ROOT, check_captured_baseline, compare_and_report, evaluate, train_run

pytestmark = pytest.mark.gpu_e2e

SEED_CONFIG = CONFIG_DIR / "jpre-xs-msmarco-ja-minimal.yaml"


def _requirements() -> list[str]:
    """Overrides pointing the seed config at local copies, or a skip naming what is missing."""
    import torch

    if not torch.cuda.is_available():
        pytest.skip("gpu_e2e needs CUDA: torch.cuda.is_available() is False on this machine")
    overrides = []
    model = os.environ.get("PRUNING_GPU_MODEL")
    if model:
        if not Path(model).is_dir():
            pytest.skip(f"PRUNING_GPU_MODEL={model} is not a directory")
        overrides.append(f"model_args.model_name_or_path={model}")
    else:
        try:
            from huggingface_hub import snapshot_download

            snapshot_download("hotchpotch/japanese-reranker-xsmall-v2")
        except Exception as exc:
            pytest.skip(
                f"hub model hotchpotch/japanese-reranker-xsmall-v2 unavailable ({type(exc).__name__}); set PRUNING_GPU_MODEL"
            )
    data = os.environ.get("PRUNING_GPU_DATA")
    if data:
        files = {split: _split_files(Path(data), split) for split in ("train", "validation")}
        for split, found in files.items():
            if not found:  # the acceptance list checks the eval-loss trajectory: validation is needed too
                pytest.skip(f"PRUNING_GPU_DATA={data} has no {split}.* or {split}-* json/jsonl/parquet file")
        overrides += [
            "data_args.dataset_name=null",
            "data_args.subset=null",
            f"data_args.train_files={json.dumps([str(f) for f in files['train']])}",
            f"data_args.validation_files={json.dumps([str(f) for f in files['validation']])}",
        ]
    else:
        try:
            import datasets

            datasets.load_dataset_builder("hotchpotch/wip-msmarco-context-relevance", "msmarco-ja-minimal")
        except Exception as exc:
            pytest.skip(
                f"hub dataset hotchpotch/wip-msmarco-context-relevance unavailable ({type(exc).__name__}); set PRUNING_GPU_DATA"
            )
    return overrides


def _split_files(folder: Path, split: str) -> list[Path]:
    """Every shard of one split: `train.jsonl`, or `train-00000-of-00002.parquet` and its siblings."""
    found = sorted({*folder.glob(f"{split}.*"), *folder.glob(f"{split}-*")})
    return [f for f in found if f.suffix in (".json", ".jsonl", ".parquet")]


def device_baseline(model_override: str | None) -> Path:
    """baselines/gpu_e2e/<device>.json for the hub model; <device>__<model dir name>.json for a stand-in."""
    import torch

    def slug(text: str) -> str:
        return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")

    name = slug(torch.cuda.get_device_name(0))
    if model_override:
        name += "__" + slug(Path(model_override).name)
    return ROOT / "baselines" / "gpu_e2e" / f"{name}.json"


def _corrected_run_dir(tmp_path_factory) -> Path:
    """A fresh temporary folder, or DIR/<timestamp> under PRUNING_GPU_RUNS_DIR so that runs are kept to calibrate."""
    keep = os.environ.get("PRUNING_GPU_RUNS_DIR")
    if not keep:
        return tmp_path_factory.mktemp("gpu_corrected")
    from datetime import datetime

    run_dir = Path(keep) / datetime.now().strftime("corrected-%Y%m%d-%H%M%S")
    run_dir.mkdir(parents=True)
    return run_dir


def test_seed_reproduction(tmp_path_factory):
    overrides = _requirements()
    run_dir = tmp_path_factory.mktemp("gpu_run")
    summary = train_run(SEED_CONFIG, run_dir, overrides)
    assert summary["resolved"]["compat"] == "reference"
    evaluate(run_dir, EVAL_FILES["ja_v3"], "--input-format", "seed", "--ranges", "reference")
    seed = load_seed_baseline()
    comparison, table = compare_and_report(run_dir, baseline_from_seed(seed), str(seed.path))
    print(table)
    assert comparison.ok, "\n" + table


def test_corrected_pipeline(tmp_path_factory, request):
    overrides = _requirements()
    run_dir = _corrected_run_dir(tmp_path_factory)
    summary = train_run(SEED_CONFIG, run_dir, [*overrides, "compat=none"])
    assert summary["resolved"]["compat"] == "none"
    evaluate(run_dir, EVAL_FILES["ja_v3"])
    check_captured_baseline(
        run_dir,
        device_baseline(os.environ.get("PRUNING_GPU_MODEL")),
        Bands(),
        request.config.getoption("force_regen"),
        "tests/e2e/test_gpu_e2e.py::test_corrected_pipeline (jpre-xs-msmarco-ja-minimal.yaml, compat=none)",
    )
