"""Project-wide pytest set-up: regression files live under baselines/, and the GPU tier skips with a reason."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent
BASELINES = ROOT / "baselines"


@pytest.fixture
def original_datadir(request: pytest.FixtureRequest) -> Path:
    """pytest-regressions reads and (with --force-regen) writes its files in baselines/<test module>/."""
    return BASELINES / Path(request.node.fspath).stem
