"""Which contexts moved: the per-context score differences between a run and a baseline on one evaluation file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pruning.data.eval_files import load_eval_file
from pruning.errors import PruningError


@dataclass(frozen=True)
class ContextDrift:
    """One context's score in the run and in the baseline; `flipped` when the keep decision at the threshold differs."""

    item: int
    context: int
    query: str
    label: int | None
    old: float
    new: float
    flipped: bool
    text: str | None = None  # the context, when the evaluation file could be read

    @property
    def delta(self) -> float:
        return self.new - self.old


@dataclass(frozen=True)
class Drift:
    """Every context's drift (largest |Δ| first), the threshold the flips are counted at, and a note on the text."""

    contexts: list[ContextDrift]
    threshold: float
    text_note: str  # "" when the context texts were read, else why not

    @property
    def flips(self) -> int:
        return sum(c.flipped for c in self.contexts)

    @property
    def flips_to_delete(self) -> int:
        """Contexts the baseline kept and the run deletes."""
        return sum(c.flipped and c.new < self.threshold for c in self.contexts)


def _context_texts(data: Any, items: list[dict[str, Any]]) -> tuple[list[list[str]] | None, str]:
    """The contexts of the evaluation file the run scored, when it can still be read and matches the run."""
    if not isinstance(data, str):
        return None, "the run's result does not name its evaluation file"
    if not Path(data).is_file():
        return None, f"the evaluation file {data} is not on this machine"
    try:
        eval_items = load_eval_file(data)
    except PruningError as exc:
        return None, f"the evaluation file cannot be read ({exc})"
    if [e.query for e in eval_items] != [it["query"] for it in items]:
        return None, f"the evaluation file {data} no longer holds the queries the run scored"
    return [e.contexts for e in eval_items], ""


def context_drift(got: dict[str, Any], want: dict[str, Any], threshold: float) -> Drift:
    """Pair the run's per-context scores (`got`, a result) with the baseline's (`want`); same inputs required."""
    g_items, w_items = got["items"], want["items"]
    texts, note = _context_texts(got.get("data"), g_items)
    out = []
    for i, (g, w) in enumerate(zip(g_items, w_items, strict=True)):
        labels = g.get("labels") or [None] * len(g["scores"])
        for j, (new, old) in enumerate(zip(g["scores"], w["scores"], strict=True)):
            text = texts[i][j] if texts is not None and j < len(texts[i]) else None
            flipped = (new >= threshold) != (old >= threshold)
            out.append(ContextDrift(i, j, g["query"], labels[j], float(old), float(new), flipped, text))
    out.sort(key=lambda c: (-abs(c.delta), c.item, c.context))
    return Drift(out, threshold, note)
