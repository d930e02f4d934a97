"""The joint loss against hand computations."""

from __future__ import annotations

import math

import pytest
import torch

from pruning.train.losses import IGNORE_INDEX, pruning_loss

pytestmark = pytest.mark.unit


def test_values_by_hand():
    ranking_logits = torch.tensor([2.0, -1.0])
    targets = torch.tensor([1.0, 0.0])  # squared errors 1 and 1 → MSE 1
    token_logits = torch.tensor([[[0.0, math.log(3.0)], [0.0, 0.0], [5.0, 5.0]]])  # p(keep)=0.75, 0.5
    labels = torch.tensor([[1, 0, IGNORE_INDEX]])
    out = pruning_loss(ranking_logits, targets, token_logits.expand(2, 3, 2), labels.expand(2, 3))
    expected_ce = (-math.log(0.75) - math.log(0.5)) / 2
    assert out.ranking.item() == pytest.approx(1.0)
    assert out.pruning.item() == pytest.approx(expected_ce, rel=1e-6)
    assert out.total.item() == pytest.approx(0.05 * 1.0 + 1.0 * expected_ce, rel=1e-6)


def test_weights_apply_to_components():
    args = (torch.tensor([0.5]), torch.tensor([0.0]), torch.zeros(1, 2, 2), torch.tensor([[1, 0]]))
    out = pruning_loss(*args, ranking_weight=2.0, pruning_weight=0.5)
    assert out.total.item() == pytest.approx(2.0 * 0.25 + 0.5 * math.log(2), rel=1e-6)


def test_ignore_index_tokens_do_not_count():
    logits = torch.randn(1, 4, 2)
    all_labels = torch.tensor([[1, 0, 1, 0]])
    masked = torch.tensor([[1, IGNORE_INDEX, 1, IGNORE_INDEX]])
    changed = logits.clone()
    changed[0, 1] = torch.tensor([100.0, -100.0])  # wildly wrong, but ignored
    a = pruning_loss(torch.zeros(1), torch.zeros(1), logits, masked)
    b = pruning_loss(torch.zeros(1), torch.zeros(1), changed, masked)
    assert a.pruning.item() == pytest.approx(b.pruning.item())
    assert pruning_loss(torch.zeros(1), torch.zeros(1), logits, all_labels).pruning.item() != pytest.approx(
        a.pruning.item()
    )


def test_all_ignored_gives_zero_not_nan():
    out = pruning_loss(torch.zeros(1), torch.zeros(1), torch.randn(1, 3, 2), torch.full((1, 3), IGNORE_INDEX))
    assert out.pruning.item() == 0.0


def test_accumulation_normalisation_sums_to_full_batch():
    torch.manual_seed(0)
    logits, labels = torch.randn(4, 5, 2), torch.randint(0, 2, (4, 5))
    labels[0, :3] = IGNORE_INDEX
    r_logits, r_targets = torch.randn(4), torch.rand(4)
    full = pruning_loss(r_logits, r_targets, logits, labels)
    n = labels.ne(IGNORE_INDEX).sum()
    halves = [
        pruning_loss(r_logits[s], r_targets[s], logits[s], labels[s], num_label_tokens=n, ranking_scale=0.5)
        for s in (slice(0, 2), slice(2, 4))
    ]
    assert sum(h.pruning for h in halves).item() == pytest.approx(full.pruning.item(), rel=1e-6)
    assert sum(h.ranking for h in halves).item() == pytest.approx(full.ranking.item(), rel=1e-6)


def test_shape_errors_are_explicit():
    with pytest.raises(ValueError, match="ranking_logits"):
        pruning_loss(torch.zeros(2), torch.zeros(3), torch.zeros(2, 1, 2), torch.zeros(2, 1, dtype=torch.long))
    # either half of the token shape rule alone is an error: labels one token short, or three classes
    with pytest.raises(ValueError, match=r"token_logits \(2, 3, 2\) must be token_labels \(2, 4\)"):
        pruning_loss(torch.zeros(2), torch.zeros(2), torch.zeros(2, 3, 2), torch.zeros(2, 4, dtype=torch.long))
    with pytest.raises(ValueError, match=r"token_logits \(2, 3, 3\)"):
        pruning_loss(torch.zeros(2), torch.zeros(2), torch.zeros(2, 3, 3), torch.zeros(2, 3, dtype=torch.long))


def test_token_teacher_target_by_hand():
    # one labelled token, label 1, its pair's teacher score 0.2, α = 0.5 → target keep probability 0.6
    token_logits = torch.tensor([[[0.0, math.log(3.0)], [9.0, 9.0]]])  # p(keep) = 0.75 on the labelled token
    labels = torch.tensor([[1, IGNORE_INDEX]])
    out = pruning_loss(torch.zeros(1), torch.tensor([0.2]), token_logits, labels, token_teacher_weight=0.5)
    expected = -(0.6 * math.log(0.75) + 0.4 * math.log(0.25))
    assert out.pruning.item() == pytest.approx(expected, rel=1e-6)


