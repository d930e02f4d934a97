"""PruningTrainer's loss under gradient accumulation, per micro-batch, against an independent computation."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from pruning.config import PruningTrainingArguments
from pruning.data.synthetic import make_rows
from pruning.errors import PruningError
from pruning.train.collator import PruningCollator
from pruning.train.modeling import ContextPruner
from pruning.train.trainer import PruningTrainer

pytestmark = pytest.mark.unit

NO_DROPOUT = {"hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0}


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
    trainer = PruningTrainer(model=model, args=args, loss_accumulation=mode)
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
        loss = 0.05 * ranking + pruning
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


def test_an_accelerator_that_divides_again_is_refused(tmp_path, tiny_backbone_dir, monkeypatch):
    """transformers 5.3-5.5 hand accelerate the accumulation steps, and its backward divides each loss again."""
    from accelerate import Accelerator

    monkeypatch.setattr(Accelerator, "gradient_accumulation_steps", property(lambda self: 3))
    model = ContextPruner.from_backbone(str(tiny_backbone_dir))
    args = PruningTrainingArguments(output_dir=str(tmp_path), report_to="none", gradient_accumulation_steps=3)
    with pytest.raises(PruningError, match=r"hands its 3 gradient-accumulation steps to accelerate.*>=5\.6"):
        PruningTrainer(model=model, args=args)
