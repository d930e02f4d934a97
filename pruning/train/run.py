"""One training run, end to end: config → data → collator → model → PruningTrainer → saved model + run summary."""

from __future__ import annotations

import json
import logging
import math
import os
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
from pruning.train.atomic import atomic_write_text
from pruning.train.checkpoints import check_checkpoint, latest_checkpoint
from pruning.train.collator import PruningCollator
from pruning.train.distributed import barrier, broadcast_from_main
from pruning.train.modeling import ContextPruner
from pruning.train.provenance import code_revision, file_fingerprints, package_versions
from pruning.train.trainer import PruningTrainer

logger = logging.getLogger(__name__)

SUMMARY_FILE = "run_summary.json"
LOSS_PLOT_FILE = "loss_curves.png"
LOG_HISTORY_FILE = "log_history.json"
FINAL_MODEL = "final_model"


def global_batch(args) -> int:
    """Rows per optimizer step: per-device batch × devices (processes × GPUs each) × gradient accumulation."""
    return args.per_device_train_batch_size * max(1, args.n_gpu) * args.world_size * args.gradient_accumulation_steps


def precision_name(args) -> str:
    """The training precision a run summary records: bf16, fp16 (mixed precision) or fp32."""
    if args.bf16:
        return "bf16"
    return "fp16" if args.fp16 else "fp32"


