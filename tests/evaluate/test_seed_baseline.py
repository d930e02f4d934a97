"""The recorded seed baseline file: its facts, and a strict loader."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from pruning.errors import PruningError
from pruning.evaluate.seed_baseline import HEADER_MARKER, SEED_BASELINE_PATH, SeedBaseline, load_seed_baseline

pytestmark = pytest.mark.unit

RAW: dict[str, Any] = yaml.safe_load(SEED_BASELINE_PATH.read_text(encoding="utf-8"))


def test_file_is_marked_as_the_users_numbers() -> None:
    head = SEED_BASELINE_PATH.read_text(encoding="utf-8").splitlines()[:8]
    assert any(HEADER_MARKER in line for line in head)
    assert any("not produced by this code" in line.lower() for line in head)


def test_recorded_facts() -> None:
    seed = load_seed_baseline()
    assert isinstance(seed, SeedBaseline)
    assert seed.provenance.document == "refactoring_baseline_jpre-xs-minimal_20250730.md"
    assert seed.provenance.base_model == "hotchpotch/japanese-reranker-xsmall-v2"
    assert seed.provenance.seed == 42
    ds = seed.dataset
    assert (ds.file, ds.n_queries, ds.n_contexts, ds.n_keep, ds.n_delete) == (
        "pruning_data_ja_v3.json",
        257,
        1879,
        691,
        1188,
    )
    assert [r.threshold for r in seed.rows] == [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]
    r3 = seed.row_at(0.3)
    assert (r3.tp, r3.fp, r3.tn, r3.fn) == (686, 858, 330, 5)
    assert r3.printed["compression_pct"] == 17.9 and seed.row_at(0.7).printed["f2_5"] == 0.0794
    assert (seed.best_metric, seed.best_threshold) == ("f2_5", 0.3)
    assert seed.best().threshold == 0.3 and seed.best("f2").threshold == 0.4


def test_acceptance_bands_and_training_facts() -> None:
    acc = load_seed_baseline().acceptance
    assert (acc.best_threshold, acc.best_metric) == (0.3, "f2_5")
    assert (acc.f2_5.target, acc.f2_5.tolerance) == (0.8483, 0.01)
    assert (acc.fn.target, acc.fn.tolerance) == (5, 2)
    assert acc.fn.contains(7) and acc.fn.contains(3) and not acc.fn.contains(8)
    assert acc.f2_5.contains(0.8383) and not acc.f2_5.contains(0.8382)
    assert acc.recall_min == 0.99 and acc.score_drift_max == 0.05
    assert (acc.train_time_s.target, acc.train_time_s.tolerance) == (120, 30)
    tr = load_seed_baseline().training
    assert (tr.eval_loss_first.step, tr.eval_loss_first.loss) == (7, 0.84)
    assert (tr.eval_loss_last.step, tr.eval_loss_last.loss) == (140, 0.41)
    assert (tr.optimizer_steps, tr.rows_per_step, tr.rerun_max_cell_delta) == (141, 64, 2)


def test_the_seed_itself_passes_its_acceptance_bands() -> None:
    seed = load_seed_baseline()
    best = seed.best(seed.acceptance.best_metric)
    assert best.threshold == seed.acceptance.best_threshold
    assert seed.acceptance.f2_5.contains(best.f2_5)
    assert seed.acceptance.fn.contains(best.fn)
    assert best.recall >= seed.acceptance.recall_min


def _edit(path: str, value: Any, *, delete: bool = False) -> dict[str, Any]:
    data = copy.deepcopy(RAW)
    *parents, last = path.split(".")
    node: Any = data
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if delete:
        del node[last]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return data


def _write(tmp_path: Path, data: Any, header: str = f"# {HEADER_MARKER}\n") -> Path:
    path = tmp_path / "seed.yaml"
    path.write_text(header + yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_roundtrip_copy_loads(tmp_path: Path) -> None:
    assert load_seed_baseline(_write(tmp_path, RAW)).rows == load_seed_baseline().rows


BROKEN = [
    ("top_unknown", _edit("extra", 1), "field 'extra': unknown key"),
    ("nested_unknown", _edit("acceptance.f1", 0.5), "field 'acceptance.f1': unknown key"),
    ("printed_unknown", _edit("thresholds.0.printed.accuracy", 0.5), "field 'thresholds[0].printed.accuracy'"),
    ("missing", _edit("training.optimizer_steps", None, delete=True), "'training.optimizer_steps': missing"),
    ("count_type", _edit("thresholds.2.fn", "5"), "field 'thresholds[2].fn': expected an integer"),
    ("count_bool", _edit("dataset.n_keep", True), "field 'dataset.n_keep': expected an integer"),
    ("counts_sum", _edit("thresholds.2.tn", 331), "counts sum to 1880, not n_contexts 1879"),
    ("best_metric", _edit("best.metric", "auc"), "field 'best.metric'"),
    ("best_missing_row", _edit("best.threshold", 0.35), "field 'best.threshold': no row at threshold 0.35"),
    ("slip_field", _edit("known_slips.0.field", "tp"), "field 'known_slips[0].field': not a printed field"),
    ("negative_band", _edit("acceptance.fn.tolerance", -1), "field 'acceptance.fn.tolerance': must be >= 0"),
    ("version", _edit("schema_version", 2), "unsupported version 2"),
]


@pytest.mark.parametrize(("data", "expected"), [b[1:] for b in BROKEN], ids=[b[0] for b in BROKEN])
def test_strict_loader(tmp_path: Path, data: Any, expected: str) -> None:
    path = _write(tmp_path, data)
    with pytest.raises(PruningError) as info:
        load_seed_baseline(path)
    assert str(info.value).startswith(f"{path}: ")
    assert expected in str(info.value)


def test_header_marker_required(tmp_path: Path) -> None:
    with pytest.raises(PruningError, match="header marker"):
        load_seed_baseline(_write(tmp_path, RAW, header=""))
