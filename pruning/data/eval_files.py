"""Evaluation files (`pruning_data_*.json`): load and validate strictly.

The format is a JSON list of objects ``{"query": str, "contexts": [str], "labels": [0|1], "reasoning"?: str}``;
``labels[i]`` says whether ``contexts[i]`` should be kept. Every problem is reported as a
:class:`~pruning.errors.PruningError` whose one-line message names the file, the item index and the field,
e.g. ``pruning_data.json: item 12: field 'labels': length 3 != 4 contexts``. Nothing is truncated or skipped.
"""

from __future__ import annotations

import json
import logging
import unicodedata
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Any

from pruning.errors import PruningError

logger = logging.getLogger(__name__)

REQUIRED_KEYS = ("query", "contexts", "labels")
OPTIONAL_KEYS = ("reasoning",)


@dataclass(frozen=True)
class EvalItem:
    """One query with its context sentences (in passage order) and a 0/1 keep label per sentence."""

    query: str
    contexts: list[str]
    labels: list[int]
    reasoning: str | None = None


def _has_visible_text(text: str) -> bool:
    """True when some character is neither white space nor an invisible format or control character."""
    return any(unicodedata.category(ch)[0] not in "ZC" for ch in text)


def read_json_file(path: str | PathLike[str]) -> Any:
    """Read a UTF-8 JSON file; unreadable files, bad encoding and bad JSON become a PruningError."""
    name = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise PruningError(f"{name}: cannot read: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PruningError(f"{name}: not valid UTF-8 (byte offset {exc.start})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise PruningError(f"{name}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None


def _type_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _is_label(value: Any) -> bool:
    # bool is a subclass of int in Python, and "1" is a string: neither is a label.
    return type(value) is int and value in (0, 1)


def _check_item(raw: Any, where: str) -> EvalItem:
    if not isinstance(raw, dict):
        raise PruningError(f"{where}: expected an object, got {_type_name(raw)}")
    unknown = sorted(set(raw) - set(REQUIRED_KEYS) - set(OPTIONAL_KEYS))
    if unknown:
        raise PruningError(f"{where}: field {unknown[0]!r}: unknown key (allowed: query, contexts, labels, reasoning)")

    if "query" not in raw:
        raise PruningError(f"{where}: field 'query': missing")
    query = raw["query"]
    if not isinstance(query, str):
        raise PruningError(f"{where}: field 'query': expected a string, got {_type_name(query)}")
    if not query.strip():
        raise PruningError(f"{where}: field 'query': empty")

    if "contexts" not in raw:
        raise PruningError(f"{where}: field 'contexts': missing")
    contexts = raw["contexts"]
    if not isinstance(contexts, list):
        raise PruningError(f"{where}: field 'contexts': expected a list, got {_type_name(contexts)}")
    if not contexts:
        raise PruningError(f"{where}: field 'contexts': empty list")
    for j, ctx in enumerate(contexts):
        if not isinstance(ctx, str):
            raise PruningError(f"{where}: field 'contexts[{j}]': expected a string, got {_type_name(ctx)}")
        if not ctx.strip():
            raise PruningError(f"{where}: field 'contexts[{j}]': empty string")
        if not _has_visible_text(ctx):
            raise PruningError(f"{where}: field 'contexts[{j}]': no visible characters ({ctx!r})")

    if "labels" not in raw:
        raise PruningError(f"{where}: field 'labels': missing")
    labels = raw["labels"]
    if not isinstance(labels, list):
        raise PruningError(f"{where}: field 'labels': expected a list, got {_type_name(labels)}")
    if len(labels) != len(contexts):
        raise PruningError(f"{where}: field 'labels': length {len(labels)} != {len(contexts)} contexts")
    for j, label in enumerate(labels):
        if not _is_label(label):
            raise PruningError(f"{where}: field 'labels[{j}]': expected 0 or 1, got {label!r} ({_type_name(label)})")

    reasoning = raw.get("reasoning")
    if reasoning is not None and not isinstance(reasoning, str):
        raise PruningError(f"{where}: field 'reasoning': expected a string, got {_type_name(reasoning)}")

    return EvalItem(query=query, contexts=list(contexts), labels=list(labels), reasoning=reasoning)


def parse_eval_items(data: Any, name: str) -> list[EvalItem]:
    """Validate already-decoded JSON `data` (from file `name`) as an evaluation file."""
    if not isinstance(data, list):
        raise PruningError(f"{name}: top level: expected a list of items, got {_type_name(data)}")
    if not data:
        raise PruningError(f"{name}: top level: no items")
    return [_check_item(raw, f"{name}: item {i}") for i, raw in enumerate(data)]


def load_eval_file(path: str | PathLike[str]) -> list[EvalItem]:
    """Load and validate an evaluation file; any defect raises PruningError naming file, item and field."""
    items = parse_eval_items(read_json_file(path), str(path))
    n_contexts = sum(len(item.contexts) for item in items)
    n_keep = sum(sum(item.labels) for item in items)
    logger.debug("%s: %d queries, %d contexts, %d keep", path, len(items), n_contexts, n_keep)
    return items