def _steps_per_epoch(n_rows: int, args) -> int:
    return max(1, -(-n_rows // global_batch(args)))


def _check_processes(targs) -> None:
    """A launcher (torchrun, accelerate launch) started several processes: they must form one DDP run."""
    launched = int(os.environ.get("WORLD_SIZE", "1") or 1)
    if launched > 1 and targs.world_size != launched:
        raise PruningError(
            f"launched as {launched} processes but training_args make a {targs.world_size}-process run "
            "(without CUDA, set training_args.use_cpu=true for DDP on the CPU)"
        )
    if targs.deepspeed or targs.fsdp:
        raise PruningError("training_args: deepspeed / fsdp are not supported (checkpoints are written for DDP)")


def _resolve_resume(resume: str | None, config: RunConfig) -> Path | None:
    """`--resume latest` (the newest complete checkpoint in output_dir) or `--resume CHECKPOINT_DIR`."""
    if resume is None:
        return None
    targs = config.training
    explicit = "output_dir" in (config.raw.get("training_args") or {})
    if resume == "latest":
        if not explicit:
            raise PruningError(
                f"{config.source}: --resume latest needs training_args.output_dir (the default is a new folder "
                "each run); set it, or give the checkpoint folder: --resume OUTPUT_DIR/checkpoint-STEP"
            )
        return latest_checkpoint(Path(str(targs.output_dir)))
    checkpoint = check_checkpoint(Path(resume))
    if not explicit:  # carry on in the run the checkpoint belongs to
        targs.output_dir = str(checkpoint.parent)
    return checkpoint


def train(
    config: RunConfig, progress: bool = True, resume: str | None = None, loss_plot: bool = True
) -> dict[str, Any]:
    """Train as configured; save `<output_dir>/final_model`, `run_summary.json` and (`loss_plot`) `loss_curves.png`;
    return the summary.

    `resume`: "latest" or a checkpoint folder (written with `save_strategy`) to continue from. Under DDP every
    process runs this; only the main one writes files.
    """
    margs, dargs, targs = config.model, config.data, config.training
    _check_processes(targs)
    targs.output_dir = broadcast_from_main(targs.output_dir)  # a default one is named after each process's clock
    checkpoint = _resolve_resume(resume, config)
    set_seed(targs.seed)
    source = resolve_model_source(margs.model_name_or_path)
    try:
        tokenizer = AutoTokenizer.from_pretrained(source)
    except (OSError, ValueError) as exc:
        raise PruningError(f"cannot load tokenizer for {margs.model_name_or_path!r}: {exc}") from None
    if not getattr(tokenizer, "is_fast", False):
        raise PruningError(f"{margs.model_name_or_path!r}: a fast tokenizer (offset mapping) is required")

    users = (
        ("training_args.evals_per_run", targs.evals_per_run),
        ("data_args.max_eval_samples", dargs.max_eval_samples),
    )
    needs = [key for key, value in users if value is not None]  # keys a missing validation split's hint must name
    train_ds, eval_ds = load_splits(dargs, config.source, needs)
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
    sentence_scores = targs.sentence_teacher_weight > 0
    validate_dataset(train_ds, target, _split_name("train", train_ds, dargs.train_files), sentence_scores)
    if eval_ds is not None:
        validate_dataset(eval_ds, target, _split_name("validation", eval_ds, dargs.validation_files), sentence_scores)

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
        tokenizer,
        max_length=margs.max_length,
        target_column=target,
        token_labels=dargs.token_labels,
        counts_in_batch=True,
        sentence_teacher_weight=targs.sentence_teacher_weight,
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
        eval_loss_average=targs.eval_loss_average,
    )
    if config.compat != "none":
        logger.info("compat: %s: %s", config.compat, config.behaviours())
    if checkpoint is not None:
        logger.info("resuming from %s", checkpoint)
    started = time.perf_counter()
    result = trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint is not None else None)
    train_seconds = time.perf_counter() - started
    final_eval = trainer.evaluate() if eval_ds is not None else {}

    truncated_spans, total_spans = trainer.span_totals()  # over all processes (and the run before a resume)
    out_dir = Path(str(targs.output_dir))  # load_config always sets it
    model_dir = out_dir / FINAL_MODEL
    history = trainer.state.log_history
    main_process = trainer.is_world_process_zero()
    if main_process:
        # a summary left by an earlier run in this folder must never sit beside the new model
        (out_dir / SUMMARY_FILE).unlink(missing_ok=True)
        model.save_pretrained(model_dir, tokenizer=tokenizer)
        atomic_write_text(out_dir / LOG_HISTORY_FILE, json.dumps(history, indent=1) + "\n")
    train_logs = [h for h in history if "loss" in h]  # evaluations log eval_loss, the end of train() train_loss
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
        "precision": precision_name(targs),
        "seed": targs.seed,
        "train_seconds": round(train_seconds, 3),
        "final_train": {k: train_logs[-1].get(k) for k in ("loss", "ranking_loss", "pruning_loss")}
        if train_logs
        else {},
        "mean_train_loss": result.training_loss if checkpoint is None else trainer.run_mean_loss,
        "final_eval": {k: final_eval.get(f"eval_{k}") for k in ("loss", "ranking_loss", "pruning_loss")},
        "truncated_spans": truncated_spans,
        "total_spans": total_spans,
        "model_dir": str(model_dir),
        "log_history": str(out_dir / LOG_HISTORY_FILE),
        "distributed": {
            "world_size": targs.world_size,
            "per_device_train_batch_size": targs.per_device_train_batch_size,
            "gradient_accumulation_steps": targs.gradient_accumulation_steps,
            "global_train_batch_size": global_batch(targs),
        },
        "resumed_from": None
        if checkpoint is None
        else {"checkpoint": str(checkpoint), "global_step": trainer.resumed_at_step, "requested": resume},
    }
    if main_process:
        if loss_plot:
            from pruning.train.plots import plot_losses

            plot_losses(history, out_dir / LOSS_PLOT_FILE)
        text = json.dumps(summary, indent=2, ensure_ascii=False, default=str) + "\n"
        atomic_write_text(out_dir / SUMMARY_FILE, text)
    barrier()  # no process leaves before the files are written
    if truncated_spans and main_process:
        logger.warning(
            "%d of %d sentence spans were cut by max_length=%d",
            truncated_spans,
            total_spans,
            margs.max_length,
        )
    return summary


def _split_name(split: str, ds, files: list[str] | None) -> str:
    """How row errors name a split: its row count and, for local files, the files."""
    return f"{split} split ({len(ds)} rows{' of ' + ', '.join(files) if files else ''})"


def _device_name() -> str:
    if torch.cuda.is_available():
        return f"cuda: {torch.cuda.get_device_name(0)}"
    return f"cpu: {platform.processor() or platform.machine()} ({torch.get_num_threads()} threads)"
