"""Provence-style context pruner: a reranker that also scores every sentence of a context for a query.

The public API is `Pruner` (imported on first use, so that `import pruning` stays light):

    from pruning import Pruner
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["Pruner", "PruneResult", "PrunedSentence", "PruningError"]


def __getattr__(name: str) -> Any:
    if name == "Pruner":
        from pruning.prune.pruner import Pruner

        return Pruner
    if name in ("PruneResult", "PrunedSentence"):
        from pruning.prune import result

        return getattr(result, name)
    if name == "PruningError":
        from pruning.errors import PruningError

        return PruningError
    raise AttributeError(f"module 'pruning' has no attribute {name!r}")
