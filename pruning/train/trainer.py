"""PruningTrainer: an HF Trainer whose loss is `pruning.train.losses.pruning_loss`, with both components logged.

Under gradient accumulation (`loss_accumulation="full_batch"`, the default) the token cross-entropy is
normalised by the labelled tokens of the whole accumulated batch (the Trainer's `num_items_in_batch`), and the
ranking MSE by the number of micro-batches, so the logged `loss`, `ranking_loss` and `pruning_loss` are
full-batch means.

`loss_accumulation="micro_batch_sum"` reproduces the reference under transformers 4.52: each micro-batch's loss
is its own mean and is not divided by the accumulation count, so gradients are summed over micro-batches and the
logged `loss` is that sum (accumulation × a mean). The logged components stay means over the micro-batches, so
they compare across both modes.

Evaluation losses are by default means over the split: `eval_ranking_loss` over all its pairs, `eval_pruning_loss`
over all its labelled tokens, `eval_loss` their weighted sum. `eval_loss_average="per_batch"` logs them as the
reference's trainer did: each component the mean of its per-batch values (each batch's token cross-entropy a mean
over that batch's labelled tokens), and `eval_loss` the Trainer's own, each batch's total weighted by its pairs.

Under DDP (torchrun, accelerate launch) the token cross-entropy is normalised by the labelled tokens of the global
batch (HF gathers `num_items_in_batch` across processes when `average_tokens_across_devices` is on, the default)
and scaled so that DDP's gradient mean gives the single-process loss; the logged components are means over the
processes, like the Trainer's own `loss`. Checkpoints and resume: `pruning.train.checkpoints`.
"""

from __future__ import annotations

import logging
from typing import Any

import torch
import transformers
from transformers import Trainer

from pruning.errors import PruningError
from pruning.train.checkpoints import CheckpointingMixin
from pruning.train.collator import SPAN_COUNTS, TOKEN_TARGETS
from pruning.train.distributed import all_reduce_mean, all_reduce_sum
from pruning.train.losses import LossParts, pruning_loss

logger = logging.getLogger(__name__)

COMPONENTS = ("ranking_loss", "pruning_loss")
LOSS_ACCUMULATION = ("full_batch", "micro_batch_sum")
EVAL_LOSS_AVERAGE = ("split", "per_batch")
#: The span counts (the collator's `span_counts` of each batch) that a run summary reports.
SPAN_COUNT_NAMES = ("truncated_spans", "total_spans")


def is_head_parameter(name: str) -> bool:
    """Parameters that start untrained when fine-tuning a pretrained encoder: the heads on top of it."""
    return name.startswith("pruning_head.") or ".classifier." in name or ".pooler." in name


