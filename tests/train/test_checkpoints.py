"""Checkpoints and resume: a run interrupted and resumed ends exactly where the uninterrupted one does; a save
killed at its rename leaves nothing that loads; `latest` skips incomplete checkpoints; the best model comes back."""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from safetensors.torch import load_file

from pruning.config import load_config
from pruning.errors import PruningError
from pruning.train.checkpoints import check_resume_supported
from pruning.train.modeling import ContextPruner
from pruning.train.run import train
from pruning.train.trainer import PruningTrainer
from tests.train.tiny import history, write_config, write_data

# 48 rows / batch 8 = 6 steps an epoch: resuming at step 4 skips into the middle of the first epoch and the run
# then crosses into the second. Logging every 3 steps leaves one un-logged step in the checkpoint at step 4.
RUN = {
    "max_steps": 8,
    "save_strategy": "steps",
    "save_steps": 4,
    "logging_steps": 3,
    "eval_strategy": "steps",
    "eval_steps": 4,
}
TIMING = ("runtime", "per_second")  # wall-clock fields of the log entries


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return write_data(tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory, tiny_backbone_dir, data):
    root = tmp_path_factory.mktemp("uninterrupted")
    cfg = write_config(root / "run.yaml", tiny_backbone_dir, data, output_dir=str(root / "run"), **RUN)
    return _train(cfg)


def _train(config_path: Path, resume: str | None = None) -> dict:
    """train() on a written config, quietly: no progress bar, no loss plot (checkpoints are what these tests read)."""
    return train(load_config(config_path), progress=False, loss_plot=False, resume=resume)


def _config(tmp_path, backbone, data, name="run", **extra):
    return write_config(tmp_path / f"{name}.yaml", backbone, data, output_dir=str(tmp_path / name), **{**RUN, **extra})


def _untimed(entries):
    return [{k: v for k, v in e.items() if not any(t in k for t in TIMING)} for e in entries]


def _max_weight_delta(dir_a, dir_b) -> float:
    wa, wb = load_file(f"{dir_a}/model.safetensors"), load_file(f"{dir_b}/model.safetensors")
    assert wa.keys() == wb.keys()
    return max((wa[k] - wb[k]).abs().max().item() for k in wa)


def _max_loss_delta(ha, hb) -> float:
    pairs = [(a[k], b[k]) for a, b in zip(ha, hb, strict=True) for k in a if k.endswith("loss")]
    return max(abs(x - y) for x, y in pairs)


def _kill_at_step(monkeypatch, step):
    real = PruningTrainer.training_step

    def training_step(self, *args, **kwargs):
        if self.state.global_step == step:
            raise KeyboardInterrupt(f"killed at step {step}")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(PruningTrainer, "training_step", training_step)


def _fail_rename_to(monkeypatch, name):
    real = os.replace

    def replace(src, dst):
        if os.path.basename(os.fspath(dst)) == name:
            raise OSError(f"killed while renaming to {name}")
        return real(src, dst)

    monkeypatch.setattr(os, "replace", replace)


@pytest.mark.slow
def test_resumed_run_ends_exactly_where_the_uninterrupted_one_does(
    tmp_path, tiny_backbone_dir, data, uninterrupted, monkeypatch
):
    cfg = _config(tmp_path, tiny_backbone_dir, data)
    with monkeypatch.context() as m:
        _kill_at_step(m, 6)
        with pytest.raises(KeyboardInterrupt):
            _train(cfg)
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == ["checkpoint-4"]
    resumed = _train(_config(tmp_path, tiny_backbone_dir, data), resume="latest")

    want = [h for h in history(Path(uninterrupted["resolved"]["output_dir"])) if h["step"] > 4]
    got = [h for h in history(tmp_path / "run") if h["step"] > 4]
    assert [h["step"] for h in got if "loss" in h] == [6]  # averages steps 4..6; step 4 ran before the resume
    dl, dw = _max_loss_delta(want, got), _max_weight_delta(uninterrupted["model_dir"], resumed["model_dir"])
    print(f"resume equivalence: max |dloss| = {dl:.3g}, max |dweight| = {dw:.3g}")
    assert _untimed(got) == _untimed(want)
    assert dw == 0.0
    # the history before the resume comes from the checkpoint: nothing lost, nothing counted twice
    assert _untimed(history(tmp_path / "run")) == _untimed(history(Path(uninterrupted["resolved"]["output_dir"])))
    assert resumed["resumed_from"] == {
        "checkpoint": str(tmp_path / "run" / "checkpoint-4"),
        "global_step": 4,
        "requested": "latest",
    }
    assert uninterrupted["resumed_from"] is None
    for key in ("mean_train_loss", "final_train", "final_eval", "truncated_spans", "total_spans"):
        assert resumed[key] == uninterrupted[key], key
    assert resumed["resolved"]["global_steps"] == 8
    saved = json.loads((tmp_path / "run" / "run_summary.json").read_text())
    assert saved["resumed_from"]["global_step"] == 4


