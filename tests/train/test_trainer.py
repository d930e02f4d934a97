"""PruningTrainer's loss under gradient accumulation, per micro-batch, against an independent computation."""

from __future__ import annotations

import json
import math
from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F
from transformers import Trainer

from pruning.config import PruningTrainingArguments
from pruning.data.synthetic import make_rows
from pruning.errors import PruningError
from pruning.train.collator import PruningCollator
from pruning.train.losses import IGNORE_INDEX
from pruning.train.modeling import ContextPruner
from pruning.train.trainer import PruningTrainer, is_head_parameter

pytestmark = pytest.mark.unit

NO_DROPOUT = {"hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0}
RANKING_WEIGHT, PRUNING_WEIGHT = 0.3, 2.0  # not the defaults (0.05, 1.0): a weight that is not passed on shows


def _micro_batches(tokenizer):
    collator = PruningCollator(tokenizer, max_length=64)
    rows = make_rows(6, k=2, seed=7)
    return [collator(rows[:2]), collator(rows[2:5]), collator(rows[5:])]  # unequal sizes, as a last step can be


def _step(tmp_path, backbone, tokenizer, mode):
    """One accumulated step through Trainer.training_step; returns the returned losses, gradients and sums."""
    torch.manual_seed(0)
    model = ContextPruner.from_backbone(str(backbone), config_overrides=NO_DROPOUT)
    args = PruningTrainingArguments(
        output_dir=str(tmp_path), report_to="none", gradient_accumulation_steps=3, remove_unused_columns=False
    )
    trainer = PruningTrainer(
        model=model, args=args, loss_accumulation=mode, ranking_weight=RANKING_WEIGHT, pruning_weight=PRUNING_WEIGHT
    )
    batches = _micro_batches(tokenizer)
    trainer.current_gradient_accumulation_steps = len(batches)
    n_items = sum(int(b["labels"].ne(-100).sum()) for b in batches)
    model.zero_grad()
    returned = [trainer.training_step(model, dict(b), torch.tensor(n_items)).item() for b in batches]
    grads = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
    return model, batches, returned, grads, dict(trainer._train_sums)


def _independent(model, batches, mode):
    """Gradients and per-micro-batch losses computed here with plain torch, not through pruning_loss."""
    model.zero_grad()
    n_items = sum(int(b["labels"].ne(-100).sum()) for b in batches)
    losses, parts = [], []
    for b in batches:
        out = model(input_ids=b["input_ids"], attention_mask=b["attention_mask"])
        mse = F.mse_loss(out.ranking_logits, b["ranking_targets"])
        ce_sum = F.cross_entropy(out.token_logits.reshape(-1, 2), b["labels"].reshape(-1), reduction="sum")
        n = int(b["labels"].ne(-100).sum())
        if mode == "micro_batch_sum":  # each micro-batch's own mean, not divided
            ranking, pruning = mse, ce_sum / n
        else:  # the whole accumulated batch's mean
            ranking, pruning = mse / len(batches), ce_sum / n_items
        loss = RANKING_WEIGHT * ranking + PRUNING_WEIGHT * pruning
        loss.backward()
        losses.append(loss.item())
        parts.append((mse.item(), (ce_sum / n).item()))
    grads = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
    return losses, grads, parts


@pytest.mark.parametrize("mode", ["full_batch", "micro_batch_sum"])
def test_accumulated_gradients_match_an_independent_computation(tmp_path, tiny_backbone_dir, tiny_tokenizer, mode):
    model, batches, returned, grads, _ = _step(tmp_path, tiny_backbone_dir, tiny_tokenizer, mode)
    losses, want, _ = _independent(model, batches, mode)
    assert returned == pytest.approx(losses, rel=1e-5)
    assert grads.keys() == want.keys()
    for name, grad in grads.items():
        torch.testing.assert_close(grad, want[name], rtol=1e-4, atol=1e-7, msg=name)


def test_micro_batch_sum_is_the_reference_scale(tmp_path, tiny_backbone_dir, tiny_tokenizer):
    """The reference's step loss is the sum of the micro-batch means: about 3x the full-batch mean here."""
    _, _, full, _, _ = _step(tmp_path, tiny_backbone_dir, tiny_tokenizer, "full_batch")
    _, _, summed, _, _ = _step(tmp_path, tiny_backbone_dir, tiny_tokenizer, "micro_batch_sum")
    assert 2.5 < sum(summed) / sum(full) < 3.5


@pytest.mark.parametrize("mode", ["full_batch", "micro_batch_sum"])
def test_logged_components_are_means_in_both_modes(tmp_path, tiny_backbone_dir, tiny_tokenizer, mode):
    model, batches, _, _, sums = _step(tmp_path, tiny_backbone_dir, tiny_tokenizer, mode)
    _, _, parts = _independent(model, batches, mode)
    n_tokens = [int(b["labels"].ne(-100).sum()) for b in batches]
    if mode == "micro_batch_sum":  # the mean of the micro-batch means
        want_pruning = sum(p for _, p in parts) / len(parts)
    else:  # the token-weighted mean over the whole step
        want_pruning = sum(p * n for (_, p), n in zip(parts, n_tokens, strict=True)) / sum(n_tokens)
    assert sums["ranking_loss"] == pytest.approx(sum(r for r, _ in parts) / len(parts), rel=1e-5)
    assert sums["pruning_loss"] == pytest.approx(want_pruning, rel=1e-5)


def test_unknown_accumulation_mode_is_an_error(tmp_path, tiny_backbone_dir):
    model = ContextPruner.from_backbone(str(tiny_backbone_dir))
    args = PruningTrainingArguments(output_dir=str(tmp_path), report_to="none")
    with pytest.raises(ValueError, match="loss_accumulation must be one of full_batch, micro_batch_sum"):
        PruningTrainer(model=model, args=args, loss_accumulation="sum")


def test_the_trainer_takes_hf_positional_arguments_and_returns_outputs_on_request(
    tmp_path, tiny_backbone_dir, tiny_tokenizer
):
    model = ContextPruner.from_backbone(str(tiny_backbone_dir))
    args = PruningTrainingArguments(output_dir=str(tmp_path), report_to="none")
    trainer = PruningTrainer(model, args)  # Trainer(model, args, ...) as HF documents it
    assert trainer.model is model and trainer.args is args
    batch = _micro_batches(tiny_tokenizer)[0]
    loss, outputs = trainer.compute_loss(model, dict(batch), return_outputs=True)
    assert outputs.token_logits.shape == (*batch["input_ids"].shape, 2)
    assert torch.equal(trainer.compute_loss(model, dict(batch)), loss)


def test_an_accelerator_that_divides_again_is_refused(tmp_path, tiny_backbone_dir, monkeypatch):
    """transformers 5.3-5.5 hand accelerate the accumulation steps, and its backward divides each loss again."""
    from accelerate import Accelerator

    monkeypatch.setattr(Accelerator, "gradient_accumulation_steps", property(lambda self: 3))
    model = ContextPruner.from_backbone(str(tiny_backbone_dir))
    args = PruningTrainingArguments(output_dir=str(tmp_path), report_to="none", gradient_accumulation_steps=3)
    with pytest.raises(PruningError, match=r"hands its 3 gradient-accumulation steps to accelerate.*>=5\.6"):
        PruningTrainer(model=model, args=args)


def _bare_trainer(tmp_path, backbone, step, resumed_from=None):
    trainer = PruningTrainer(
        model=ContextPruner.from_backbone(str(backbone)),
        args=PruningTrainingArguments(output_dir=str(tmp_path), report_to="none"),
    )
    trainer.state.global_step = step
    trainer.resumed_from = resumed_from
    trainer._tr_loss = torch.tensor(0.0)
    return trainer


def test_logging_state_saved_in_a_checkpoint_restores_the_running_sums(tmp_path, tiny_backbone_dir, caplog):
    """What a checkpoint holds of the loss logging between two logs, and what a resume at that step restores."""
    trainer = _bare_trainer(tmp_path, tiny_backbone_dir, step=7)
    trainer._globalstep_last_logged = trainer._train_steps_logged = 5
    trainer._tr_loss = torch.tensor(1.5)  # the Trainer's loss summed since the last log
    trainer._train_sums = {"ranking_loss": 0.25, "pruning_loss": 0.75}
    trainer._total_loss_scalar, trainer._prior_loss_total = 3.0, 1.0
    trainer.span_counts = [2, 9]
    saved = json.loads(json.dumps(trainer._logging_state()))  # as the checkpoint's file holds it
    assert saved == {
        "global_step": 7,
        "globalstep_last_logged": 5,
        "train_steps_logged": 5,
        "pending_loss": 1.5,
        "pending_components": {"ranking_loss": 0.25, "pruning_loss": 0.75},
        "logged_loss_total": 4.0,
        "span_counts": {"truncated_spans": 2, "total_spans": 9},
    }

    resumed = _bare_trainer(tmp_path, tiny_backbone_dir, step=7, resumed_from="checkpoint-7")
    resumed._restore_logging_state(saved)
    assert resumed._tr_loss.item() == 1.5
    assert (resumed._globalstep_last_logged, resumed._train_steps_logged, resumed.resumed_at_step) == (5, 5, 7)
    assert resumed._train_sums == {"ranking_loss": 0.25, "pruning_loss": 0.75}
    assert (resumed._prior_loss_total, resumed.span_counts) == (4.0, [2, 9])

    elsewhere = _bare_trainer(tmp_path, tiny_backbone_dir, step=8, resumed_from="checkpoint-8")
    elsewhere._train_sums, elsewhere.span_counts = {"ranking_loss": 9.0, "pruning_loss": 9.0}, [4, 4]
    with caplog.at_level("WARNING", logger="pruning.train.trainer"):
        elsewhere._restore_logging_state(saved)
    assert "logging state is for step 7, not 8: not restored" in caplog.text
    assert elsewhere._tr_loss.item() == 0.0 and elsewhere._train_steps_logged == 8
    assert elsewhere._train_sums == {"ranking_loss": 0.0, "pruning_loss": 0.0}
    assert (elsewhere._prior_loss_total, elsewhere.span_counts, elsewhere.resumed_at_step) == (0.0, [0, 0], 8)

    fresh = _bare_trainer(tmp_path, tiny_backbone_dir, step=0)
    fresh._restore_logging_state(None)
    assert fresh.resumed_at_step is None and fresh._train_steps_logged == 0


def test_evaluation_weighs_every_batch_by_its_pairs_and_tokens(tmp_path, tiny_backbone_dir, tiny_tokenizer):
    """Eval losses over batches of unequal size: the mean over all pairs and all labelled tokens, not the last batch."""
    torch.manual_seed(0)
    model = ContextPruner.from_backbone(str(tiny_backbone_dir), config_overrides=NO_DROPOUT)
    rows = make_rows(5, k=2, seed=3)
    collator = PruningCollator(tiny_tokenizer, max_length=64)
    args = PruningTrainingArguments(
        output_dir=str(tmp_path), report_to="none", per_device_eval_batch_size=2, remove_unused_columns=False
    )
    metrics = PruningTrainer(model=model, args=args, data_collator=collator, eval_dataset=rows).evaluate()

    squared, pairs, cross_entropy, tokens = 0.0, 0, 0.0, 0
    model.eval()
    with torch.no_grad():
        for start in range(0, len(rows), 2):  # the batches the Trainer forms: 2, 2 and 1 rows
            batch = collator(rows[start : start + 2])
            out = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"])
            squared += F.mse_loss(out.ranking_logits, batch["ranking_targets"], reduction="sum").item()
            pairs += batch["ranking_targets"].numel()
            labels = batch["labels"].reshape(-1)
            cross_entropy += F.cross_entropy(out.token_logits.reshape(-1, 2), labels, reduction="sum").item()
            tokens += int(labels.ne(IGNORE_INDEX).sum())
    assert metrics["eval_ranking_loss"] == pytest.approx(squared / pairs, rel=1e-5)
    assert metrics["eval_pruning_loss"] == pytest.approx(cross_entropy / tokens, rel=1e-5)
    assert metrics["eval_loss"] == pytest.approx(0.05 * squared / pairs + cross_entropy / tokens, rel=1e-5)


class _TokenIdLogits(torch.nn.Module):
    """A stub pruner: ranking logit 0; token logits (0, 0) for id 1 and (0, ln 3) for id 2, so a labelled token's
    cross-entropy is ln 2 for id 1, and ln(4/3) (label 1) or ln 4 (label 0) for id 2."""

    def __init__(self):
        super().__init__()
        self.unused = torch.nn.Parameter(torch.zeros(1))  # the Trainer wants a parameter to place

    def forward(self, input_ids, **_):
        second = (input_ids == 2).float() * torch.log(torch.tensor(3.0))
        token_logits = torch.stack([torch.zeros_like(second), second], dim=-1)
        return SimpleNamespace(ranking_logits=torch.zeros(len(input_ids)), token_logits=token_logits)


def _row(ids, labels, target):
    """One dataset row (a query with one passage) as tensors; `_concat` stacks rows into a batch."""
    return {"input_ids": [ids], "labels": [labels], "ranking_targets": [target]}


def _concat(rows):
    return {key: torch.tensor([v for row in rows for v in row[key]]) for key in rows[0]}


# Batches of 2 rows: A = rows 1-2 (2 pairs, targets 1 and 1: squared errors 1, 1; 3 labelled tokens of id 1:
# ln 2 each), B = row 3 (1 pair, target 2: squared error 4; 1 labelled token of id 2 with label 1: ln 4/3).
HAND_ROWS = [
    _row([1, 1, 3], [0, 1, -100], 1.0),
    _row([1, 3, 3], [1, -100, -100], 1.0),
    _row([2, 3, 3], [1, -100, -100], 2.0),
]
LN2, LN4_3 = math.log(2), math.log(4 / 3)
TOTAL_A, TOTAL_B = RANKING_WEIGHT * 1 + PRUNING_WEIGHT * LN2, RANKING_WEIGHT * 4 + PRUNING_WEIGHT * LN4_3
HAND = {  # (ranking, pruning, total)
    # over the split: 3 pairs, 4 labelled tokens; the total is the components' weighted sum
    "split": (
        (1 + 1 + 4) / 3,
        (3 * LN2 + LN4_3) / 4,
        RANKING_WEIGHT * (1 + 1 + 4) / 3 + PRUNING_WEIGHT * (3 * LN2 + LN4_3) / 4,
    ),
    # as the reference logged them: the mean of the two batches' own means, and the Trainer's total, each batch's
    # total weighted by its size (2 and 1 pairs; the reference's eval_loss was measured to follow this rule)
    "per_batch": ((1 + 4) / 2, (LN2 + LN4_3) / 2, (2 * TOTAL_A + TOTAL_B) / 3),
}


@pytest.mark.parametrize("average", ["split", "per_batch"])
def test_eval_losses_follow_their_average_over_batches_of_unequal_size(tmp_path, average):
    args = PruningTrainingArguments(
        output_dir=str(tmp_path), report_to="none", per_device_eval_batch_size=2, remove_unused_columns=False
    )
    trainer = PruningTrainer(
        model=_TokenIdLogits(),
        args=args,
        data_collator=_concat,
        eval_dataset=HAND_ROWS,
        ranking_weight=RANKING_WEIGHT,
        pruning_weight=PRUNING_WEIGHT,
        eval_loss_average=average,
    )
    metrics = trainer.evaluate()
    ranking, pruning, total = HAND[average]
    assert metrics["eval_ranking_loss"] == pytest.approx(ranking, rel=1e-6)
    assert metrics["eval_pruning_loss"] == pytest.approx(pruning, rel=1e-6)
    assert metrics["eval_loss"] == pytest.approx(total, rel=1e-6)
    other = HAND["per_batch" if average == "split" else "split"]
    assert all(abs(mine - theirs) > 0.01 for mine, theirs in zip(HAND[average], other, strict=True))
    # per_batch's total is not the sum of its component means: the reference's Trainer weighed batches by size
    assert (
        abs(HAND["per_batch"][2] - (RANKING_WEIGHT * HAND["per_batch"][0] + PRUNING_WEIGHT * HAND["per_batch"][1]))
        > 0.01
    )


def test_unknown_eval_loss_average_is_an_error(tmp_path):
    args = PruningTrainingArguments(output_dir=str(tmp_path), report_to="none")
    with pytest.raises(ValueError, match="eval_loss_average must be one of split, per_batch, got 'tokens'"):
        PruningTrainer(model=_TokenIdLogits(), args=args, eval_loss_average="tokens")


def _last_log(trainer):
    """The last log entry without the epoch, which only some transformers versions add."""
    return {k: v for k, v in trainer.state.log_history[-1].items() if k != "epoch"}


def test_log_adds_the_component_means_of_the_steps_since_the_last_log(tmp_path, tiny_backbone_dir):
    trainer = _bare_trainer(tmp_path, tiny_backbone_dir, step=4)
    trainer._train_steps_logged = 2
    trainer._train_sums = {"ranking_loss": 0.2469134, "pruning_loss": 1.0}  # summed over steps 3 and 4
    trainer.log({"loss": 0.5})
    assert _last_log(trainer) == {"loss": 0.5, "ranking_loss": 0.123457, "pruning_loss": 0.5, "step": 4}
    assert trainer._train_sums == {"ranking_loss": 0.0, "pruning_loss": 0.0} and trainer._train_steps_logged == 4
    trainer.log({"loss": 0.5})  # again at the same step: no step to average over
    assert _last_log(trainer) == {"loss": 0.5, "step": 4}

    trainer.log({"train_loss": 0.75})  # the end of a run that was not resumed: the Trainer's own mean
    assert trainer.state.log_history[-1]["train_loss"] == 0.75 and trainer.run_mean_loss == 0.75
    trainer.resumed_at_step, trainer._prior_loss_total, trainer._total_loss_scalar = 2, 1.0, 3.0
    trainer.log({"train_loss": 0.75})  # resumed at step 2: the mean over all 4 steps, before and after the resume
    assert trainer.state.log_history[-1]["train_loss"] == 1.0 and trainer.run_mean_loss == 1.0


def test_a_run_resumed_at_its_last_step_reports_the_mean_of_its_steps(tmp_path, tiny_backbone_dir):
    trainer = _bare_trainer(tmp_path, tiny_backbone_dir, step=1)  # resumed from checkpoint-1 of a 1-step run
    trainer.resumed_at_step, trainer._prior_loss_total, trainer._total_loss_scalar = 1, 0.625, 0.0
    trainer.log({"train_loss": 0.0})
    assert trainer.state.log_history[-1]["train_loss"] == trainer.run_mean_loss == 0.625


@pytest.mark.parametrize("as_keyword", [False, True])
def test_log_passes_the_start_time_on_to_the_trainer(tmp_path, tiny_backbone_dir, monkeypatch, as_keyword):
    """The Trainer's log(logs, start_time) reads start_time for the token throughput; PruningTrainer.log must hand
    it on, however the caller passes it."""
    seen = []
    monkeypatch.setattr(Trainer, "log", lambda self, logs, start_time=None: seen.append((dict(logs), start_time)))
    trainer = _bare_trainer(tmp_path, tiny_backbone_dir, step=1)
    trainer.log({"eval_loss": 0.5}, start_time=12.5) if as_keyword else trainer.log({"eval_loss": 0.5}, 12.5)
    assert seen == [({"eval_loss": 0.5}, 12.5)]


def test_evaluation_counts_the_spans_of_the_batches_it_reads(tmp_path, tiny_backbone_dir, tiny_tokenizer):
    rows = make_rows(5, k=2, seed=3)
    reference = PruningCollator(tiny_tokenizer, max_length=32)  # short: some spans are cut
    reference(rows)
    args = PruningTrainingArguments(
        output_dir=str(tmp_path), report_to="none", per_device_eval_batch_size=2, remove_unused_columns=False
    )
    collator = PruningCollator(tiny_tokenizer, max_length=32, counts_in_batch=True)
    model = ContextPruner.from_backbone(str(tiny_backbone_dir))
    trainer = PruningTrainer(model=model, args=args, data_collator=collator, eval_dataset=rows)
    trainer.evaluate()
    assert 0 < reference.truncated_spans < reference.total_spans
    assert trainer.span_totals() == [reference.truncated_spans, reference.total_spans]


def test_evaluation_metrics_take_the_requested_prefix(tmp_path, tiny_backbone_dir, tiny_tokenizer):
    collator = PruningCollator(tiny_tokenizer, max_length=64)
    rows = make_rows(2, k=2, seed=3)
    args = PruningTrainingArguments(output_dir=str(tmp_path), report_to="none", remove_unused_columns=False)
    model = ContextPruner.from_backbone(str(tiny_backbone_dir))
    trainer = PruningTrainer(model=model, args=args, data_collator=collator, eval_dataset=rows)
    parts = ("loss", "ranking_loss", "pruning_loss")
    assert {f"val_{p}" for p in parts} <= set(trainer.evaluate(metric_key_prefix="val"))
    loader = trainer.get_eval_dataloader()
    positional = trainer.evaluation_loop(loader, "Evaluation", True, None, "pos").metrics
    assert {f"pos_{p}" for p in parts} <= set(positional)
    default = trainer.evaluation_loop(loader, "Evaluation", True, None).metrics
    assert {f"eval_{p}" for p in parts} <= set(default)


def _decays(name: str) -> bool:
    """Weight decay as HF splits it: not on biases and normalisation weights (BERT's are named LayerNorm)."""
    return not (name.endswith(".bias") or ".LayerNorm." in name)


def test_head_learning_rate_gets_its_own_groups(tmp_path, tiny_backbone_dir):
    assert is_head_parameter("pruning_head.1.weight") and is_head_parameter("backbone.classifier.weight")
    assert is_head_parameter("backbone.bert.pooler.dense.bias")
    assert not is_head_parameter("backbone.bert.encoder.layer.0.attention.self.query.weight")
    assert not is_head_parameter("backbone.bert.encoder.layer.0.attention.output.classifier_like.weight")
    model = ContextPruner.from_backbone(str(tiny_backbone_dir))
    frozen = model.freeze_lower_layers(1)  # frozen parameters are left out of every group
    args = PruningTrainingArguments(output_dir=str(tmp_path), learning_rate=1e-4, weight_decay=0.01, report_to="none")
    trainer = PruningTrainer(model=model, args=args, head_learning_rate=1e-2)
    optimizer = trainer.create_optimizer()
    by_param = {id(p): g for g in optimizer.param_groups for p in g["params"]}
    trained = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    assert frozen > 0 and len(trained) < len(list(model.parameters()))
    assert sum(len(g["params"]) for g in optimizer.param_groups) == len(by_param) == len(trained)
    for name, param in trained:
        group = by_param[id(param)]
        assert group["lr"] == (1e-2 if is_head_parameter(name) else 1e-4), name
        assert group["weight_decay"] == (0.01 if _decays(name) else 0.0), name
    # four groups: backbone and heads, each with and without decay, the backbone's first
    assert [(g["lr"], g["weight_decay"]) for g in optimizer.param_groups] == [
        (1e-4, 0.01),
        (1e-4, 0.0),
        (1e-2, 0.01),
        (1e-2, 0.0),
    ]
    assert trainer.create_optimizer() is optimizer  # the Trainer asks again when it builds the scheduler


def test_without_a_head_learning_rate_every_parameter_keeps_the_learning_rate(tmp_path, tiny_backbone_dir):
    model = ContextPruner.from_backbone(str(tiny_backbone_dir))
    args = PruningTrainingArguments(output_dir=str(tmp_path), learning_rate=1e-4, weight_decay=0.01, report_to="none")
    optimizer = PruningTrainer(model=model, args=args).create_optimizer()
    assert {g["lr"] for g in optimizer.param_groups} == {1e-4}
    assert sum(len(g["params"]) for g in optimizer.param_groups) == len(list(model.parameters()))


@pytest.mark.parametrize("head_learning_rate", [1e-2, None])
def test_the_optimizer_is_built_for_the_model_it_is_given(tmp_path, tiny_backbone_dir, head_learning_rate):
    """The Trainer passes the model to optimise (it may be another object than trainer.model)."""
    args = PruningTrainingArguments(output_dir=str(tmp_path), report_to="none")
    trainer = PruningTrainer(
        model=ContextPruner.from_backbone(str(tiny_backbone_dir)), args=args, head_learning_rate=head_learning_rate
    )
    other = ContextPruner.from_backbone(str(tiny_backbone_dir))
    optimizer = trainer.create_optimizer(other)
    optimised = {id(p) for g in optimizer.param_groups for p in g["params"]}
    assert optimised == {id(p) for p in other.parameters()}


def test_token_loss_is_scaled_for_the_mean_ddp_takes_over_processes(
    tmp_path, tiny_backbone_dir, tiny_tokenizer, monkeypatch
):
    """With the label count gathered over P processes, each process's token loss is P × its share of the global
    mean, so that DDP's gradient mean over processes gives the single-process loss; ranking is not touched."""
    torch.manual_seed(0)
    model = ContextPruner.from_backbone(str(tiny_backbone_dir), config_overrides=NO_DROPOUT)
    args = PruningTrainingArguments(output_dir=str(tmp_path), report_to="none", remove_unused_columns=False)
    trainer = PruningTrainer(model=model, args=args)
    trainer.current_gradient_accumulation_steps = 1
    batch = _micro_batches(tiny_tokenizer)[0]
    global_items = 1000  # the labelled tokens of all processes' batches together
    with torch.no_grad():
        out = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"])
    ce_sum = F.cross_entropy(out.token_logits.reshape(-1, 2), batch["labels"].reshape(-1), reduction="sum").item()
    mse = F.mse_loss(out.ranking_logits, batch["ranking_targets"]).item()
    for processes in (1, 2, 4):
        monkeypatch.setattr(PruningTrainingArguments, "world_size", property(lambda self, p=processes: p))
        with torch.no_grad():
            parts, _ = trainer._parts(model, dict(batch), torch.tensor(global_items))
        assert parts.pruning.item() == pytest.approx(processes * ce_sum / global_items, rel=1e-5), processes
        assert parts.ranking.item() == pytest.approx(mse, rel=1e-5), processes
    monkeypatch.setattr(trainer.args, "average_tokens_across_devices", False)  # the count is per process
    with torch.no_grad():
        parts, _ = trainer._parts(model, dict(batch), torch.tensor(global_items))
    assert parts.pruning.item() == pytest.approx(ce_sum / global_items, rel=1e-5)