def test_token_teacher_gradient_is_probability_minus_target():
    # d CE / d (keep logit) = p(keep) − target for a two-class softmax
    logits = torch.tensor([[[0.3, -0.4], [1.0, 2.0]]], requires_grad=True)
    labels = torch.tensor([[0, 1]])
    targets = torch.tensor([0.9])
    pruning_loss(torch.zeros(1), targets, logits, labels, token_teacher_weight=0.25).pruning.backward()
    p_keep = torch.softmax(logits.detach(), -1)[0, :, 1]
    keep_target = 0.75 * labels[0].float() + 0.25 * 0.9
    assert torch.allclose(logits.grad[0, :, 1], (p_keep - keep_target) / 2, atol=1e-6)


def test_token_teacher_weight_one_ignores_labels_and_zero_ignores_targets():
    torch.manual_seed(1)
    logits, targets = torch.randn(2, 4, 2), torch.tensor([0.3, 0.8])
    labels_a = torch.tensor([[1, 1, 0, IGNORE_INDEX], [0, 0, 1, 1]])
    labels_b = 1 - labels_a.clamp(min=0)
    labels_b[0, 3] = IGNORE_INDEX
    full = [
        pruning_loss(torch.zeros(2), targets, logits, lab, token_teacher_weight=1.0).pruning
        for lab in (labels_a, labels_b)
    ]
    assert full[0].item() == pytest.approx(full[1].item(), rel=1e-6)
    hard = pruning_loss(torch.zeros(2), targets, logits, labels_a).pruning
    nearly_hard = pruning_loss(torch.zeros(2), targets, logits, labels_a, token_teacher_weight=1e-9).pruning
    assert nearly_hard.item() == pytest.approx(hard.item(), rel=1e-6)
    other_targets = pruning_loss(torch.zeros(2), torch.tensor([0.9, 0.1]), logits, labels_a).pruning
    assert other_targets.item() == pytest.approx(hard.item())


def test_token_teacher_accumulation_normalisation_sums_to_full_batch():
    torch.manual_seed(2)
    logits, labels = torch.randn(4, 5, 2), torch.randint(0, 2, (4, 5))
    labels[1, 2:] = IGNORE_INDEX
    r_logits, r_targets = torch.randn(4), torch.rand(4)
    full = pruning_loss(r_logits, r_targets, logits, labels, token_teacher_weight=0.5)
    n = labels.ne(IGNORE_INDEX).sum()
    halves = [
        pruning_loss(r_logits[s], r_targets[s], logits[s], labels[s], num_label_tokens=n, token_teacher_weight=0.5)
        for s in (slice(0, 2), slice(2, 4))
    ]
    assert sum(h.pruning for h in halves).item() == pytest.approx(full.pruning.item(), rel=1e-6)


@pytest.mark.parametrize("alpha", [-0.1, 1.5])
def test_token_teacher_weight_outside_unit_interval_is_an_error(alpha):
    with pytest.raises(ValueError, match="token_teacher_weight"):
        pruning_loss(
            torch.zeros(1), torch.zeros(1), torch.zeros(1, 1, 2), torch.tensor([[1]]), token_teacher_weight=alpha
        )


def test_token_targets_by_hand():
    # two labelled tokens with soft targets 0.8 and 0.2 (a sentence teacher's), p(keep) 0.75 and 0.5
    token_logits = torch.tensor([[[0.0, math.log(3.0)], [1.0, 1.0], [5.0, -5.0]]])
    labels = torch.tensor([[1, 0, IGNORE_INDEX]])
    targets = torch.tensor([[0.8, 0.2, 0.9]])  # the unlabelled token's target is ignored
    out = pruning_loss(torch.zeros(1), torch.tensor([0.5]), token_logits, labels, token_targets=targets)
    first = -(0.8 * math.log(0.75) + 0.2 * math.log(0.25))
    second = -math.log(0.5)
    assert out.pruning.item() == pytest.approx((first + second) / 2, rel=1e-6)
    # with the pair teacher too: (1 − α) × token target + α × ranking target, α = 0.5, ranking target 0.5
    mixed = pruning_loss(
        torch.zeros(1), torch.tensor([0.5]), token_logits, labels, token_teacher_weight=0.5, token_targets=targets
    )
    first = -(0.65 * math.log(0.75) + 0.35 * math.log(0.25))
    assert mixed.pruning.item() == pytest.approx((first + second) / 2, rel=1e-6)


def test_token_targets_equal_to_the_labels_give_the_hard_loss():
    torch.manual_seed(3)
    logits, labels = torch.randn(2, 5, 2), torch.randint(0, 2, (2, 5))
    labels[0, 4] = IGNORE_INDEX
    hard = pruning_loss(torch.zeros(2), torch.rand(2), logits, labels).pruning
    targets = labels.clamp(min=0).float()
    soft = pruning_loss(torch.zeros(2), torch.rand(2), logits, labels, token_targets=targets).pruning
    assert soft.item() == pytest.approx(hard.item(), rel=1e-6)


def test_token_targets_of_another_shape_are_an_error():
    with pytest.raises(ValueError, match=r"token_targets \(1, 2\) must have token_labels' shape \(1, 3\)"):
        pruning_loss(
            torch.zeros(1),
            torch.zeros(1),
            torch.zeros(1, 3, 2),
            torch.zeros(1, 3, dtype=torch.long),
            token_targets=torch.zeros(1, 2),
        )
