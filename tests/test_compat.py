"""`compat: reference` switches every reference behaviour; each is its own key, and a written key wins."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from pruning.config import COMPAT_PRESETS, load_config
from pruning.errors import PruningError

pytestmark = pytest.mark.unit

CONFIG_DIR = Path(__file__).resolve().parents[1] / "pruning-config"
REFERENCE = {
    "model_args.head_input": "pre_final_norm",
    "data_args.token_labels": "reference",
    "training_args.loss_accumulation": "micro_batch_sum",
    "training_args.eval_loss_average": "per_batch",
}
CORRECTED = {
    "model_args.head_input": "final",
    "data_args.token_labels": "offsets",
    "training_args.loss_accumulation": "full_batch",
    "training_args.eval_loss_average": "split",
}


def _write(tmp_path, compat=None, **sections):
    cfg = {
        "model_args": {"model_name_or_path": "m", **sections.get("model_args", {})},
        "data_args": {"train_files": ["t.jsonl"], **sections.get("data_args", {})},
        "training_args": {"output_dir": str(tmp_path / "o"), **sections.get("training_args", {})},
    }
    if compat is not None:
        cfg["compat"] = compat
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def test_default_is_the_corrected_pipeline(tmp_path):
    cfg = load_config(_write(tmp_path))
    assert cfg.compat == "none" and cfg.behaviours() == CORRECTED
    assert set(cfg.behaviour_sources.values()) == {"default"}


def test_compat_reference_switches_every_item(tmp_path):
    cfg = load_config(_write(tmp_path, compat="reference"))
    assert cfg.behaviours() == REFERENCE
    assert set(cfg.behaviour_sources.values()) == {"compat: reference"}
    # the preset names exactly the switchable behaviours: a new one must be added to both
    preset = {f"{s}.{k}": v for s, keys in COMPAT_PRESETS["reference"].items() for k, v in keys.items()}
    assert preset == REFERENCE


@pytest.mark.parametrize("key", sorted(REFERENCE))
def test_a_written_key_wins_over_the_preset(tmp_path, key):
    section, name = key.split(".")
    cfg = load_config(_write(tmp_path, compat="reference", **{section: {name: CORRECTED[key]}}))
    assert cfg.behaviours() == {**REFERENCE, key: CORRECTED[key]}
    assert cfg.behaviour_sources[key] == "config"


@pytest.mark.parametrize("key", sorted(REFERENCE))
def test_each_behaviour_switches_alone(tmp_path, key):
    section, name = key.split(".")
    cfg = load_config(_write(tmp_path, **{section: {name: REFERENCE[key]}}))
    assert cfg.behaviours() == {**CORRECTED, key: REFERENCE[key]}


def test_override_sets_compat(tmp_path):
    path = _write(tmp_path, compat="reference")
    assert load_config(path, ["compat=none"]).behaviours() == CORRECTED
    assert load_config(_write(tmp_path), ["compat=reference"]).behaviours() == REFERENCE


@pytest.mark.parametrize(
    ("compat", "sections", "message"),
    [
        ("upstream", {}, "'compat': expected one of none, reference, got 'upstream'"),
        (None, {"model_args": {"head_input": "last"}}, "'head_input' must be one of final, pre_final_norm"),
        (None, {"data_args": {"token_labels": "v2"}}, "'token_labels' must be one of offsets, reference"),
        (None, {"training_args": {"loss_accumulation": "sum"}}, "must be one of full_batch, micro_batch_sum"),
        (None, {"training_args": {"eval_loss_average": "mean"}}, "'eval_loss_average' must be one of split"),
    ],
)
def test_unknown_values_are_errors(tmp_path, compat, sections, message):
    with pytest.raises(PruningError, match=message.replace("(", r"\(")):
        load_config(_write(tmp_path, compat=compat, **sections))


def test_a_misspelled_compat_key_is_named(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({"compt": "reference", "model_args": {"model_name_or_path": "m"}}))
    with pytest.raises(PruningError, match="unknown section 'compt' \\(did you mean 'compat'\\?\\)"):
        load_config(path)


def test_seed_config_reproduces_the_reference(tmp_path):
    cfg = load_config(CONFIG_DIR / "jpre-xs-msmarco-ja-minimal.yaml", [f"training_args.output_dir={tmp_path}"])
    assert cfg.compat == "reference" and cfg.behaviours() == REFERENCE
    assert cfg.data.teacher_column == "teacher_scores.japanese-reranker-xsmall-v2"


def test_training_wires_every_behaviour(tmp_path, tiny_backbone_dir, monkeypatch):
    """A real (tiny) run with compat: reference records each behaviour and uses it: the head input it saves, the
    token labels of the collator it builds, the trainer's eval-loss average, and a logged loss that sums the
    micro-batch means."""
    from pruning.data.synthetic import make_rows
    from pruning.train import run
    from pruning.train.run import train

    collators, trainers = [], []
    real_collator, real_trainer = run.PruningCollator, run.PruningTrainer
    monkeypatch.setattr(
        run, "PruningCollator", lambda *a, **k: collators.append(real_collator(*a, **k)) or collators[-1]
    )
    monkeypatch.setattr(run, "PruningTrainer", lambda *a, **k: trainers.append(real_trainer(*a, **k)) or trainers[-1])

    data = tmp_path / "train.jsonl"
    data.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in make_rows(8, k=2, seed=0)))
    path = _write(
        tmp_path,
        compat="reference",
        model_args={"model_name_or_path": str(tiny_backbone_dir), "max_length": 64},
        data_args={"train_files": [str(data)], "validation_split": None},
        training_args={
            "max_steps": 1,
            "logging_steps": 1,
            "report_to": "none",
            "save_strategy": "no",
            "per_device_train_batch_size": 4,  # 8 rows: one step of two micro-batches
            "gradient_accumulation_steps": 2,
        },
    )
    summary = train(load_config(path), progress=False, loss_plot=False)
    assert summary["resolved"]["compat"] == "reference"
    assert {k: v[0] for k, v in summary["resolved"]["behaviours"].items()} == REFERENCE
    meta = json.loads((Path(summary["model_dir"]) / "pruner_config.json").read_text())
    assert meta["head"]["input"] == "pre_final_norm"
    assert [c.token_labels for c in collators] == ["reference"]
    assert [t.eval_loss_average for t in trainers] == ["per_batch"]
    (step,) = [h for h in json.loads(Path(summary["log_history"]).read_text()) if "loss" in h]
    # micro_batch_sum over 2 micro-batches: twice the mean loss the logged component means give
    assert step["loss"] == pytest.approx(2 * (0.05 * step["ranking_loss"] + step["pruning_loss"]), rel=1e-4)
