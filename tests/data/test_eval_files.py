"""Evaluation-file loading: the shipped files load whole; each defect has its own one-line message."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pruning.data.eval_files import EvalItem, load_eval_file
from pruning.errors import PruningError

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
JA_V3 = ROOT / "pruning-config" / "pruning_data_ja_v3.json"
EASY = ROOT / "pruning-config" / "pruning_data_easy_ja.json"


def good(**over: object) -> dict[str, object]:
    item: dict[str, object] = {"query": "q", "contexts": ["a.", "b."], "labels": [1, 0]}
    item.update(over)
    return item


def without(key: str) -> dict[str, object]:
    item = good()
    del item[key]
    return item


def write(tmp_path: Path, payload: object, name: str = "pruning_data.json") -> Path:
    path = tmp_path / name
    if isinstance(payload, bytes):
        path.write_bytes(payload)
    else:
        path.write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
    return path


def test_shipped_files_load_whole() -> None:
    items = load_eval_file(JA_V3)
    assert len(items) == 257
    assert sum(len(it.contexts) for it in items) == 1879
    assert sum(sum(it.labels) for it in items) == 691
    easy = load_eval_file(EASY)
    assert (len(easy), sum(len(it.contexts) for it in easy)) == (30, 150)


def test_valid_items_with_and_without_reasoning(tmp_path: Path) -> None:
    path = write(tmp_path, [good(), good(query="日本語", reasoning="why", labels=[0, 0])])
    assert load_eval_file(path) == [
        EvalItem("q", ["a.", "b."], [1, 0], None),
        EvalItem("日本語", ["a.", "b."], [0, 0], "why"),
    ]


MALFORMED = [
    ("top_level_object", {"query": "q"}, "top level: expected a list of items, got dict"),
    ("top_level_empty", [], "top level: no items"),
    ("item_not_object", [good(), ["q"]], "item 1: expected an object, got list"),
    ("query_missing", [without("query")], "item 0: field 'query': missing"),
    ("query_empty", [good(), good(), good(query="  ")], "item 2: field 'query': empty"),
    ("query_not_string", [good(query=3)], "item 0: field 'query': expected a string, got int"),
    ("contexts_missing", [without("contexts")], "item 0: field 'contexts': missing"),
    ("contexts_empty", [good(contexts=[], labels=[])], "item 0: field 'contexts': empty list"),
    ("contexts_string", [good(contexts="a. b.")], "item 0: field 'contexts': expected a list, got str"),
    ("context_not_string", [good(contexts=["a.", 5])], "item 0: field 'contexts[1]': expected a string, got int"),
    ("context_empty", [good(contexts=["", "b."])], "item 0: field 'contexts[0]': empty string"),
    (
        "context_invisible",
        [good(contexts=["a.", "\u200b"])],
        "item 0: field 'contexts[1]': no visible characters ('\\u200b')",
    ),
    ("labels_missing", [without("labels")], "item 0: field 'labels': missing"),
    ("labels_short", [good(labels=[1])], "item 0: field 'labels': length 1 != 2 contexts"),
    ("labels_long", [good(labels=[1, 0, 1])], "item 0: field 'labels': length 3 != 2 contexts"),
    ("label_bool", [good(labels=[True, 0])], "item 0: field 'labels[0]': expected 0 or 1, got True (bool)"),
    ("label_string", [good(labels=[0, "1"])], "item 0: field 'labels[1]': expected 0 or 1, got '1' (str)"),
    ("label_two", [good(labels=[2, 0])], "item 0: field 'labels[0]': expected 0 or 1, got 2 (int)"),
    ("label_float", [good(labels=[1.0, 0])], "item 0: field 'labels[0]': expected 0 or 1, got 1.0 (float)"),
    ("labels_null", [good(labels=None)], "item 0: field 'labels': expected a list, got null"),
    ("reasoning_not_string", [good(reasoning=1)], "item 0: field 'reasoning': expected a string, got int"),
    ("unknown_key", [good(label=[1, 0])], "item 0: field 'label': unknown key"),
    ("invalid_json", b'[{"query": "q",]', "invalid JSON at line 1 column 16"),
    ("invalid_utf8", b'[{"query": "\xff"}]', "not valid UTF-8 (byte offset 12)"),
    ("utf16", '[{"query": "q"}]'.encode("utf-16"), "not valid UTF-8"),
]


@pytest.mark.parametrize(("payload", "expected"), [c[1:] for c in MALFORMED], ids=[c[0] for c in MALFORMED])
def test_malformed_file_gives_its_own_message(tmp_path: Path, payload: object, expected: str) -> None:
    path = write(tmp_path, payload)
    with pytest.raises(PruningError) as info:
        load_eval_file(path)
    msg = str(info.value)
    assert msg.startswith(f"{path}: ")
    assert expected in msg
    assert "\n" not in msg


def test_messages_are_distinct() -> None:
    assert len({c[2] for c in MALFORMED}) == len(MALFORMED)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(PruningError, match=r"nope\.json: cannot read"):
        load_eval_file(tmp_path / "nope.json")


def test_nothing_skipped_after_many_good_items(tmp_path: Path) -> None:
    path = write(tmp_path, [good()] * 12 + [good(labels=[1, 0, 0])])
    with pytest.raises(PruningError, match=r"item 12: field 'labels': length 3 != 2 contexts"):
        load_eval_file(path)