@pytest.mark.slow
def test_kill_at_the_rename_leaves_nothing_loadable_and_latest_skips_it(
    tmp_path, tiny_backbone_dir, data, uninterrupted, monkeypatch, caplog
):
    run = tmp_path / "run"
    with monkeypatch.context() as m:
        _fail_rename_to(m, "checkpoint-8")
        with pytest.raises(OSError, match="killed while renaming"):
            _train(_config(tmp_path, tiny_backbone_dir, data))
    assert sorted(p.name for p in run.iterdir()) == ["checkpoint-4", "checkpoint-8.tmp"]
    with pytest.raises(PruningError, match="incomplete save"):
        ContextPruner.from_pretrained(run / "checkpoint-8.tmp")
    # a checkpoint folder someone else left half-written: named right, but without its trainer state
    shutil.copytree(run / "checkpoint-4", run / "checkpoint-12")
    (run / "checkpoint-12" / "trainer_state.json").unlink()

    with caplog.at_level(logging.WARNING, logger="pruning.train.checkpoints"):
        resumed = _train(_config(tmp_path, tiny_backbone_dir, data), resume="latest")
    assert resumed["resumed_from"]["checkpoint"] == str(run / "checkpoint-4")
    assert "checkpoint-8.tmp: skipped: left over from an interrupted save" in caplog.text
    assert "checkpoint-12: skipped: incomplete: trainer_state.json missing" in caplog.text
    assert _max_weight_delta(uninterrupted["model_dir"], resumed["model_dir"]) == 0.0
    assert (run / "checkpoint-8").is_dir() and not (run / "checkpoint-8.tmp").exists()  # written again


@pytest.mark.slow
def test_load_best_model_at_end_brings_back_the_best_checkpoint(tmp_path, tiny_backbone_dir, data):
    # "best" = the highest eval loss, so that it is an early checkpoint and not the model training ended with
    extra = {
        "eval_steps": 2,
        "save_steps": 2,
        "max_steps": 6,
        "load_best_model_at_end": True,
        "metric_for_best_model": "eval_loss",
        "greater_is_better": True,
        "save_total_limit": 1,
    }
    summary = _train(_config(tmp_path, tiny_backbone_dir, data, **extra))
    evals = {h["step"]: h["eval_loss"] for h in history(tmp_path / "run") if "eval_loss" in h and h["step"] < 6}
    best = max(evals, key=evals.get)
    assert best < 6
    kept = sorted(p.name for p in (tmp_path / "run").iterdir() if p.name.startswith("checkpoint"))
    assert kept == [f"checkpoint-{best}"]  # save_total_limit=1 keeps the best one
    assert _max_weight_delta(tmp_path / "run" / kept[0], summary["model_dir"]) == 0.0
    checkpoint = tmp_path / "run" / kept[0]
    loaded = ContextPruner.from_pretrained(checkpoint)  # a checkpoint is a model folder too, with its tokenizer
    assert isinstance(loaded, ContextPruner) and (checkpoint / "tokenizer_config.json").is_file()


