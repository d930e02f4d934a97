"""The user's recorded seed baseline (`baselines/seed_jpre-xs-minimal_20250730.yaml`): load and validate.

That YAML file holds numbers typed from the user's seed document, not numbers produced by this code.
Loading is strict: unknown or missing keys, wrong types and counts that do not add up raise PruningError
naming the file and the field. Test tiers read their expectations (counts, bands) from the result.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Any

import yaml

from pruning.errors import PruningError
from pruning.evaluate.metrics import ThresholdRow, best_row, normalize_metric

SEED_BASELINE_PATH = Path(__file__).resolve().parents[2] / "baselines" / "seed_jpre-xs-minimal_20250730.yaml"
HEADER_MARKER = "THE USER'S RECORDED NUMBERS"

PRINTED_FIELDS = ("precision_pct", "recall_pct", "f1", "f2", "f2_5", "compression_pct")
#: Decimal places the document prints for each value (derive, then round to these to compare).
PRINTED_DECIMALS = {"precision_pct": 2, "recall_pct": 2, "f1": 4, "f2": 4, "f2_5": 4, "compression_pct": 1}


@dataclass(frozen=True)
class Provenance:
    """Where the numbers come from."""

    document: str
    date: str
    model_name: str
    model_dir: str
    base_model: str
    train_dataset: str
    train_subset: str
    train_config: str
    seed: int
    eval_data: str
    train_command: str
    eval_command: str


@dataclass(frozen=True)
class DatasetFacts:
    """The evaluation file the seed was measured on."""

    file: str
    n_queries: int
    n_contexts: int
    n_keep: int
    n_delete: int


@dataclass(frozen=True)
class SeedRow:
    """One printed table row: confusion counts and the values exactly as printed."""

    threshold: float
    tp: int
    fp: int
    tn: int
    fn: int
    printed: dict[str, float]

    def derived(self) -> ThresholdRow:
        """All metrics recomputed from the counts."""
        return ThresholdRow.from_counts(self.threshold, self.tp, self.fp, self.tn, self.fn)

    def derived_printed(self) -> dict[str, float]:
        """The recomputed values on the printed scale (percent where printed as percent), rounded alike."""
        row = self.derived()
        exact = {
            "precision_pct": row.precision * 100.0,
            "recall_pct": row.recall * 100.0,
            "f1": row.f1,
            "f2": row.f2,
            "f2_5": row.f2_5,
            "compression_pct": row.compression * 100.0,
        }
        return {key: round(value, PRINTED_DECIMALS[key]) for key, value in exact.items()}


@dataclass(frozen=True)
class KnownSlip:
    """A printed cell that disagrees with its own counts."""

    threshold: float
    field: str
    printed: float
    derived: float
    exact: float
    note: str


@dataclass(frozen=True)
class Band:
    """target ± tolerance (inclusive)."""

    target: float
    tolerance: float

    def contains(self, value: float) -> bool:
        """Whether `value` lies within the band (with a little float slack)."""
        return abs(value - self.target) <= self.tolerance + 1e-9


@dataclass(frozen=True)
class Acceptance:
    """The seed document's acceptance list, as numbers."""

    best_threshold: float
    best_metric: str
    f2_5: Band
    fn: Band
    recall_min: float
    train_time_s: Band
    score_drift_max: float


@dataclass(frozen=True)
class LossPoint:
    """An eval-loss log entry."""

    step: int
    loss: float


@dataclass(frozen=True)
class TrainingFacts:
    """Facts about the reference training run (design notes §2)."""

    eval_loss_first: LossPoint
    eval_loss_last: LossPoint
    optimizer_steps: int
    rows_per_step: int
    rerun_max_cell_delta: int


@dataclass(frozen=True)
class SeedBaseline:
    """The whole recorded baseline."""

    path: str
    schema_version: int
    provenance: Provenance
    dataset: DatasetFacts
    rows: tuple[SeedRow, ...]
    best_metric: str
    best_threshold: float
    known_slips: tuple[KnownSlip, ...]
    acceptance: Acceptance
    training: TrainingFacts

    def row_at(self, threshold: float) -> SeedRow:
        """The row recorded for `threshold` (KeyError when there is none)."""
        for row in self.rows:
            if math.isclose(row.threshold, threshold, abs_tol=1e-9):
                return row
        raise KeyError(threshold)

    def derived_rows(self) -> list[ThresholdRow]:
        """Every row's metrics recomputed from its counts."""
        return [row.derived() for row in self.rows]

    def best(self, metric: str | None = None) -> ThresholdRow:
        """Best derived row by `metric` (default: the document's own choice, F2.5)."""
        return best_row(self.derived_rows(), metric or self.best_metric)


