"""Training checkpoints in this project's model format, written atomically, found again for `--resume`.

A checkpoint `<output_dir>/checkpoint-<step>/` holds the pruner as `ContextPruner.save_pretrained` writes it
(pruner_config.json, config.json, model.safetensors, tokenizer), plus HF's optimizer.pt, scheduler.pt,
rng_state[_<rank>].pth, trainer_state.json, and `pruning_trainer_state.json` (the loss logging between two logs,
so that a resumed run logs what an uninterrupted one would). `CheckpointingMixin` puts these into the HF
Trainer's own checkpoint machinery; everything else here is plain file handling.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
import transformers
from transformers import TrainerCallback
from transformers.trainer_callback import ExportableState
from transformers.trainer_utils import SaveStrategy

from pruning.errors import PruningError
from pruning.train.atomic import INCOMPLETE_MARKER, commit_staging, staging_path, start_staging
from pruning.train.distributed import barrier
from pruning.train.modeling import PRUNER_CONFIG, WEIGHTS

logger = logging.getLogger(__name__)

PREFIX = "checkpoint"
TRAINER_STATE = "trainer_state.json"
LOGGING_STATE = "pruning_trainer_state.json"
TRAINING_ARGS = "training_args.bin"
REQUIRED = (PRUNER_CONFIG, WEIGHTS, TRAINER_STATE)
_COMPLETE_NAME = re.compile(rf"^{PREFIX}-(\d+)$")


def incomplete_reason(folder: Path) -> str | None:
    """Why `folder` is not a complete checkpoint, or None if it is one."""
    if not _COMPLETE_NAME.match(folder.name):
        return "left over from an interrupted save (not named checkpoint-<step>)"
    if (folder / INCOMPLETE_MARKER).exists():
        return f"an interrupted save ({INCOMPLETE_MARKER} marker present)"
    missing = [name for name in REQUIRED if not (folder / name).is_file()]
    if missing:
        return f"incomplete: {', '.join(missing)} missing"
    return None


def find_checkpoints(output_dir: Path) -> tuple[list[tuple[int, Path]], list[tuple[Path, str]]]:
    """(step, folder) of the complete checkpoints in `output_dir`, oldest first, and (folder, reason) of the
    `checkpoint-*` entries that are not complete (leftovers of a crash, a kill or another tool)."""
    complete: list[tuple[int, Path]] = []
    skipped: list[tuple[Path, str]] = []
    if not output_dir.is_dir():
        return complete, skipped
    for child in sorted(output_dir.iterdir()):
        if not child.name.startswith(f"{PREFIX}-") or not child.is_dir():
            continue
        reason = incomplete_reason(child)
        if reason is None:
            match = _COMPLETE_NAME.match(child.name)
            assert match is not None  # incomplete_reason() has checked the name
            complete.append((int(match.group(1)), child))
        else:
            skipped.append((child, reason))
    return sorted(complete), skipped


def latest_checkpoint(output_dir: Path) -> Path:
    """The newest complete checkpoint in `output_dir`; incomplete ones are skipped with a warning."""
    complete, skipped = find_checkpoints(output_dir)
    for folder, reason in skipped:
        logger.warning("%s: skipped: %s", folder, reason)
    if not complete:
        also = f" ({len(skipped)} incomplete skipped)" if skipped else ""
        raise PruningError(f"{output_dir}: no complete checkpoint to resume from (--resume latest){also}")
    return complete[-1][1]


def check_checkpoint(folder: Path) -> Path:
    """`folder` if it is a complete checkpoint, else a PruningError saying why not."""
    if not folder.is_dir():
        raise PruningError(f"{folder}: no such checkpoint folder (--resume)")
    reason = incomplete_reason(folder)
    if reason is not None:
        raise PruningError(f"{folder}: not a checkpoint to resume from: {reason}")
    return folder


def rotate_checkpoints(output_dir: Path, limit: int | None, best: str | None) -> None:
    """Delete the oldest complete checkpoints beyond `limit`, always keeping the newest and the best one."""
    if not limit or limit <= 0:
        return
    folders = [folder for _, folder in find_checkpoints(output_dir)[0]]
    protected = {folders[-1]} if folders else set()
    if best:
        protected.add(Path(best))
    excess = len(folders) - max(limit, len(protected))
    for folder in folders:
        if excess <= 0:
            break
        if folder not in protected:
            logger.info("deleting %s (save_total_limit=%d)", folder, limit)
            shutil.rmtree(folder, ignore_errors=True)
            excess -= 1


def read_logging_state(checkpoint: Path) -> dict[str, Any] | None:
    """The loss-logging state a checkpoint recorded (None for a checkpoint written without it)."""
    path = checkpoint / LOGGING_STATE
    if not path.is_file():
        logger.warning("%s: missing; loss logging restarts its averages at the resume step", path)
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise PruningError(f"{path}: invalid JSON ({exc})") from None


class _RestoreLoggingState(TrainerCallback):
    """At train begin (after the Trainer has reset its loss accumulators) put back what the checkpoint held."""

    def __init__(self, trainer: CheckpointingMixin):
        self.trainer = trainer

    def on_train_begin(self, args, state, control, **kwargs):
        trainer: Any = self.trainer
        trainer._restore_logging_state(trainer._resume_logging)


if TYPE_CHECKING:  # the mixin is only ever mixed into a Trainer: let the type checker see its attributes
    from transformers import Trainer as _TrainerBase
else:
    _TrainerBase = object


#: transformers before 5.18 loads a DDP run's optimizer state onto `args.device`, which on the CPU is "cpu:0", a
#: location torch cannot restore to: a CPU DDP run then fails as it resumes.
CPU_DDP_RESUME_SINCE = (5, 18)


def cpu_ddp_resume_supported(version: str | None = None) -> bool:
    """Whether this transformers (or `version`) can resume a DDP run on the CPU."""
    version = version or transformers.__version__
    return tuple(int(part) for part in version.split(".")[:2]) >= CPU_DDP_RESUME_SINCE


def check_resume_supported(args, version: str | None = None) -> None:
    """Refuse, with the fix, a resume that the installed transformers would fail half-way through."""
    version = version or transformers.__version__
    if not cpu_ddp_resume_supported(version) and args.world_size > 1 and args.device.type == "cpu":
        raise PruningError(
            f"resuming a DDP run on the CPU needs transformers>=5.18: {version} loads the optimizer state onto "
            f"{args.device}, which torch cannot restore (pip install -U transformers)"
        )


class CheckpointingMixin(_TrainerBase):
    """HF Trainer checkpoint hooks for a `ContextPruner` (put before `Trainer` in the bases).

    The subclass provides `_logging_state()` (a collective under DDP) and `_restore_logging_state(saved)`.
    """

    if TYPE_CHECKING:

        def _logging_state(self) -> dict[str, Any]: ...

        def _restore_logging_state(self, saved: dict[str, Any] | None) -> None: ...

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._resume_logging: dict[str, Any] | None = None
        self.resumed_from: str | None = None  # the checkpoint the last train() call resumed from
        self.add_callback(_RestoreLoggingState(self))

    def train(self, resume_from_checkpoint: str | bool | None = None, *args, **kwargs):
        if resume_from_checkpoint is True:
            resume_from_checkpoint = str(latest_checkpoint(Path(str(self.args.output_dir))))
        if resume_from_checkpoint:
            check_resume_supported(self.args)
        self.resumed_from = str(resume_from_checkpoint) if resume_from_checkpoint else None
        self._resume_logging = (  # kept for every start of the loop (auto_find_batch_size restarts it)
            read_logging_state(check_checkpoint(Path(resume_from_checkpoint))) if resume_from_checkpoint else None
        )
        return super().train(resume_from_checkpoint or None, *args, **kwargs)

    def _save(self, output_dir: str | None = None, state_dict: dict | None = None, atomic: bool = True) -> None:
        """The model part of a save: the pruner's own format (rank 0 only)."""
        if not self.args.should_save:
            return
        output_dir = output_dir if output_dir is not None else self.args.output_dir
        model = self.accelerator.unwrap_model(self.model)
        model.save_pretrained(output_dir, tokenizer=self.processing_class, atomic=atomic)
        torch.save(self.args, Path(str(output_dir)) / TRAINING_ARGS)

    def _save_checkpoint(self, model, trial) -> None:
        """HF's checkpoint, written into `checkpoint-<step>.tmp` and renamed to `checkpoint-<step>` when complete."""
        run_dir = Path(self._get_output_dir(trial=trial))
        final = run_dir / f"{PREFIX}-{self.state.global_step}"
        staging = staging_path(final)
        if self.args.should_save:
            start_staging(staging)
        barrier()  # every rank writes its rng_state into the staging folder
        if self.hp_search_backend is None and trial is None:
            self.store_flos()
        self._save(str(staging), atomic=False)
        best_step = self.state.best_global_step
        if self.args.save_strategy in (SaveStrategy.STEPS, SaveStrategy.EPOCH, SaveStrategy.BEST) and best_step:
            best = run_dir / f"{PREFIX}-{best_step}"
            if best_step == self.state.global_step or best.is_dir():
                self.state.best_model_checkpoint = str(best)
        if not self.args.save_only_model:
            self._save_optimizer_and_scheduler(str(staging))
            self._save_scaler(str(staging))
            self._save_rng_state(str(staging))
        logging_state = self._logging_state()
        if self.args.should_save:
            exportable = [c for c in [*self.callback_handler.callbacks, self.control] if isinstance(c, ExportableState)]
            for cb in exportable:
                name = cb.__class__.__name__
                stateful: Any = self.state.stateful_callbacks  # a dict at run time, whatever HF's annotation says
                if isinstance(stateful[name], list):
                    stateful[name].append(cb.state())
                else:
                    stateful[name] = cb.state()
            self.state.save_to_json(str(staging / TRAINER_STATE))
            (staging / LOGGING_STATE).write_text(json.dumps(logging_state, indent=1) + "\n", encoding="utf-8")
        barrier()  # every rank has finished writing
        if self.args.should_save:
            commit_staging(staging, final)
            rotate_checkpoints(run_dir, self.args.save_total_limit, self.state.best_model_checkpoint)
        barrier()
        if self.args.push_to_hub:
            self._push_from_checkpoint(str(final))

    def _load_from_checkpoint(self, resume_from_checkpoint: str, model=None) -> None:
        """Resume: the checkpoint's weights, read strictly with the project's loader."""
        target = self.accelerator.unwrap_model(model if model is not None else self.model)
        target.load_weights(resume_from_checkpoint)

    def _load_best_model(self) -> None:
        """`load_best_model_at_end`: the best checkpoint's weights, read strictly with the project's loader."""
        best = self.state.best_model_checkpoint
        logger.info(
            "loading the best model from %s (%s = %s)", best, self.args.metric_for_best_model, self.state.best_metric
        )
        self.accelerator.unwrap_model(self.model).load_weights(best)
