"""PruningTrainer: an HF Trainer whose loss is `pruning.train.losses.pruning_loss`, with both components logged.

Under gradient accumulation (`loss_accumulation="full_batch"`, the default) the token cross-entropy is
normalised by the labelled tokens of the whole accumulated batch (the Trainer's `num_items_in_batch`), and the
ranking MSE by the number of micro-batches, so the logged `loss`, `ranking_loss` and `pruning_loss` are
full-batch means.

`loss_accumulation="micro_batch_sum"` reproduces the reference under transformers 4.52: each micro-batch's loss
is its own mean and is not divided by the accumulation count, so gradients are summed over micro-batches and the
logged `loss` is that sum (accumulation × a mean). The logged components stay means over the micro-batches, so
they compare across both modes.
"""

from __future__ import annotations

import torch
from transformers import Trainer

from pruning.train.losses import LossParts, pruning_loss

COMPONENTS = ("ranking_loss", "pruning_loss")
LOSS_ACCUMULATION = ("full_batch", "micro_batch_sum")


def is_head_parameter(name: str) -> bool:
    """Parameters that start untrained when fine-tuning a pretrained encoder: the heads on top of it."""
    return name.startswith("pruning_head.") or ".classifier." in name or ".pooler." in name


class PruningTrainer(Trainer):
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
        **kwargs,
    ):
        if loss_accumulation not in LOSS_ACCUMULATION:
            raise ValueError(
                f"PruningTrainer: loss_accumulation must be one of {', '.join(LOSS_ACCUMULATION)}, "
                f"got {loss_accumulation!r}"
            )
        super().__init__(*args, **kwargs)
        self.loss_accumulation = loss_accumulation
        self.ranking_weight = ranking_weight
        self.pruning_weight = pruning_weight
        self.head_learning_rate = head_learning_rate
        self.token_teacher_weight = token_teacher_weight
        self._train_sums = dict.fromkeys(COMPONENTS, 0.0)
        self._train_steps_logged = 0
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
        model_inputs = {k: v for k, v in inputs.items() if k not in ("labels", "ranking_targets")}
        outputs = model(**model_inputs)
        scale = 1.0
        if num_items_in_batch is not None:
            scale = 1.0 / self.current_gradient_accumulation_steps
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
        """Evaluation: loss only, with the components accumulated as means over pairs / labelled tokens."""
        inputs = self._prepare_inputs(inputs)
        with torch.no_grad():
            parts, _ = self._parts(model, inputs)
        n_pairs = float(inputs["ranking_targets"].numel())
        n_tokens = float(inputs["labels"].ne(-100).sum().item())
        self._eval_sums["ranking_loss"] += parts.ranking.item() * n_pairs
        self._eval_weights["ranking_loss"] += n_pairs
        self._eval_sums["pruning_loss"] += parts.pruning.item() * n_tokens
        self._eval_weights["pruning_loss"] += n_tokens
        return parts.total.detach(), None, None

    def evaluation_loop(self, *args, **kwargs):
        self._eval_sums = dict.fromkeys(COMPONENTS, 0.0)
        self._eval_weights = dict.fromkeys(COMPONENTS, 0.0)
        output = super().evaluation_loop(*args, **kwargs)
        prefix = kwargs.get("metric_key_prefix", args[4] if len(args) > 4 else "eval")
        metrics = output.metrics
        assert metrics is not None  # the Trainer's evaluation loop always fills them
        for name in COMPONENTS:
            if self._eval_weights[name]:
                metrics[f"{prefix}_{name}"] = self._eval_sums[name] / self._eval_weights[name]
        if self._eval_weights["ranking_loss"]:
            # The Trainer averages per-batch losses; report the exact weighted total instead.
            metrics[f"{prefix}_loss"] = (
                self.ranking_weight * metrics[f"{prefix}_ranking_loss"]
                + self.pruning_weight * metrics[f"{prefix}_pruning_loss"]
            )
        return output

    def log(self, logs: dict[str, float], *args, **kwargs) -> None:
        if "loss" in logs:
            steps = self.state.global_step - self._train_steps_logged
            if steps > 0:
                for name in COMPONENTS:
                    logs[name] = round(self._train_sums[name] / steps, 6)
                self._train_sums = dict.fromkeys(COMPONENTS, 0.0)
                self._train_steps_logged = self.state.global_step
        super().log(logs, *args, **kwargs)