class _Reader:
    """Typed, strict access to the parsed YAML, with errors naming file and field."""

    def __init__(self, name: str) -> None:
        self.name = name

    def fail(self, field: str, msg: str) -> PruningError:
        return PruningError(f"{self.name}: field {field!r}: {msg}")

    def mapping(self, value: Any, field: str, keys: tuple[str, ...]) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(field, f"expected a mapping, got {type(value).__name__}")
        unknown = sorted(set(value) - set(keys), key=str)
        if unknown:
            raise self.fail(f"{field}.{unknown[0]}" if field else str(unknown[0]), "unknown key")
        missing = [k for k in keys if k not in value]
        if missing:
            raise self.fail(f"{field}.{missing[0]}" if field else missing[0], "missing")
        return value

    def int_(self, value: Any, field: str) -> int:
        if type(value) is not int:
            raise self.fail(field, f"expected an integer, got {value!r}")
        return value

    def num(self, value: Any, field: str) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise self.fail(field, f"expected a finite number, got {value!r}")
        return float(value)

    def str_(self, value: Any, field: str) -> str:
        if not isinstance(value, str) or not value:
            raise self.fail(field, f"expected a non-empty string, got {value!r}")
        return value

    def band(self, value: Any, field: str) -> Band:
        m = self.mapping(value, field, ("target", "tolerance"))
        band = Band(self.num(m["target"], f"{field}.target"), self.num(m["tolerance"], f"{field}.tolerance"))
        if band.tolerance < 0:
            raise self.fail(f"{field}.tolerance", "must be >= 0")
        return band

    def loss_point(self, value: Any, field: str) -> LossPoint:
        m = self.mapping(value, field, ("step", "loss"))
        return LossPoint(self.int_(m["step"], f"{field}.step"), self.num(m["loss"], f"{field}.loss"))