@pytest.mark.unit
def test_resume_from_a_checkpoint_folder_carries_on_from_its_step(tmp_path, tiny_backbone_dir, data, caplog):
    """The unit tier's resume check (the slow test above checks a longer run to the last weight): a 2-step run
    resumed in another folder from its checkpoint at step 1 ends with the same weights and the same run mean."""
    short = {"max_steps": 2, "save_steps": 1, "logging_steps": 1, "eval_strategy": "no"}
    with caplog.at_level(logging.INFO, logger="pruning.train.run"):
        first = _train(_config(tmp_path, tiny_backbone_dir, data, "first", **short))
    assert not [r for r in caplog.records if r.getMessage().startswith("resuming")]
    checkpoint = tmp_path / "first" / "checkpoint-1"
    with caplog.at_level(logging.INFO, logger="pruning.train.run"):
        again = _train(
            _config(tmp_path, tiny_backbone_dir, data, "again", **short),
            resume=str(checkpoint),
        )
    assert f"resuming from {checkpoint}" in [r.getMessage() for r in caplog.records]
    assert again["resumed_from"] == {"checkpoint": str(checkpoint), "global_step": 1, "requested": str(checkpoint)}
    assert again["resolved"]["global_steps"] == 2
    assert again["mean_train_loss"] == pytest.approx(first["mean_train_loss"], rel=1e-6)
    assert _max_weight_delta(first["model_dir"], again["model_dir"]) == 0.0


@pytest.mark.unit
def test_a_cpu_ddp_resume_needs_transformers_5_18():
    def args(world_size, device):
        return SimpleNamespace(world_size=world_size, device=torch.device(device))

    with pytest.raises(PruningError, match=r"DDP run on the CPU needs transformers>=5\.18: 5\.17\.0 loads .* cpu:0"):
        check_resume_supported(args(2, "cpu:0"), "5.17.0")
    check_resume_supported(args(2, "cpu:0"), "5.18.0")
    check_resume_supported(args(2, "cpu:0"), "5.18.0.dev0")
    check_resume_supported(args(2, "cpu:0"), "6.0.0")
    check_resume_supported(args(1, "cpu"), "5.9.0")  # one process loads onto "cpu"
    check_resume_supported(args(2, "cuda:1"), "5.9.0")  # GPU DDP loads onto the process's GPU


@pytest.mark.unit
def test_resume_errors_name_the_problem(tmp_path, tiny_backbone_dir, data):
    cfg = _config(tmp_path, tiny_backbone_dir, data)
    with pytest.raises(PruningError, match=r"run: no complete checkpoint to resume from \(--resume latest\)"):
        _train(cfg, resume="latest")
    with pytest.raises(PruningError, match="nowhere: no such checkpoint folder"):
        _train(cfg, resume=str(tmp_path / "nowhere"))
    (tmp_path / "run" / "checkpoint-3").mkdir(parents=True)
    with pytest.raises(PruningError, match="checkpoint-3: not a checkpoint to resume from: incomplete"):
        _train(cfg, resume=str(tmp_path / "run" / "checkpoint-3"))
    no_dir = write_config(tmp_path / "default.yaml", tiny_backbone_dir, data, **RUN)
    with pytest.raises(PruningError, match="--resume latest needs training_args.output_dir"):
        _train(no_dir, resume="latest")


@pytest.mark.unit
def test_checkpoint_weights_load_strictly_into_the_same_model_only(tmp_path, tiny_backbone_dir):
    model = ContextPruner.from_backbone(str(tiny_backbone_dir))
    model.save_pretrained(tmp_path / "m")
    other = ContextPruner.from_backbone(str(tiny_backbone_dir))
    other.load_weights(tmp_path / "m")
    for name, tensor in model.state_dict().items():
        assert torch.equal(other.state_dict()[name], tensor), name
    reads_pre_norm = ContextPruner.from_backbone(str(tiny_backbone_dir), head_input="pre_final_norm")
    with pytest.raises(PruningError, match="head.input"):
        reads_pre_norm.load_weights(tmp_path / "m")
