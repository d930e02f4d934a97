"""Tiny training runs for the checkpoint and DDP tests: synthetic rows, the tiny BERT, no dropout."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from pruning.data.synthetic import make_rows


def write_data(root: Path, n_train: int = 48, n_eval: int = 8) -> Path:
    """train.jsonl and validation.jsonl of synthetic rows under `root`."""
    root.mkdir(parents=True, exist_ok=True)
    for name, n, seed in (("train", n_train, 0), ("validation", n_eval, 1)):
        with open(root / f"{name}.jsonl", "w", encoding="utf-8") as f:
            for row in make_rows(n, k=2, seed=seed):
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
    return root


def write_config(path: Path, backbone: Path, data: Path, **training) -> Path:
    """A run config over the tiny backbone (dropout 0, so that batch layouts and resumes draw nothing)."""
    cfg = {
        "model_args": {
            "model_name_or_path": str(backbone),
            "max_length": 64,
            "config_overrides": {"hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0},
        },
        "data_args": {
            "train_files": [str(data / "train.jsonl")],
            "validation_files": [str(data / "validation.jsonl")],
        },
        "training_args": {
            "seed": 42,
            "learning_rate": 5.0e-3,
            "per_device_train_batch_size": 8,
            "per_device_eval_batch_size": 8,
            "logging_steps": 1,
            "save_strategy": "no",
            "eval_strategy": "no",
            "report_to": "none",
            **training,
        },
    }
    path.write_text(yaml.safe_dump(cfg))
    return path


def history(run_dir: Path) -> list[dict]:
    """The run's log_history.json."""
    return json.loads((run_dir / "log_history.json").read_text())
