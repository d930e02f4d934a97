"""The pass/fail table of a comparison, for logs."""

from __future__ import annotations

from typing import Any

from pruning.harness.compare import Comparison


def render_table(comparison: Comparison) -> str:
    """The pass/fail table for logs."""
    header = ("check", "obtained", "expected", "tolerance", "status", "detail")
    rows = [header] + [
        (c.name, _fmt(c.obtained), _fmt(c.expected), c.tolerance, c.status, c.detail) for c in comparison.checks
    ]
    widths = [max(len(str(r[i])) for r in rows) for i in range(5)]
    lines = []
    for n, r in enumerate(rows):
        lines.append(
            "  ".join(str(v).ljust(w) for v, w in zip(r[:5], widths, strict=True)) + (f"  {r[5]}" if r[5] else "")
        )
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    verdict = "PASS" if comparison.ok else f"FAIL ({len(comparison.failed)} of {len(comparison.checks)} checks)"
    lines.append(f"\n{comparison.run_dir} vs {comparison.baseline}: {verdict}")
    return "\n".join(lines)


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4f}" if abs(value) < 1000 else f"{value:.1f}"
    return str(value)
