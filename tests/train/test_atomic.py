"""Atomic saves: a save killed at any rename leaves the previous model or nothing loadable, never a mix."""

from __future__ import annotations

import os

import pytest
import torch

from pruning.errors import PruningError
from pruning.train.atomic import INCOMPLETE_MARKER, atomic_write_text
from pruning.train.modeling import ContextPruner

pytestmark = pytest.mark.unit


@pytest.fixture
def two_models(tiny_backbone_dir):
    first = ContextPruner.from_backbone(str(tiny_backbone_dir))
    torch.manual_seed(1)
    second = ContextPruner.from_backbone(str(tiny_backbone_dir), random_init=True)
    assert not torch.equal(first.pruning_head[1].weight, second.pruning_head[1].weight)
    return first, second


def _fail_rename(monkeypatch, when):
    real = os.replace

    def replace(src, dst):
        if when(os.fspath(src), os.fspath(dst)):
            raise OSError("killed at the rename")
        return real(src, dst)

    monkeypatch.setattr(os, "replace", replace)


def _same_weights(model, directory) -> bool:
    loaded = ContextPruner.from_pretrained(directory)
    return all(torch.equal(loaded.state_dict()[k], v) for k, v in model.state_dict().items())


def test_a_save_writes_no_marker_and_loads(tmp_path, two_models):
    first, _ = two_models
    first.save_pretrained(tmp_path / "m")
    assert not (tmp_path / "m" / INCOMPLETE_MARKER).exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]  # no staging folder left behind
    assert _same_weights(first, tmp_path / "m")


def test_killed_before_the_old_model_moves_it_stays(tmp_path, two_models, monkeypatch):
    first, second = two_models
    first.save_pretrained(tmp_path / "m")
    _fail_rename(monkeypatch, lambda src, dst: dst.endswith("m.old"))
    with pytest.raises(OSError, match="killed"):
        second.save_pretrained(tmp_path / "m")
    monkeypatch.undo()
    assert _same_weights(first, tmp_path / "m")  # the old one, whole
    with pytest.raises(PruningError, match=r"m\.tmp: an incomplete save"):
        ContextPruner.from_pretrained(tmp_path / "m.tmp")


def test_killed_between_the_two_renames_nothing_loads_under_the_name(tmp_path, two_models, monkeypatch):
    first, second = two_models
    first.save_pretrained(tmp_path / "m")
    _fail_rename(monkeypatch, lambda src, dst: src.endswith("m.tmp"))  # the old one has been moved aside
    with pytest.raises(OSError, match="killed"):
        second.save_pretrained(tmp_path / "m")
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.old", "m.tmp"]
    with pytest.raises(PruningError, match="not a pruner model directory"):
        ContextPruner.from_pretrained(tmp_path / "m")
    with pytest.raises(PruningError, match="incomplete save"):
        ContextPruner.from_pretrained(tmp_path / "m.tmp")
    second.save_pretrained(tmp_path / "m")  # the next save clears the leftovers
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]
    assert _same_weights(second, tmp_path / "m")


def test_killed_after_the_rename_the_marker_still_refuses(tmp_path, two_models, monkeypatch):
    first, _ = two_models
    real_unlink = os.unlink

    def unlink(path, *args, **kwargs):
        if os.path.basename(path) == INCOMPLETE_MARKER:
            raise OSError("killed before the marker went")
        return real_unlink(path, *args, **kwargs)

    monkeypatch.setattr(os, "unlink", unlink)
    with pytest.raises(OSError, match="killed"):
        first.save_pretrained(tmp_path / "m")
    monkeypatch.undo()
    with pytest.raises(PruningError, match="incomplete save"):
        ContextPruner.from_pretrained(tmp_path / "m")


def test_atomic_text_keeps_the_old_file_when_killed(tmp_path, monkeypatch):
    target = tmp_path / "run_summary.json"
    atomic_write_text(target, "old\n")
    _fail_rename(monkeypatch, lambda src, dst: dst == str(target))
    with pytest.raises(OSError, match="killed"):
        atomic_write_text(target, "new\n")
    monkeypatch.undo()
    assert target.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run_summary.json"]  # the temporary file is gone
    atomic_write_text(target, "new\n")
    assert target.read_text() == "new\n"
