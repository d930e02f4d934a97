"""Hand-made run directories for the harness tests: a run summary, a log history and one evaluation result."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from pruning.cli.exec import main as exec_main
from pruning.config import load_config
from pruning.data.eval_files import EvalItem
from pruning.data.synthetic import make_rows
from pruning.evaluate.report import build_result
from pruning.train.run import train

EASY = Path(__file__).resolve().parents[2] / "pruning-config" / "pruning_data_easy_ja.json"

ITEMS = [
    EvalItem("q1", ["a", "b", "c"], [1, 0, 0]),
    EvalItem("q2", ["d", "e"], [0, 1]),
]


SCORES = [[0.8, 0.25, 0.05], [0.15, 0.65]]


SETUP = {
    "device": "cpu: x86_64 (2 threads)",
    "precision": "fp32",
    "versions": {"python": "3.11.2", "torch": "2.13.0+cpu"},
    "code": {"commit": "a" * 40, "dirty": False},
    "config": {
        "model_args": {"max_length": 256},
        "data_args": {"train_files": ["/data/train.jsonl"]},
        "training_args": {"seed": 42, "output_dir": "/runs/base"},
    },
    "data_files": {"train": [{"path": "/data/train.jsonl", "bytes": 10, "sha256": "1" * 64}], "validation": []},
}


def make_run(
    root: Path,
    scores=SCORES,
    train_seconds=100.0,
    eval_losses=(0.8, 0.5),
    pruning_loss=0.3,
    items=ITEMS,
    best_by="f2_5",
    setup=SETUP,
    data="data/easy.json",
) -> Path:
    root.mkdir(parents=True)
    (root / "eval").mkdir()
    summary = {
        "config_file": "x.yaml",
        "seed": 42,
        "train_seconds": train_seconds,
        "final_train": {"loss": 0.4, "ranking_loss": 0.2, "pruning_loss": pruning_loss},
        "final_eval": {"loss": 0.5, "ranking_loss": 0.25, "pruning_loss": pruning_loss + 0.1},
        **setup,
    }
    history = [
        {"loss": 0.9, "ranking_loss": 0.3, "pruning_loss": 0.8, "step": 5},
        {"eval_loss": eval_losses[0], "eval_ranking_loss": 0.3, "eval_pruning_loss": 0.7, "step": 5},
        {"eval_loss": eval_losses[1], "eval_ranking_loss": 0.2, "eval_pruning_loss": 0.45, "step": 10},
        {"eval_loss": eval_losses[1], "eval_ranking_loss": 0.2, "eval_pruning_loss": 0.45, "step": 10},
    ]
    (root / "run_summary.json").write_text(json.dumps(summary))
    (root / "log_history.json").write_text(json.dumps(history))
    result = build_result(data, items, scores, [0.1, 0.2, 0.3, 0.5, 0.7], best_by=best_by)
    (root / "eval" / "easy.json").write_text(json.dumps(result))
    return root


def tiny_data(root: Path) -> Path:
    """Synthetic training rows for tiny runs: 32 train, 8 validation."""
    root.mkdir(parents=True)
    for split, n, seed in (("train", 32, 0), ("validation", 8, 1)):
        rows = make_rows(n, k=2, seed=seed)
        (root / f"{split}.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    return root


def tiny_run(root: Path, backbone: Path, data: Path, name: str, seed: int, eval_file: Path = EASY, **training) -> Path:
    """A real run: the tiny BERT trained for 4 steps (evaluating twice), then `eval_file` scored by pruning-exec."""
    run_dir = root / name
    cfg = {
        "model_args": {
            "model_name_or_path": str(backbone),
            "max_length": 64,
            "config_overrides": {"hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0},
        },
        "data_args": {"train_files": [str(data / "train.jsonl")], "validation_files": [str(data / "validation.jsonl")]},
        "training_args": {
            "output_dir": str(run_dir),
            "seed": seed,
            "learning_rate": 5e-3,
            "per_device_train_batch_size": 8,
            "per_device_eval_batch_size": 8,
            "max_steps": 4,
            "eval_strategy": "steps",
            "eval_steps": 2,
            "logging_steps": 1,
            "save_strategy": "no",
            "report_to": "none",
            **training,
        },
    }
    path = root / f"{name}.yaml"
    path.write_text(yaml.safe_dump(cfg))
    train(load_config(path), progress=False, loss_plot=False)
    out = run_dir / "eval" / f"{eval_file.stem}.json"
    argv = ["-m", str(run_dir / "final_model"), "-j", str(eval_file), "--output-json", str(out), "--no-progress"]
    assert exec_main([*argv, "--thresholds", "0.3", "0.4", "0.5", "0.6", "0.7"]) == 0
    return run_dir


def char_backbone(path: Path) -> Path:
    """A random 2-layer BERT over the character tokenizer, the same in every process (the Unigram-trained tiny
    tokenizer need not be), saved with its tokenizer."""
    from tests.conftest import build_char_tokenizer, tiny_bert

    tokenizer = build_char_tokenizer()
    tiny_bert(tokenizer, positions=128).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path
