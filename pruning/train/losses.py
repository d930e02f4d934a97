"""The joint objective: ranking distillation (MSE on the raw logit) + token keep/drop cross-entropy.

Inputs: `ranking_logits` (P,) raw reranker logits, `ranking_targets` (P,) teacher scores (or 0/1 labels),
`token_logits` (P, T, 2), `token_labels` (P, T) with -100 for tokens that carry no label.

With `token_teacher_weight` α > 0 the token head is distilled from the teacher too: each labelled token's
target keep probability is (1 − α) × its label + α × its pair's ranking target, and the loss is the
cross-entropy against that soft target. α = 0 is the plain hard-label cross-entropy. `token_targets` (P, T),
when given (the collator's sentence-teacher targets), take the place of the labels in that mix: the target is
(1 − α) × token_target + α × the pair's ranking target, on the tokens the labels mark as labelled.

    >>> import torch
    >>> out = pruning_loss(torch.zeros(2), torch.ones(2), torch.zeros(2, 3, 2),
    ...                    torch.tensor([[1, 0, -100], [-100, -100, 1]]))
    >>> round(out.ranking.item(), 4), round(out.pruning.item(), 4)
    (1.0, 0.6931)
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

IGNORE_INDEX = -100


@dataclass(frozen=True)
class LossParts:
    """The weighted total and its two unweighted components."""

    total: torch.Tensor
    ranking: torch.Tensor
    pruning: torch.Tensor


def pruning_loss(
    ranking_logits: torch.Tensor,
    ranking_targets: torch.Tensor,
    token_logits: torch.Tensor,
    token_labels: torch.Tensor,
    ranking_weight: float = 0.05,
    pruning_weight: float = 1.0,
    num_label_tokens: torch.Tensor | int | None = None,
    ranking_scale: float = 1.0,
    token_teacher_weight: float = 0.0,
    token_targets: torch.Tensor | None = None,
) -> LossParts:
    """ranking_weight × MSE(logit, target) + pruning_weight × CE over labelled tokens.

    By default both components are means over this batch. Under gradient accumulation the trainer passes
    `num_label_tokens` (labelled tokens in the whole accumulated batch) and `ranking_scale` (1 / micro-batches)
    so that the parts summed over micro-batches equal the full-batch means.
    """
    if ranking_logits.shape != ranking_targets.shape:
        raise ValueError(
            f"pruning_loss: ranking_logits {tuple(ranking_logits.shape)} and ranking_targets "
            f"{tuple(ranking_targets.shape)} must have one shape"
        )
    if token_logits.shape[:-1] != token_labels.shape or token_logits.shape[-1] != 2:
        raise ValueError(
            f"pruning_loss: token_logits {tuple(token_logits.shape)} must be token_labels "
            f"{tuple(token_labels.shape)} + (2,)"
        )
    if token_targets is not None and token_targets.shape != token_labels.shape:
        raise ValueError(
            f"pruning_loss: token_targets {tuple(token_targets.shape)} must have token_labels' shape "
            f"{tuple(token_labels.shape)}"
        )
    if not 0.0 <= token_teacher_weight <= 1.0:
        raise ValueError(f"pruning_loss: token_teacher_weight must lie in [0, 1], got {token_teacher_weight}")
    ranking = F.mse_loss(ranking_logits.float(), ranking_targets.float()) * ranking_scale
    if token_teacher_weight == 0.0 and token_targets is None:
        ce_sum = F.cross_entropy(
            token_logits.float().reshape(-1, 2),
            token_labels.reshape(-1),
            ignore_index=IGNORE_INDEX,
            reduction="sum",
        )
    else:
        ce_sum = _soft_token_ce_sum(token_logits, token_labels, ranking_targets, token_teacher_weight, token_targets)
    if num_label_tokens is None:
        num_label_tokens = token_labels.ne(IGNORE_INDEX).sum()
    denom = torch.as_tensor(num_label_tokens, dtype=ce_sum.dtype, device=ce_sum.device).clamp(min=1)
    pruning = ce_sum / denom
    return LossParts(ranking_weight * ranking + pruning_weight * pruning, ranking, pruning)


def _soft_token_ce_sum(
    token_logits: torch.Tensor,
    token_labels: torch.Tensor,
    ranking_targets: torch.Tensor,
    alpha: float,
    token_targets: torch.Tensor | None = None,
) -> torch.Tensor:
    """Summed cross-entropy of the labelled tokens against (1 − α) × label (or token target) + α × the pair's
    ranking target."""
    valid = token_labels.ne(IGNORE_INDEX)
    hard = token_labels.clamp(min=0).float() if token_targets is None else token_targets.float()
    keep = (1.0 - alpha) * hard + alpha * ranking_targets.float().unsqueeze(-1)
    log_probs = F.log_softmax(token_logits.float(), dim=-1)
    per_token = -(keep * log_probs[..., 1] + (1.0 - keep) * log_probs[..., 0])
    return per_token[valid].sum()