class PruningTrainer(CheckpointingMixin, Trainer):
    """Trainer for `ContextPruner`; batches come from `PruningCollator` (`labels` are token labels)."""

    loss_is_scaled_for_ga = True

    def __init__(
        self,
        *args,
        ranking_weight: float = 0.05,
        pruning_weight: float = 1.0,
        head_learning_rate: float | None = None,
        token_teacher_weight: float = 0.0,
        loss_accumulation: str = "full_batch",
        eval_loss_average: str = "split",
        **kwargs,
    ):
        for name, value, allowed in (
            ("loss_accumulation", loss_accumulation, LOSS_ACCUMULATION),
            ("eval_loss_average", eval_loss_average, EVAL_LOSS_AVERAGE),
        ):
            if value not in allowed:
                raise ValueError(f"PruningTrainer: {name} must be one of {', '.join(allowed)}, got {value!r}")
        super().__init__(*args, **kwargs)
        if self.accelerator.gradient_accumulation_steps != 1:
            raise PruningError(
                f"PruningTrainer: transformers {transformers.__version__} hands its "
                f"{self.accelerator.gradient_accumulation_steps} gradient-accumulation steps to accelerate, whose "
                "backward then divides every micro-batch loss a second time (transformers 5.3-5.5); install "
                "transformers>=5.6 (pip install -U transformers) or set gradient_accumulation_steps: 1"
            )
        self.loss_accumulation = loss_accumulation
        self.eval_loss_average = eval_loss_average
        self.ranking_weight = ranking_weight
        self.pruning_weight = pruning_weight
        self.head_learning_rate = head_learning_rate
        self.token_teacher_weight = token_teacher_weight
        self._train_sums = dict.fromkeys(COMPONENTS, 0.0)
        self._train_steps_logged = 0
        self._prior_loss_total = 0.0  # logged loss of the steps before a resume
        self.resumed_at_step: int | None = None
        self.run_mean_loss: float | None = None
        self.span_counts = [0, 0]  # truncated, total spans of the batches consumed (training and evaluation)
        self._eval_sums = dict.fromkeys(COMPONENTS, 0.0)
        self._eval_weights = dict.fromkeys(COMPONENTS, 0.0)

    def create_optimizer(self, model=None):
        """With `head_learning_rate`, the freshly initialised heads (token head, classifier, pooler) get their own
        learning rate; the pretrained backbone keeps `learning_rate`. Weight decay is split as HF does."""
        if self.optimizer is not None or self.head_learning_rate is None:
            return super().create_optimizer(model)
        opt_model = self.model if model is None else model
        assert opt_model is not None  # the Trainer holds the model by now
        decay = set(self.get_decay_parameter_names(opt_model))
        groups = []
        for head in (False, True):
            for decayed in (True, False):
                params = [
                    p
                    for n, p in opt_model.named_parameters()
                    if p.requires_grad and is_head_parameter(n) == head and (n in decay) == decayed
                ]
                if params:
                    group = {"params": params, "weight_decay": self.args.weight_decay if decayed else 0.0}
                    if head:
                        group["lr"] = self.head_learning_rate
                    groups.append(group)
        optimizer_cls, optimizer_kwargs = self.get_optimizer_cls_and_kwargs(self.args, opt_model)  # type: ignore[arg-type]
        self.optimizer = optimizer_cls(groups, **optimizer_kwargs)
        return self.optimizer

    def _parts(self, model, inputs, num_items_in_batch=None) -> tuple[LossParts, object]:
        labels = inputs["labels"]
        targets = inputs["ranking_targets"]
        if SPAN_COUNTS in inputs:
            counts = inputs[SPAN_COUNTS].tolist()
            self.span_counts = [mine + int(new) for mine, new in zip(self.span_counts, counts, strict=True)]
        not_inputs = ("labels", "ranking_targets", SPAN_COUNTS, TOKEN_TARGETS)
        model_inputs = {k: v for k, v in inputs.items() if k not in not_inputs}
        outputs = model(**model_inputs)
        scale = 1.0
        if num_items_in_batch is not None:
            scale = 1.0 / self.current_gradient_accumulation_steps
            if self.args.average_tokens_across_devices and self.args.world_size > 1:
                # the count is global: × world size, so that DDP's mean over processes gives the global mean
                num_items_in_batch = num_items_in_batch / self.args.world_size
        parts = pruning_loss(
            outputs.ranking_logits,
            targets,
            outputs.token_logits,
            labels,
            ranking_weight=self.ranking_weight,
            pruning_weight=self.pruning_weight,
            num_label_tokens=num_items_in_batch,
            ranking_scale=scale,
            token_teacher_weight=self.token_teacher_weight,
            token_targets=inputs.get(TOKEN_TARGETS),
        )
        return parts, outputs

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        full_batch = model.training and self.loss_accumulation == "full_batch"
        parts, outputs = self._parts(model, inputs, num_items_in_batch if full_batch else None)
        if model.training:
            # full_batch parts are already scaled to sum to the step's mean; micro-batch means are averaged here
            share = 1.0 if full_batch else 1.0 / self.current_gradient_accumulation_steps
            self._train_sums["ranking_loss"] += parts.ranking.detach().item() * share
            self._train_sums["pruning_loss"] += parts.pruning.detach().item() * share
        return (parts.total, outputs) if return_outputs else parts.total

    def prediction_step(self, model, inputs, prediction_loss_only, ignore_keys=None):
        """Evaluation: loss only, with the components accumulated as means over pairs / labelled tokens, or with
        `eval_loss_average="per_batch"` as means of the per-batch values (each batch weighs 1)."""
        inputs = self._prepare_inputs(inputs)
        with torch.no_grad():
            parts, _ = self._parts(model, inputs)
        n_pairs = float(inputs["ranking_targets"].numel())
        n_tokens = float(inputs["labels"].ne(-100).sum().item())
        if self.eval_loss_average == "per_batch":
            n_pairs = n_tokens = 1.0
        self._eval_sums["ranking_loss"] += parts.ranking.item() * n_pairs
        self._eval_weights["ranking_loss"] += n_pairs
        self._eval_sums["pruning_loss"] += parts.pruning.item() * n_tokens
        self._eval_weights["pruning_loss"] += n_tokens
        return parts.total.detach(), None, None

    def evaluation_loop(self, *args, **kwargs):
        self._eval_sums = dict.fromkeys(COMPONENTS, 0.0)
        self._eval_weights = dict.fromkeys(COMPONENTS, 0.0)
        output = super().evaluation_loop(*args, **kwargs)
        # under DDP each process evaluated its shard: add up the sums and weights of all of them
        reduced = all_reduce_sum([*self._eval_sums.values(), *self._eval_weights.values()], self.args.device)
        self._eval_sums = dict(zip(COMPONENTS, reduced[: len(COMPONENTS)], strict=True))
        self._eval_weights = dict(zip(COMPONENTS, reduced[len(COMPONENTS) :], strict=True))
        prefix = kwargs.get("metric_key_prefix", args[4] if len(args) > 4 else "eval")
        metrics = output.metrics
        assert metrics is not None  # the Trainer's evaluation loop always fills them
        for name in COMPONENTS:
            if self._eval_weights[name]:
                metrics[f"{prefix}_{name}"] = self._eval_sums[name] / self._eval_weights[name]
        if self._eval_weights["ranking_loss"] and self.eval_loss_average == "split":
            # The Trainer weighs each batch's total by its rows; over the split the total is its components' sum.
            # per_batch keeps the Trainer's value: the reference logged that one (transformers 4.52 computes it alike).
            metrics[f"{prefix}_loss"] = (
                self.ranking_weight * metrics[f"{prefix}_ranking_loss"]
                + self.pruning_weight * metrics[f"{prefix}_pruning_loss"]
            )
        return output

    def log(self, logs: dict[str, float], *args, **kwargs) -> None:
        if "loss" in logs:  # every process logs the training loss at the same step: the reduction is collective
            steps = self.state.global_step - self._train_steps_logged
            sums = all_reduce_mean([self._train_sums[name] for name in COMPONENTS], self.args.device)
            if steps > 0:
                for name, total in zip(COMPONENTS, sums, strict=True):
                    logs[name] = round(total / steps, 6)
                self._train_sums = dict.fromkeys(COMPONENTS, 0.0)
                self._train_steps_logged = self.state.global_step
        if "train_loss" in logs:  # the end of train(): over the whole run, also when it was resumed
            if self.resumed_at_step is not None:
                logs["train_loss"] = (self._prior_loss_total + self._total_loss_scalar) / max(self.state.global_step, 1)
            self.run_mean_loss = logs["train_loss"]
        super().log(logs, *args, **kwargs)

    def _logging_state(self) -> dict[str, Any]:
        """What the loss logging holds between two logs, as means over the processes (a collective under DDP)."""
        pending = all_reduce_mean([float(self._tr_loss.item()), *self._train_sums.values()], self.args.device)
        return {
            "global_step": self.state.global_step,
            "globalstep_last_logged": self._globalstep_last_logged,
            "train_steps_logged": self._train_steps_logged,
            "pending_loss": pending[0],
            "pending_components": dict(zip(COMPONENTS, pending[1:], strict=True)),
            "logged_loss_total": self._prior_loss_total + self._total_loss_scalar,
            "span_counts": dict(zip(SPAN_COUNT_NAMES, self.span_totals(), strict=True)),
        }

    def span_totals(self) -> list[int]:
        """(truncated_spans, total_spans) of the batches consumed, summed over the processes (a collective)."""
        return [int(round(v)) for v in all_reduce_sum(self.span_counts, self.args.device)]

    def _restore_logging_state(self, saved: dict[str, Any] | None) -> None:
        """At train begin: a fresh run starts its averages at its first step; a resumed one carries on with the
        sums its checkpoint held, so that its first log after the resume averages the same steps."""
        self._train_sums = dict.fromkeys(COMPONENTS, 0.0)
        self._train_steps_logged = self.state.global_step
        self._prior_loss_total = 0.0
        self.span_counts = [0, 0]
        self.resumed_at_step = self.state.global_step if self.resumed_from else None
        if saved is None:
            return
        if saved.get("global_step") != self.state.global_step:
            logger.warning(
                "the checkpoint's logging state is for step %s, not %s: not restored",
                saved.get("global_step"),
                self.state.global_step,
            )
            return
        self._tr_loss += saved["pending_loss"]
        self._globalstep_last_logged = saved["globalstep_last_logged"]
        self._train_steps_logged = saved["train_steps_logged"]
        self._train_sums = {name: float(saved["pending_components"][name]) for name in COMPONENTS}
        self._prior_loss_total = float(saved["logged_loss_total"])
        if self.is_world_process_zero():  # the main process carries the counts of every process so far
            self.span_counts = [int(saved["span_counts"][name]) for name in SPAN_COUNT_NAMES]
