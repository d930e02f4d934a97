"""The project's pytest set-up (conftest.py): the garbage collector, off while the test modules import, runs again
for the tests, with what collection imported frozen out of its walks."""

from __future__ import annotations

import gc

import pytest

pytestmark = pytest.mark.unit


def test_the_collector_runs_during_the_tests_and_skips_what_collection_imported():
    assert gc.isenabled()
    assert gc.get_freeze_count() > 0  # 0 unless gc.freeze() ran: what the session had imported when collection ended
