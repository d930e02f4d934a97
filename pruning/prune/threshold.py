"""The threshold a model carries: `default_threshold` in its pruner_config.json, set from an evaluation sweep."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

from pruning.errors import PruningError
from pruning.train.modeling import PRUNER_CONFIG

KEY = "default_threshold"


def read_default_threshold(model_dir: str | Path) -> dict[str, Any] | None:
    """The stored default (`{"value", "metric", ...}`), or None when the model has none."""
    path = Path(model_dir) / PRUNER_CONFIG
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise PruningError(f"{path}: cannot read ({exc})") from None
    entry = meta.get(KEY) if isinstance(meta, dict) else None
    if entry is None:
        return None
    value = entry.get("value") if isinstance(entry, dict) else None
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value) or not 0 <= value <= 1:
        raise PruningError(f"{path}: field '{KEY}.value': expected a number in [0, 1], got {value!r}")
    return entry


def store_default_threshold(model_dir: str | Path, value: float, **provenance: Any) -> Path:
    """Write `default_threshold` = {"value": value, **provenance} into the model's pruner_config.json (atomically)."""
    path = Path(model_dir) / PRUNER_CONFIG
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PruningError(f"{model_dir}: not a pruner model directory ({PRUNER_CONFIG} missing)") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise PruningError(f"{path}: cannot read ({exc})") from None
    meta[KEY] = {"value": float(value), **provenance}
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        raise PruningError(f"{path}: cannot write ({exc.strerror or exc})") from None
    return path
