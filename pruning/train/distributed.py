"""The few collective operations a run needs under DDP (torchrun / accelerate launch); no-ops in one process.

The Trainer sets up the process group itself (from the launcher's RANK / WORLD_SIZE / LOCAL_RANK); these helpers
only ask whether one is there.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import torch
import torch.distributed as dist


def is_distributed() -> bool:
    """Whether a process group with more than one process is running."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def world_size() -> int:
    """Processes in the run (1 without a process group)."""
    return dist.get_world_size() if is_distributed() else 1


def launched_rank() -> int:
    """This process's global rank as the launcher set it (before any process group exists); 0 if not launched."""
    try:
        return int(os.environ.get("RANK", "0"))
    except ValueError:
        return 0


def barrier() -> None:
    """Wait for every process (no-op in one process)."""
    if is_distributed():
        dist.barrier()


def all_reduce_mean(values: list[float], device: torch.device | str = "cpu") -> list[float]:
    """The mean of each value over the processes (the values themselves in one process)."""
    if not is_distributed():
        return list(values)
    tensor = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return (tensor / dist.get_world_size()).tolist()


def all_reduce_sum(values: Sequence[float], device: torch.device | str = "cpu") -> list[float]:
    """The sum of each value over the processes (the values themselves in one process)."""
    if not is_distributed():
        return list(values)
    tensor = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor.tolist()


def broadcast_from_main(obj: Any) -> Any:
    """Rank 0's `obj` on every process (e.g. a default output folder named after the clock)."""
    if not is_distributed():
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]
