"""The baseline captured from the hand-made run that the harness tests compare against."""

from __future__ import annotations

import pytest

from pruning.harness.artefacts import load_run
from pruning.harness.baseline import capture
from tests.harness.helpers import make_run


@pytest.fixture
def baseline(tmp_path):
    return capture(load_run(make_run(tmp_path / "base")))
