"""One training run, end to end: config → data → collator → model → PruningTrainer → saved model + run summary."""

from __future__ import annotations

import json
import logging
import math
import platform
import time
from pathlib import Path
from typing import Any

import torch
from transformers import AutoTokenizer, set_seed

from pruning.backbones.resolve import resolve_model_source
from pruning.config import RunConfig
from pruning.data.training_rows import load_splits, resolve_target_column, validate_dataset
from pruning.errors import PruningError
from pruning.train.collator import PruningCollator
from pruning.train.modeling import ContextPruner
from pruning.train.provenance import code_revision, file_fingerprints, package_versions
from pruning.train.trainer import PruningTrainer

logger = logging.getLogger(__name__)

SUMMARY_FILE = "run_summary.json"
LOG_HISTORY_FILE = "log_history.json"
FINAL_MODEL = "final_model"


def _steps_per_epoch(n_rows: int, args) -> int:
    per_step = args.per_device_train_batch_size * max(1, args.n_gpu) * args.gradient_accumulation_steps
    return max(1, -(-n_rows // per_step))


def train(config: RunConfig, progress: bool = True) -> dict[str, Any]:
    """Train as configured; save `<output_dir>/final_model` and `run_summary.json`; return the summary."""
    margs, dargs, targs = config.model, config.data, config.training
    set_seed(targs.seed)
    source = resolve_model_source(margs.model_name_or_path)
    try:
        tokenizer = AutoTokenizer.from_pretrained(source)
    except (OSError, ValueError) as exc:
        raise PruningError(f"cannot load tokenizer for {margs.model_name_or_path!r}: {exc}") from None
    if not getattr(tokenizer, "is_fast", False):
        raise PruningError(f"{margs.model_name_or_path!r}: a fast tokenizer (offset mapping) is required")

    train_ds, eval_ds = load_splits(dargs)
    # recorded now, not after hours of training: the code and files as they were when the run read them
    provenance = {
        "versions": package_versions(),
        "code": code_revision(),
        "data_files": {
            "train": file_fingerprints(dargs.train_files),
            "validation": file_fingerprints(dargs.validation_files),
        },
    }
    target = resolve_target_column(train_ds.column_names, dargs.teacher_column)
    validate_dataset(train_ds, target, f"train split ({len(train_ds)} rows)")
    if eval_ds is not None:
        validate_dataset(eval_ds, target, f"validation split ({len(eval_ds)} rows)")

    if targs.evals_per_run:
        total = (
            targs.max_steps
            if targs.max_steps > 0
            else math.ceil(_steps_per_epoch(len(train_ds), targs) * targs.num_train_epochs)
        )
        targs.eval_steps = max(1, total // targs.evals_per_run)
        targs.eval_strategy = "steps" if eval_ds is not None else "no"
        logger.info("evaluating every %d of %d steps (evals_per_run=%d)", targs.eval_steps, total, targs.evals_per_run)
    if eval_ds is None and str(targs.eval_strategy) not in ("no", "IntervalStrategy.NO"):
        raise PruningError("training_args.eval_strategy asks for evaluation but there is no validation split")
    targs.remove_unused_columns = False
    targs.label_names = ["labels", "ranking_targets"]
    targs.disable_tqdm = targs.disable_tqdm or not progress

    set_seed(targs.seed)
    model = ContextPruner.from_backbone(
        source,
        head_dropout=margs.head_dropout,
        classifier_dropout=margs.classifier_dropout,
        config_overrides=margs.config_overrides,
        random_init=margs.random_init,
        head_input=margs.head_input,
    )
    if margs.freeze_layers:
        frozen = model.freeze_lower_layers(margs.freeze_layers)
        logger.info("froze the embeddings and %d layers: %.1f M parameters", margs.freeze_layers, frozen / 1e6)
    collator = PruningCollator(
        tokenizer, max_length=margs.max_length, target_column=target, token_labels=dargs.token_labels
    )
    trainer = PruningTrainer(
        model=model,
        args=targs,
        train_dataset=train_ds,
        eval_dataset=eval_ds,
        data_collator=collator,
        processing_class=tokenizer,
        ranking_weight=targs.ranking_weight,
        pruning_weight=targs.pruning_weight,
        head_learning_rate=targs.head_learning_rate,
        token_teacher_weight=targs.token_teacher_weight,
        loss_accumulation=targs.loss_accumulation,
    )
    if config.compat != "none":
        logger.info("compat: %s: %s", config.compat, config.behaviours())
    started = time.perf_counter()
    result = trainer.train()
    train_seconds = time.perf_counter() - started
    final_eval = trainer.evaluate() if eval_ds is not None else {}

    out_dir = Path(str(targs.output_dir))  # load_config always sets it
    model_dir = model.save_pretrained(out_dir / FINAL_MODEL, tokenizer=tokenizer)
    history = trainer.state.log_history
    (out_dir / LOG_HISTORY_FILE).write_text(json.dumps(history, indent=1) + "\n")
    train_logs = [h for h in history if "loss" in h and "eval_loss" not in h]
    summary = {
        "config_file": str(config.source),
        "config": config.raw,
        "resolved": {
            "model_source": source,
            "target_column": target,
            "train_rows": len(train_ds),
            "eval_rows": len(eval_ds) if eval_ds is not None else 0,
            "global_steps": trainer.state.global_step,
            "eval_steps": targs.eval_steps,
            "output_dir": str(out_dir),
            "compat": config.compat,
            "behaviours": {k: [v, config.behaviour_sources.get(k, "default")] for k, v in config.behaviours().items()},
        },
        **provenance,
        "device": _device_name(),
        "precision": "bf16" if targs.bf16 else ("fp16" if targs.fp16 else "fp32"),
        "seed": targs.seed,
        "train_seconds": round(train_seconds, 3),
        "final_train": {k: train_logs[-1].get(k) for k in ("loss", "ranking_loss", "pruning_loss")}
        if train_logs
        else {},
        "mean_train_loss": result.training_loss,
        "final_eval": {k: final_eval.get(f"eval_{k}") for k in ("loss", "ranking_loss", "pruning_loss")},
        "truncated_spans": collator.truncated_spans,
        "total_spans": collator.total_spans,
        "model_dir": str(model_dir),
        "log_history": str(out_dir / LOG_HISTORY_FILE),
    }
    from pruning.train.plots import plot_losses

    plot_losses(history, out_dir / "loss_curves.png")
    (out_dir / SUMMARY_FILE).write_text(json.dumps(summary, indent=2, ensure_ascii=False, default=str) + "\n")
    if collator.truncated_spans:
        logger.warning(
            "%d of %d sentence spans were cut by max_length=%d",
            collator.truncated_spans,
            collator.total_spans,
            margs.max_length,
        )
    return summary


def _device_name() -> str:
    if torch.cuda.is_available():
        return f"cuda: {torch.cuda.get_device_name(0)}"
    return f"cpu: {platform.processor() or platform.machine()} ({torch.get_num_threads()} threads)"
