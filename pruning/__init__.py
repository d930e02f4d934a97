"""Provence-style context pruner: a reranker that also scores every sentence of a context for a query."""

from __future__ import annotations

__version__ = "0.1.0"
