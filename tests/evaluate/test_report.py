"""Result schema, renderings (snapshots under baselines/test_report/), comparison, and score files."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from pruning.data.eval_files import EvalItem, load_eval_file
from pruning.errors import PruningError
from pruning.evaluate.metrics import METRICS, ThresholdRow
from pruning.evaluate.report import (
    RESULT_KEYS,
    ROW_KEYS,
    _fmt_t,
    build_result,
    read_scores_file,
    render_comparison,
    render_json,
    render_markdown,
    render_text,
    render_threshold_block,
    result_rows,
)
from pruning.evaluate.seed_baseline import load_seed_baseline

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
JA_V3 = ROOT / "pruning-config" / "pruning_data_ja_v3.json"

ITEMS = [
    EvalItem(
        "日本の消費税率は？", ["税制の話。", "2019年に10%になった。", "軽減税率は8%。", "欧州は20%前後。"], [0, 1, 1, 0]
    ),
    EvalItem("What is Provence?", ["A region of France.", "It prunes contexts.", "See the paper."], [0, 1, 0]),
    EvalItem("empty keep", ["nothing here.", "nor here."], [0, 0], reasoning="no answer"),
]
SCORES = [[0.12, 0.81, 0.35, 0.3], [0.05, 0.66, 0.5], [0.2, 0.71]]
THRESHOLDS = [0.1, 0.3, 0.5, 0.7]


@pytest.fixture
def small() -> dict[str, Any]:
    return build_result("small.json", ITEMS, SCORES, THRESHOLDS)


def test_schema(small: dict[str, Any]) -> None:
    assert list(small) == list(RESULT_KEYS)
    assert (small["n_queries"], small["n_contexts"], small["n_keep"]) == (3, 9, 3)
    assert [list(row) for row in small["thresholds"]] == [list(ROW_KEYS)] * 4
    assert ROW_KEYS == (
        "threshold",
        "tp",
        "fp",
        "tn",
        "fn",
        "accuracy",
        "precision",
        "recall",
        "f1",
        "f2",
        "f2_5",
        "compression",
    )
    assert small["best"] == {"metric": "f2_5", "threshold": 0.3}
    assert small["items"][0] == {"query": ITEMS[0].query, "labels": [0, 1, 1, 0], "scores": SCORES[0]}
    assert json.loads(render_json(small)) == small


def test_extra_keys(small: dict[str, Any]) -> None:
    result = build_result("small.json", ITEMS, SCORES, THRESHOLDS, extra={"model": "m", "timing": {"s": 1.0}})
    assert result["model"] == "m" and {k: result[k] for k in RESULT_KEYS} == small
    with pytest.raises(ValueError, match="schema keys"):
        build_result("small.json", ITEMS, SCORES, THRESHOLDS, extra={"best": 1})


def test_best_by_and_misaligned_scores() -> None:
    # precision is 3/6, 2/4, 2/4 at 0.3, 0.5, 0.7 (1/2 each): the tie goes to the lowest threshold
    assert build_result("s", ITEMS, SCORES, THRESHOLDS, best_by="precision")["best"] == {
        "metric": "precision",
        "threshold": 0.3,
    }
    assert build_result("s", ITEMS, SCORES, THRESHOLDS, best_by="recall")["best"]["threshold"] == 0.1
    with pytest.raises(ValueError, match="item 1: 2 scores for 3 contexts"):
        build_result("s", ITEMS, [SCORES[0], [0.1, 0.2], SCORES[2]], THRESHOLDS)


def test_markdown_snapshot(small: dict[str, Any], file_regression) -> None:
    file_regression.check(render_markdown(small) + "\n", extension=".md")


def test_text_snapshot(small: dict[str, Any], file_regression) -> None:
    file_regression.check(render_text(small) + "\n", extension=".txt")


def test_comparison_snapshot(small: dict[str, Any], file_regression) -> None:
    file_regression.check(render_comparison(small, load_seed_baseline()) + "\n", extension=".md")


def test_json_snapshot(small: dict[str, Any], data_regression) -> None:
    data_regression.check(small)


def test_markdown_bolds_only_the_best_row(small: dict[str, Any]) -> None:
    rows = [line for line in render_markdown(small).splitlines() if line.startswith("| ")][1:]
    assert [row.startswith("| **") for row in rows] == [False, True, False, False]


# F1 is best at 0.5 (TP 2, FP 0, FN 1: 0.8), where recall is 2/3; of the thresholds that keep every relevant
# context (0.1: TP 3, FP 5; 0.3: TP 3, FP 3) a recall floor of 99 % picks 0.3 (F1 0.667 against 0.545).
FLOOR_SCORES = [[0.2, 0.8, 0.4, 0.35], [0.35, 0.6, 0.2], [0.32, 0.05]]


def test_a_recall_floor_with_another_threshold_leaves_the_bold_row_to_the_metric() -> None:
    result = build_result("small.json", ITEMS, FLOOR_SCORES, THRESHOLDS, best_by="f1", min_recall=0.99)
    assert result["best"] == {"metric": "f1", "threshold": 0.5}
    assert result["best_with_min_recall"] == {"metric": "f1", "min_recall": 0.99, "threshold": 0.3}
    assert json.loads(render_json(result))["best"]["threshold"] == 0.5
    for rendered in (render_markdown(result), render_text(result)):
        lines = rendered.splitlines()
        rows = [line for line in lines if line.startswith("| ")][1:]
        bold = [row.split(" | ")[0] for row in rows if row.startswith("| **")]
        assert bold == ["| **0.5**"] and len(rows) == 4
        best = [line.strip("*") for line in lines if line.lstrip("*").startswith("best threshold")]
        assert best == ["best threshold by F1: 0.5", "best threshold by F1 with recall >= 99 %: 0.3"]


def test_threshold_block_on_seed_row() -> None:
    block = render_threshold_block(ThresholdRow.from_counts(0.3, 686, 858, 330, 5))
    assert "compression 17.83 %" in block and "recall 99.28 %" in block and "F2.5 0.8483" in block
    assert "TP 686  FP 858  TN 330  FN 5" in block


def _pseudo_scores(items: list[EvalItem], seed: int = 0) -> list[list[float]]:
    rng = random.Random(seed)
    return [[min(1.0, max(0.0, 0.3 * label + rng.random() * 0.7)) for label in it.labels] for it in items]


def test_comparison_on_ja_v3() -> None:
    items = load_eval_file(JA_V3)
    result = build_result(JA_V3, items, _pseudo_scores(items), [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7])
    text = render_comparison(result, load_seed_baseline())
    seed_line = next(line for line in text.splitlines() if line.startswith("| seed"))
    assert seed_line == "| seed 2025-07-30 (recorded) | 0.3 | 0.8483 | 5 | 99.28 | 44.43 | 17.83 |"
    keep_line = next(line for line in text.splitlines() if line.startswith("| keep everything"))
    assert keep_line == "| keep everything | - | 0.8083 | 0 | 100.00 | 36.77 | 0.00 |"
    assert "note:" not in text


def test_comparison_notes_other_data(small: dict[str, Any]) -> None:
    assert "not comparable" in render_comparison(small, load_seed_baseline())
    assert "seed" not in render_comparison(small, None)
    # without a note the table ends on its last row, with no blank line after it
    assert render_comparison(small, None).splitlines()[-1].startswith("| keep everything")
    assert not render_comparison(small, None).endswith("\n")


# ---------------------------------------------------------------------------------------------------------
# Score files


def _scores_file(tmp_path: Path, payload: Any) -> Path:
    path = tmp_path / "scores.json"
    path.write_text(payload if isinstance(payload, str) else json.dumps(payload), encoding="utf-8")
    return path


def test_scores_roundtrip(tmp_path: Path, small: dict[str, Any]) -> None:
    path = _scores_file(tmp_path, {**small, "model": "ignored", "thresholds": "ignored too"})
    scores = read_scores_file(path, ITEMS)
    assert scores == SCORES
    again = build_result("small.json", ITEMS, scores, THRESHOLDS)
    assert again == small and result_rows(again) == result_rows(small)


def _items(**change: Any) -> dict[str, Any]:
    items = [{"query": it.query, "labels": it.labels, "scores": list(s)} for it, s in zip(ITEMS, SCORES, strict=True)]
    index = change.pop("index", 0)
    for key, value in change.items():
        if value is None:
            del items[index][key]
        else:
            items[index][key] = value
    return {"items": items}


NUM = "expected a finite number in [0, 1], got"
BAD_SCORES = [
    ("not_json", "{", "invalid JSON"),
    ("top_list", [], "top level: expected an object with 'items', got list"),
    ("no_items", {"thresholds": []}, "top level: field 'items': missing"),
    ("items_dict", {"items": {}}, "top level: field 'items': expected a list, got dict"),
    ("too_few", {"items": _items()["items"][:2]}, "top level: field 'items': 2 items != 3 in the data file"),
    ("item_not_object", {"items": [1, 2, 3]}, "item 0: expected an object, got int"),
    ("query_missing", _items(query=None, index=1), "item 1: field 'query': missing"),
    ("query_differs", _items(query="other", index=2), "item 2: field 'query': 'other' differs"),
    ("query_long", _items(query="q" * 39 + "xyz", index=2), f"item 2: field 'query': '{'q' * 39}x' differs"),
    ("scores_missing", _items(scores=None), "item 0: field 'scores': missing"),
    ("scores_not_list", _items(scores="0.5"), "item 0: field 'scores': expected a list, got str"),
    ("scores_short", _items(scores=[0.1, 0.2]), "item 0: field 'scores': length 2 != 4 contexts"),
    ("score_bool", _items(scores=[0.1, True, 0.2, 0.3]), "item 0: field 'scores[1]': expected a finite number"),
    ("score_string", _items(scores=[0.1, 0.2, "0.3", 0.3]), f"field 'scores[2]': {NUM} '0.3'"),
    ("score_above_1", _items(scores=[0.1, 0.2, 0.3, 1.5]), f"field 'scores[3]': {NUM} 1.5"),
    ("score_negative", _items(scores=[-0.1, 0.2, 0.3, 0.4]), f"field 'scores[0]': {NUM} -0.1"),
    ("score_nan", '{"items": [{"query": "x", "scores": [NaN]}]}', None),
    ("score_null", _items(scores=[None, 0.2, 0.3, 0.4]), f"field 'scores[0]': {NUM} None"),
]


@pytest.mark.parametrize(("payload", "expected"), [b[1:] for b in BAD_SCORES], ids=[b[0] for b in BAD_SCORES])
def test_bad_scores_file(tmp_path: Path, payload: Any, expected: str | None) -> None:
    path = _scores_file(tmp_path, payload)
    items = ITEMS
    if expected is None:  # NaN: a one-item data file whose query matches, so the score check is reached
        items, expected = [EvalItem("x", ["a."], [1])], f"field 'scores[0]': {NUM} nan"
    with pytest.raises(PruningError) as info:
        read_scores_file(path, items)
    msg = str(info.value)
    assert msg.startswith(f"{path}: ") and expected in msg and "\n" not in msg


def test_labels_mismatch_only_warns(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    assert read_scores_file(_scores_file(tmp_path, _items()), ITEMS) == SCORES  # the data file's own labels
    assert "labels differ" not in caplog.text
    path = _scores_file(tmp_path, _items(labels=[1, 1, 1, 1]))
    assert read_scores_file(path, ITEMS) == SCORES
    assert "labels differ" in caplog.text


def test_scores_of_exactly_0_and_1_are_scores(tmp_path: Path) -> None:
    path = _scores_file(tmp_path, _items(scores=[0.0, 1.0, 0, 1]))
    assert read_scores_file(path, ITEMS)[0] == [0.0, 1.0, 0.0, 1.0]


def test_comparison_reads_the_seed_best_by_the_runs_metric() -> None:
    seed = load_seed_baseline()
    assert (seed.best("f1").threshold, seed.best().threshold) == (0.4, 0.3)  # F1 and F2.5 choose differently
    result = build_result("small.json", ITEMS, SCORES, THRESHOLDS, best_by="f1")
    seed_line = next(line for line in render_comparison(result, seed).splitlines() if line.startswith("| seed"))
    assert seed_line.split(" | ")[1] == "0.4"


def test_metrics_tuple_matches_result_keys() -> None:
    assert set(METRICS) <= set(ROW_KEYS)


def test_json_is_indented_and_keeps_non_ascii_text() -> None:
    result = build_result("ja.json", [EvalItem("東京はどこ", ["東京は日本の首都です。"], [1])], [[0.9]], [0.5])
    text = render_json(result)
    assert '"query": "東京はどこ"' in text  # readable, not \u escapes
    assert text.splitlines()[1].startswith('  "') and not text.splitlines()[1].startswith("   ")  # two spaces


def test_best_with_min_recall_uses_the_chosen_metric() -> None:
    by_recall = build_result("small.json", ITEMS, SCORES, THRESHOLDS, best_by="recall", min_recall=0.5)
    by_f2_5 = build_result("small.json", ITEMS, SCORES, THRESHOLDS, min_recall=0.5)
    # recall 1.0 at 0.1 and 0.3: the lowest threshold wins the tie; F2.5 prefers 0.3 (fewer false positives)
    assert by_recall["best_with_min_recall"] == {"metric": "recall", "min_recall": 0.5, "threshold": 0.1}
    assert by_f2_5["best_with_min_recall"] == {"metric": "f2_5", "min_recall": 0.5, "threshold": 0.3}


@pytest.mark.parametrize(
    ("t", "text"), [(0.0, "0"), (1.0, "1"), (0.3, "0.3"), (0.25, "0.25"), (0.5, "0.5"), (0.123456789, "0.123456789")]
)
def test_thresholds_print_as_short_as_they_can_without_losing_digits(t: float, text: str) -> None:
    assert _fmt_t(t) == text
