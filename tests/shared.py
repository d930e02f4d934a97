"""Where the tests find `../shared` (the QA corpora live there, never in the repository).

`PRUNING_SHARED` overrides the location. Without the folder a test that needs it skips, saying where it looked,
unless `PRUNING_REQUIRE_SHARED=1` (set by `scripts/test.sh`, which CI runs): then the test fails, so that a
missing folder can never turn the tier green without running it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def shared_root() -> Path:
    return Path(os.environ.get("PRUNING_SHARED", ROOT.parent / "shared"))


def require_shared(*parts: str) -> Path:
    """`shared_root() / parts` if it exists; otherwise skip the test, or fail it under PRUNING_REQUIRE_SHARED=1."""
    path = shared_root().joinpath(*parts)
    if not path.exists():
        message = f"{path} not found (set PRUNING_SHARED to the shared folder)"
        if os.environ.get("PRUNING_REQUIRE_SHARED") == "1":
            pytest.fail(f"{message}; PRUNING_REQUIRE_SHARED=1 forbids skipping")
        pytest.skip(message)
    return path