def _parse(data: Any, name: str) -> SeedBaseline:
    rd = _Reader(name)
    top = rd.mapping(
        data,
        "",
        ("schema_version", "provenance", "dataset", "thresholds", "best", "known_slips", "acceptance", "training"),
    )
    version = rd.int_(top["schema_version"], "schema_version")
    if version != 1:
        raise rd.fail("schema_version", f"unsupported version {version}")

    prov_keys = tuple(Provenance.__dataclass_fields__)
    pm = rd.mapping(top["provenance"], "provenance", prov_keys)
    prov_values: dict[str, Any] = {k: rd.str_(pm[k], f"provenance.{k}") for k in prov_keys if k != "seed"}
    prov = Provenance(seed=rd.int_(pm["seed"], "provenance.seed"), **prov_values)

    ds_keys = tuple(DatasetFacts.__dataclass_fields__)
    dm = rd.mapping(top["dataset"], "dataset", ds_keys)
    ds = DatasetFacts(
        file=rd.str_(dm["file"], "dataset.file"),
        **{k: rd.int_(dm[k], f"dataset.{k}") for k in ds_keys if k != "file"},
    )
    if ds.n_keep + ds.n_delete != ds.n_contexts:
        raise rd.fail("dataset", f"n_keep + n_delete = {ds.n_keep + ds.n_delete} != n_contexts {ds.n_contexts}")

    if not isinstance(top["thresholds"], list) or not top["thresholds"]:
        raise rd.fail("thresholds", "expected a non-empty list")
    rows: list[SeedRow] = []
    for i, raw in enumerate(top["thresholds"]):
        f = f"thresholds[{i}]"
        m = rd.mapping(raw, f, ("threshold", "tp", "fp", "tn", "fn", "printed"))
        pr = rd.mapping(m["printed"], f"{f}.printed", PRINTED_FIELDS)
        row = SeedRow(
            threshold=rd.num(m["threshold"], f"{f}.threshold"),
            tp=rd.int_(m["tp"], f"{f}.tp"),
            fp=rd.int_(m["fp"], f"{f}.fp"),
            tn=rd.int_(m["tn"], f"{f}.tn"),
            fn=rd.int_(m["fn"], f"{f}.fn"),
            printed={k: rd.num(pr[k], f"{f}.printed.{k}") for k in PRINTED_FIELDS},
        )
        if row.tp + row.fp + row.tn + row.fn != ds.n_contexts:
            raise rd.fail(f, f"counts sum to {row.tp + row.fp + row.tn + row.fn}, not n_contexts {ds.n_contexts}")
        if row.tp + row.fn != ds.n_keep:
            raise rd.fail(f, f"tp + fn = {row.tp + row.fn} != n_keep {ds.n_keep}")
        if rows and row.threshold <= rows[-1].threshold:
            raise rd.fail(f"{f}.threshold", "thresholds must be strictly ascending")
        rows.append(row)

    bm = rd.mapping(top["best"], "best", ("metric", "threshold"))
    try:
        best_metric = normalize_metric(rd.str_(bm["metric"], "best.metric"))
    except PruningError as exc:
        raise rd.fail("best.metric", str(exc)) from None
    best_t = rd.num(bm["threshold"], "best.threshold")

    if not isinstance(top["known_slips"], list):
        raise rd.fail("known_slips", "expected a list")
    slips: list[KnownSlip] = []
    for i, raw in enumerate(top["known_slips"]):
        f = f"known_slips[{i}]"
        m = rd.mapping(raw, f, tuple(KnownSlip.__dataclass_fields__))
        slip = KnownSlip(
            threshold=rd.num(m["threshold"], f"{f}.threshold"),
            field=rd.str_(m["field"], f"{f}.field"),
            printed=rd.num(m["printed"], f"{f}.printed"),
            derived=rd.num(m["derived"], f"{f}.derived"),
            exact=rd.num(m["exact"], f"{f}.exact"),
            note=rd.str_(m["note"], f"{f}.note"),
        )
        if slip.field not in PRINTED_FIELDS:
            raise rd.fail(f"{f}.field", f"not a printed field ({', '.join(PRINTED_FIELDS)})")
        slips.append(slip)

    am = rd.mapping(top["acceptance"], "acceptance", tuple(Acceptance.__dataclass_fields__))
    acc = Acceptance(
        best_threshold=rd.num(am["best_threshold"], "acceptance.best_threshold"),
        best_metric=normalize_metric(rd.str_(am["best_metric"], "acceptance.best_metric")),
        f2_5=rd.band(am["f2_5"], "acceptance.f2_5"),
        fn=rd.band(am["fn"], "acceptance.fn"),
        recall_min=rd.num(am["recall_min"], "acceptance.recall_min"),
        train_time_s=rd.band(am["train_time_s"], "acceptance.train_time_s"),
        score_drift_max=rd.num(am["score_drift_max"], "acceptance.score_drift_max"),
    )

    tm = rd.mapping(top["training"], "training", tuple(TrainingFacts.__dataclass_fields__))
    training = TrainingFacts(
        eval_loss_first=rd.loss_point(tm["eval_loss_first"], "training.eval_loss_first"),
        eval_loss_last=rd.loss_point(tm["eval_loss_last"], "training.eval_loss_last"),
        optimizer_steps=rd.int_(tm["optimizer_steps"], "training.optimizer_steps"),
        rows_per_step=rd.int_(tm["rows_per_step"], "training.rows_per_step"),
        rerun_max_cell_delta=rd.int_(tm["rerun_max_cell_delta"], "training.rerun_max_cell_delta"),
    )

    seed = SeedBaseline(
        path=name,
        schema_version=version,
        provenance=prov,
        dataset=ds,
        rows=tuple(rows),
        best_metric=best_metric,
        best_threshold=best_t,
        known_slips=tuple(slips),
        acceptance=acc,
        training=training,
    )
    for i, slip in enumerate(slips):
        try:
            seed.row_at(slip.threshold)
        except KeyError:
            raise rd.fail(f"known_slips[{i}].threshold", f"no row at threshold {slip.threshold}") from None
    if not any(math.isclose(r.threshold, best_t, abs_tol=1e-9) for r in rows):
        raise rd.fail("best.threshold", f"no row at threshold {best_t}")
    return seed


def load_seed_baseline(path: str | PathLike[str] = SEED_BASELINE_PATH) -> SeedBaseline:
    """Load and validate the recorded seed baseline (strict keys; PruningError on any defect)."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PruningError(f"{name}: cannot read: {exc}") from None
    if HEADER_MARKER not in text:
        raise PruningError(f"{name}: header marker {HEADER_MARKER!r} missing; is this the recorded seed file?")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PruningError(f"{name}: invalid YAML: {str(exc).splitlines()[0]}") from None
    return _parse(data, name)
