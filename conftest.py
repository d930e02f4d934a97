"""Project-wide pytest set-up: regression files live under baselines/, and the GPU tier skips with a reason.

Under scripts/mutation.sh, PRUNING_MUTATION_TESTS (test path prefixes) keeps only the tests that exercise the
module being mutated: mutmut's own map holds every test that reaches a function, slow training runs included.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent
BASELINES = ROOT / "baselines"


@pytest.fixture
def original_datadir(request: pytest.FixtureRequest) -> Path:
    """pytest-regressions reads and (with --force-regen) writes its files in baselines/<test module>/."""
    return BASELINES / Path(request.node.fspath).stem


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect the tests outside PRUNING_MUTATION_TESTS, when it is set (mutation runs only)."""
    prefixes = tuple(os.environ.get("PRUNING_MUTATION_TESTS", "").split())
    if not prefixes:
        return
    drop = [item for item in items if not item.nodeid.startswith(prefixes)]
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = [item for item in items if item.nodeid.startswith(prefixes)]
