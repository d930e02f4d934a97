"""One check of a run against a baseline: its outcome, and the statuses every check module shares."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

PASS, FAIL, INFO, SKIP = "pass", "FAIL", "info", "skip"


@dataclass
class Check:
    """One comparison. `status` is pass / FAIL / info (reported, cannot fail) / skip (nothing to compare)."""

    name: str
    obtained: Any
    expected: Any
    tolerance: str
    status: str
    detail: str = ""
    low: float | None = None  # the band as numbers where it has them (the tolerance text says it to people)
    high: float | None = None
    sigmas: float | None = None  # |Δ| in units of a calibrated baseline's spread


def not_in(baseline: dict[str, Any], what: str) -> str:
    """Why a check is skipped: the baseline recorded no `what` (a seed baseline: the user's document has none)."""
    if str(baseline.get("kind", "")).startswith("seed"):
        return f"not compared: the seed's recorded numbers hold no {what}"
    return f"not compared: the baseline recorded no {what}"
