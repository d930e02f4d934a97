"""The history ledger: one JSON line per comparison, appended when PRUNING_HISTORY names a file.

Each line records when, which code (the run's commit), where (device, package versions), the key metrics with the
baseline's value and band, the verdict and the report page. Appends take an exclusive lock and write the whole
line with one `write` on a file opened for appending, then fsync: two processes never interleave, and a crash can
tear only the line being written. A torn line is ended before the next append, so it stays on its own; readers
report and skip every line that is not a whole JSON object, and keep the rest.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pruning.errors import PruningError
from pruning.harness.artefacts import RunArtifacts
from pruning.harness.compare import Comparison

logger = logging.getLogger(__name__)

ENV = "PRUNING_HISTORY"
SCHEMA = 1


def _metric(name: str, value: Any, expected: Any, low: float | None, high: float | None) -> dict[str, Any]:
    return {"name": name, "value": value, "baseline": expected, "low": low, "high": high}


def key_metrics(comparison: Comparison) -> list[dict[str, Any]]:
    """F2.5, recall and FN at the baseline's best threshold per evaluation, and the final eval losses."""
    out = []
    for c in comparison.checks:
        kind = next((k for k in ("F2.5 at", "FN at", "recall at") if f": {k} " in c.name), None)
        loss = c.name.startswith("final_eval ")
        if (kind or loss) and isinstance(c.obtained, int | float) and isinstance(c.expected, int | float):
            out.append(_metric(c.name, c.obtained, c.expected, c.low, c.high))
    return out


def entry(run: RunArtifacts, comparison: Comparison, report: str | Path | None = None) -> dict[str, Any]:
    """The ledger line of one comparison."""
    raw = run.summary.get("code")
    code: dict[str, Any] = raw if isinstance(raw, dict) else {}
    return {
        "schema": SCHEMA,
        "time": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": code.get("commit"),
        "dirty": code.get("dirty"),
        "device": run.summary.get("device"),
        "versions": run.summary.get("versions"),
        "run_dir": str(run.run_dir),
        "baseline": comparison.baseline,
        "verdict": "pass" if comparison.ok else "FAIL",
        "failed": [c.name for c in comparison.failed],
        "metrics": key_metrics(comparison),
        "significance": {name: sig["verdict"] for name, sig in comparison.significance.items()},
        "report": None if report is None else str(report),
    }


def append(path: str | Path, record: dict[str, Any]) -> Path:
    """Append `record` as one line, under an exclusive lock; a torn last line left by a crash is ended first."""
    path = Path(path)
    line = (json.dumps(record, ensure_ascii=False, default=str) + "\n").encode("utf-8")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
    except OSError as exc:
        raise PruningError(f"{path}: cannot append to the history ledger: {exc.strerror or exc}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        size = os.fstat(fd).st_size
        if size and os.pread(fd, 1, size - 1) != b"\n":
            line = b"\n" + line
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)  # closing releases the lock
    return path


def append_from_env(run: RunArtifacts, comparison: Comparison, report: str | Path | None = None) -> Path | None:
    """Append the comparison to the ledger PRUNING_HISTORY names; nothing when it is unset."""
    target = os.environ.get(ENV)
    return append(target, entry(run, comparison, report)) if target else None


@dataclass
class Ledger:
    """The readable entries of a ledger, in order, and the lines that were skipped (1-based numbers and why)."""

    entries: list[dict[str, Any]]
    skipped: list[tuple[int, str]]


def read(path: str | Path) -> Ledger:
    """Every whole entry; a torn or foreign line is skipped and reported (logged and listed), never fatal."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise PruningError(f"{path}: cannot read the history ledger: {exc.strerror or exc}") from None
    entries, skipped = [], []
    for number, line in enumerate(raw.split(b"\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            record = None
        if not isinstance(record, dict) or not isinstance(record.get("metrics"), list):
            why = "torn (not a whole JSON entry)" if record is None else "not a ledger entry"
            skipped.append((number, why))
            logger.warning("%s: line %d skipped: %s", path, number, why)
            continue
        entries.append(record)
    return Ledger(entries, skipped)
