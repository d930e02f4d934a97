"""Project-wide pytest set-up: regression files live under baselines/, and the GPU tier skips with a reason.

Under scripts/mutation.sh, PRUNING_MUTATION_TESTS (test path prefixes) keeps only the tests that exercise the
module being mutated: mutmut's own map holds every test that reaches a function, slow training runs included.
"""

from __future__ import annotations

import gc
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


def pytest_configure(config: pytest.Config) -> None:
    """Under pytest-xdist (`-n auto`), each worker's torch (and every process it starts) gets its share of the
    cores: workers that each spin up every core's OpenMP threads starve one another. The garbage collector stays
    off while the test modules import torch, transformers and the rest (a fifth of the import time went to
    collections that free nothing); pytest_collection_finish turns it back on."""
    gc.disable()
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "0"))
    if workers > 1:
        os.environ.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // workers)))


def pytest_collection_finish(session: pytest.Session) -> None:
    """Move what the session imported so far out of the garbage collector's reach: every training run ends in a
    full collection (accelerate's free_memory), which otherwise walks all of torch, transformers and the tests."""
    gc.freeze()
    gc.enable()
