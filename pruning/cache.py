"""Where derived artefacts live (converted models, built datasets): outside the repository."""

from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    """$PRUNING_CACHE if set, else ~/.cache/pruning."""
    return Path(os.environ.get("PRUNING_CACHE") or Path.home() / ".cache" / "pruning").expanduser()
