"""Splitter choice: the project's by default, fast-bunkai's offsets trimmed, any callable, clear errors."""

from __future__ import annotations

import sys
import types

import pytest

from pruning.data.sentences import split_sentences
from pruning.errors import PruningError
from pruning.prune.splitters import get_splitter

pytestmark = pytest.mark.unit


def test_default_is_the_project_splitter():
    assert get_splitter(None) is split_sentences and get_splitter("project") is split_sentences


def test_fast_bunkai_offsets_are_trimmed_and_empty_pieces_dropped(monkeypatch):
    fake = types.ModuleType("fast_bunkai")

    class FastBunkai:
        def find_eos(self, text):
            return [5, 7, 12]  # as fast-bunkai does: ends after the trailing whitespace, one empty piece

    fake.FastBunkai = FastBunkai
    monkeypatch.setitem(sys.modules, "fast_bunkai", fake)
    text = "ab。 \n  cd。  x"
    assert get_splitter("fast-bunkai")(text) == [(0, 3), (7, 10), (12, 13)]


def test_fast_bunkai_missing_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "fast_bunkai", None)
    with pytest.raises(PruningError, match=r"pip install 'pruning\[bunkai\]'"):
        get_splitter("fast-bunkai")


def test_a_callable_is_used_and_a_name_must_be_known():
    def split(text):
        return [(0, len(text))]

    assert get_splitter(split) is split
    with pytest.raises(PruningError, match="splitter 'bunkai': expected one of project, fast-bunkai"):
        get_splitter("bunkai")
