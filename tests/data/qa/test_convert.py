"""QA files -> a dataset: train/validation splits, caps, manifest, determinism, and the written folder."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from pruning.data.qa.convert import COLUMNS, convert_qa, default_output_dir, write_dataset
from pruning.data.training_rows import validate_relevance_row
from pruning.errors import PruningError
from tests.data.helpers import good_row
from tests.data.qa.helpers import synthetic_doc, write_json
from tests.shared import require_shared

pytestmark = pytest.mark.unit


def test_validation_rows_never_share_paragraphs_with_train(tmp_path: Path) -> None:
    src = write_json(tmp_path / "d.json", synthetic_doc(n_articles=12))
    result = convert_qa([src], validation_fraction=0.25, k=3, seed=9)
    train_texts = {t for r in result.rows_by_split["train"] for t in r["texts"]}
    val_texts = {t for r in result.rows_by_split["validation"] for t in r["texts"]}
    assert not train_texts & val_texts


def test_same_seed_gives_identical_bytes(tmp_path: Path) -> None:
    src = write_json(tmp_path / "d.json", synthetic_doc(n_articles=8))
    for out in ("a", "b"):
        result = convert_qa([src], validation_fraction=0.25, k=4, seed=42)
        write_dataset(result.rows_by_split, tmp_path / out, result.manifest)
    for name in ("train.jsonl", "validation.jsonl", "manifest.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_validation_cap_applies_to_the_validation_split_only(tmp_path: Path) -> None:
    train = write_json(tmp_path / "train.json", synthetic_doc(n_articles=5))
    val = write_json(tmp_path / "val.json", synthetic_doc(n_articles=4, tag="v"))
    both = convert_qa([train], validation_paths=[val], k=2, seed=3, max_queries=9)
    capped = convert_qa([train], validation_paths=[val], k=2, seed=3, max_queries=9, max_validation_queries=4)
    assert capped.rows_by_split["train"] == both.rows_by_split["train"]
    assert len(both.rows_by_split["validation"]) == 9 and len(capped.rows_by_split["validation"]) == 4
    # the same seeded order: the smaller subset is drawn from the larger one
    assert all(row in both.rows_by_split["validation"] for row in capped.rows_by_split["validation"])
    assert capped.manifest["options"]["max_validation_queries"] == 4
    assert both.manifest["options"]["max_validation_queries"] == 9
    uncapped = convert_qa([train], validation_paths=[val], k=2, seed=3, max_validation_queries=2)
    assert len(uncapped.rows_by_split["train"]) == 15 and len(uncapped.rows_by_split["validation"]) == 2


def test_validation_cap_below_one_is_an_error(tmp_path: Path) -> None:
    src = write_json(tmp_path / "d.json", synthetic_doc(n_articles=4))
    with pytest.raises(PruningError, match="max validation queries must be at least 1, got 0"):
        convert_qa([src], validation_fraction=0.25, k=2, seed=0, max_validation_queries=0)


def test_explicit_validation_files(tmp_path: Path) -> None:
    train = write_json(tmp_path / "train.json", synthetic_doc(n_articles=5))
    val_dir = tmp_path / "val"
    val_dir.mkdir()
    write_json(val_dir / "v0.json", synthetic_doc(n_articles=3, tag="v"))
    write_json(val_dir / "v1.json", synthetic_doc(n_articles=2, tag="w"))
    result = convert_qa([train], validation_paths=[val_dir], k=3, seed=0)
    assert len(result.rows_by_split["train"]) == 15
    assert len(result.rows_by_split["validation"]) == 15
    roles = [(Path(s["path"]).name, s["role"]) for s in result.manifest["sources"]]
    assert roles == [("train.json", "train"), ("v0.json", "validation"), ("v1.json", "validation")]
    assert all(len(s["sha256"]) == 64 for s in result.manifest["sources"])


def test_title_queries_are_recorded_in_the_manifest(tmp_path: Path) -> None:
    doc = write_json(tmp_path / "d.json", synthetic_doc(n_articles=10))
    result = convert_qa([doc], k=2, seed=1, title_queries=2, validation_fraction=0.3)
    assert result.manifest["options"]["title_queries"] == 2
    for split, rows in result.rows_by_split.items():
        assert result.manifest["counts"][split]["rows"] == len(rows)
        assert all(row["query"].startswith("Title") for row in rows[-2:])
        assert all(row["query"].startswith("質問") for row in rows[:-2])


# ------------------------------------------------------------------------------------------- output


def test_written_dataset_loads_with_datasets(tmp_path: Path) -> None:
    datasets = pytest.importorskip("datasets")
    src = write_json(tmp_path / "d.json", synthetic_doc(n_articles=8))
    result = convert_qa([src], validation_fraction=0.25, k=4, seed=42)
    out = write_dataset(result.rows_by_split, tmp_path / "out", result.manifest)
    ds = datasets.load_dataset(
        "json",
        data_files={"train": str(out / "train.jsonl"), "validation": str(out / "validation.jsonl")},
        cache_dir=str(tmp_path / "hf-cache"),
    )
    for split in ("train", "validation"):
        assert ds[split].column_names == list(COLUMNS)
        assert ds[split].num_rows == len(result.rows_by_split[split])
    assert ds["train"][0]["context_spans"] == result.rows_by_split["train"][0]["context_spans"]
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["rows"] == {"train": 18, "validation": 6}
    assert manifest["options"]["seed"] == 42 and manifest["options"]["k"] == 4
    assert "日本" not in (out / "train.jsonl").read_text(encoding="utf-8")  # sanity: synthetic text only
    assert "記事" in (out / "train.jsonl").read_text(encoding="utf-8")  # ensure_ascii=False


def test_write_dataset_refuses_bad_rows_and_missing_splits(tmp_path: Path) -> None:
    with pytest.raises(PruningError, match="expected splits"):
        write_dataset({"train": [good_row()]}, tmp_path / "o")
    with pytest.raises(PruningError, match="validation split is empty"):
        write_dataset({"train": [good_row()], "validation": []}, tmp_path / "o")
    bad = good_row()
    bad["labels"] = [1]
    with pytest.raises(PruningError, match="validation row 1"):
        write_dataset({"train": [good_row()], "validation": [good_row(), bad]}, tmp_path / "o")


def test_write_dataset_warns_inside_a_git_checkout(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    rows = {"train": [good_row()], "validation": [good_row()]}
    with caplog.at_level(logging.WARNING, logger="pruning.data.qa.convert"):
        write_dataset(rows, tmp_path / "repo" / "data")
    assert "git checkout" in caplog.text and "CC BY-SA" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="pruning.data.qa.convert"):
        write_dataset(rows, tmp_path / "elsewhere")
    assert "git checkout" not in caplog.text


def test_default_output_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PRUNING_CACHE", str(tmp_path))
    assert default_output_dir("x") == tmp_path / "data" / "x"
    monkeypatch.delenv("PRUNING_CACHE")
    assert default_output_dir("x") == Path.home() / ".cache" / "pruning" / "data" / "x"


# ----------------------------------------------------------------------------------- real corpus


def test_real_jaquad_dev_converts_cleanly() -> None:
    result = convert_qa([require_shared("data", "qa", "jaquad", "dev")], validation_fraction=0.1, k=8, seed=42)
    assert result.manifest["questions_seen"] == {"all": 3939}
    assert result.manifest["skipped"] == {"all": {}}
    rows = result.rows_by_split["train"] + result.rows_by_split["validation"]
    assert len(rows) == 3939
    for n, row in enumerate(rows[:200]):
        validate_relevance_row(row, f"row {n}")
        assert sum(row["context_spans_relevance"][0]) >= 1
