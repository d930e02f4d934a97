"""The joint objective: ranking distillation (MSE on the raw logit) + token keep/drop cross-entropy.

Inputs: `ranking_logits` (P,) raw reranker logits, `ranking_targets` (P,) teacher scores (or 0/1 labels),
`token_logits` (P, T, 2), `token_labels` (P, T) with -100 for tokens that carry no label.

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
    ranking = F.mse_loss(ranking_logits.float(), ranking_targets.float()) * ranking_scale
    ce_sum = F.cross_entropy(
        token_logits.float().reshape(-1, 2),
        token_labels.reshape(-1),
        ignore_index=IGNORE_INDEX,
        reduction="sum",
    )
    if num_label_tokens is None:
        num_label_tokens = token_labels.ne(IGNORE_INDEX).sum()
    denom = torch.as_tensor(num_label_tokens, dtype=ce_sum.dtype, device=ce_sum.device).clamp(min=1)
    pruning = ce_sum / denom
    return LossParts(ranking_weight * ranking + pruning_weight * pruning, ranking, pruning)
