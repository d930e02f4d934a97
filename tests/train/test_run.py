"""PruningTrainer on CPU: loss falls, seeds reproduce, gradient accumulation is exact, the summary is complete."""

from __future__ import annotations

import hashlib
import json
import logging
import statistics
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
import yaml
from safetensors.torch import load_file
from transformers import AutoTokenizer

from pruning.config import load_config
from pruning.data.synthetic import make_rows
from pruning.errors import PruningError
from pruning.train.run import (
    _check_processes,
    _device_name,
    _split_name,
    _steps_per_epoch,
    global_batch,
    precision_name,
    train,
)

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def data_files(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    for name, n, seed in (("train", 48, 0), ("validation", 8, 1)):
        with open(root / f"{name}.jsonl", "w", encoding="utf-8") as f:
            for row in make_rows(n, k=2, seed=seed):
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
    return root


def _run(tmp_path, backbone, data_files, name, progress=False, model=None, loss_plot=False, **training):
    """Train the tiny backbone on `data_files` (`model`: more model_args); `progress=None` leaves train()'s own
    default. No loss plot unless asked: drawing it takes as long as a tiny run's training (tests/train/test_plots.py
    checks the picture; test_loss_falls_and_components_are_logged, that a run writes it)."""
    cfg = {
        "model_args": {
            "model_name_or_path": str(backbone),
            "max_length": 64,
            # no dropout: its random draws differ between batch layouts
            "config_overrides": {"hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0},
            **(model or {}),
        },
        "data_args": {
            "train_files": [str(data_files / "train.jsonl")],
            "validation_files": [str(data_files / "validation.jsonl")],
        },
        "training_args": {
            "output_dir": str(tmp_path / name),
            "seed": 42,
            "learning_rate": 5e-3,
            "per_device_train_batch_size": 8,
            "per_device_eval_batch_size": 8,
            "logging_steps": 1,
            "save_strategy": "no",
            "report_to": "none",
            **({"eval_strategy": "no"} if "evals_per_run" not in training else {}),
            **training,
        },
    }
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(cfg))
    if progress is None:
        return train(load_config(path), loss_plot=loss_plot)
    return train(load_config(path), progress=progress, loss_plot=loss_plot)


def _history(summary):
    return json.loads(open(summary["log_history"]).read())


def test_loss_falls_and_components_are_logged(tmp_path, tiny_backbone_dir, data_files):
    summary = _run(
        tmp_path,
        tiny_backbone_dir,
        data_files,
        "falls",
        loss_plot=True,
        max_steps=12,
        eval_strategy="steps",
        eval_steps=6,
        ranking_weight=0.2,  # not the defaults (0.05, 1.0): a weight that does not reach the trainer shows
        pruning_weight=1.5,
    )
    logs = [h for h in _history(summary) if "loss" in h]
    assert logs[-1]["pruning_loss"] < logs[0]["pruning_loss"]
    assert all("ranking_loss" in h and "pruning_loss" in h for h in logs)
    for h in logs:  # the logged total is the weighted sum of its parts, not scaled by anything else
        assert h["loss"] == pytest.approx(0.2 * h["ranking_loss"] + 1.5 * h["pruning_loss"], rel=1e-3)
    evals = [h for h in _history(summary) if "eval_loss" in h]
    assert len(evals) >= 2 and all("eval_ranking_loss" in h and "eval_pruning_loss" in h for h in evals)
    assert set(summary["final_eval"]) == {"loss", "ranking_loss", "pruning_loss"}
    for key in ("versions", "device", "seed", "train_seconds", "config", "final_train", "code"):
        assert key in summary
    train_file = summary["data_files"]["train"][0]
    assert train_file["sha256"] == hashlib.sha256(Path(train_file["path"]).read_bytes()).hexdigest()
    (validation_file,) = summary["data_files"]["validation"]  # both splits fingerprinted, under their names
    assert validation_file["path"] == str(data_files / "validation.jsonl")
    plot = tmp_path / "falls" / "loss_curves.png"
    assert plot.read_bytes().startswith(b"\x89PNG")


def test_same_seed_same_losses(tmp_path, tiny_backbone_dir, data_files):
    a = _run(tmp_path, tiny_backbone_dir, data_files, "a", max_steps=3)
    b = _run(tmp_path, tiny_backbone_dir, data_files, "b", max_steps=3)
    la = [h["loss"] for h in _history(a) if "loss" in h]
    lb = [h["loss"] for h in _history(b) if "loss" in h]
    assert la == lb
    c = _run(tmp_path, tiny_backbone_dir, data_files, "c", max_steps=3, seed=7)
    assert [h["loss"] for h in _history(c) if "loss" in h] != la


def test_gradient_accumulation_matches_full_batch(tmp_path, tiny_backbone_dir, data_files):
    full = _run(tmp_path, tiny_backbone_dir, data_files, "full", max_steps=2, optim="sgd")
    accum = _run(
        tmp_path,
        tiny_backbone_dir,
        data_files,
        "accum",
        max_steps=2,
        optim="sgd",
        per_device_train_batch_size=2,
        gradient_accumulation_steps=4,
    )
    for key in ("loss", "ranking_loss", "pruning_loss"):
        got = [h[key] for h in _history(accum) if "loss" in h]
        want = [h[key] for h in _history(full) if "loss" in h]
        assert got == pytest.approx(want, rel=1e-4), key
    wa = load_file(f"{full['model_dir']}/model.safetensors")
    wb = load_file(f"{accum['model_dir']}/model.safetensors")
    for name, tensor in wa.items():
        torch.testing.assert_close(wb[name], tensor, rtol=1e-4, atol=1e-5)


def test_token_teacher_weight_reaches_the_loss(tmp_path, tiny_backbone_dir, data_files):
    # Synthetic gold passages mix relevant and irrelevant sentences while their ranking target is 1, so with
    # α = 1 every gold token's target becomes 1 and the first step's token loss must differ from α = 0.
    hard = _run(tmp_path, tiny_backbone_dir, data_files, "hard", max_steps=1)
    soft = _run(tmp_path, tiny_backbone_dir, data_files, "soft", max_steps=1, token_teacher_weight=1.0)
    first = [next(h for h in _history(s) if "loss" in h) for s in (hard, soft)]
    assert first[0]["ranking_loss"] == pytest.approx(first[1]["ranking_loss"], rel=1e-6)
    assert first[0]["pruning_loss"] != pytest.approx(first[1]["pruning_loss"], rel=1e-3)


def test_evals_per_run_counts_fractional_epochs(tmp_path, tiny_backbone_dir, data_files):
    # 48 rows / batch 8 = 6 steps an epoch; 1.5 epochs = 9 steps; 2 evaluations a run: every 9 // 2 = 4 steps
    summary = _run(tmp_path, tiny_backbone_dir, data_files, "epochs", num_train_epochs=1.5, evals_per_run=2)
    assert summary["resolved"]["global_steps"] == 9
    assert summary["resolved"]["eval_steps"] == 4
    assert [h["step"] for h in _history(summary) if "eval_loss" in h][:2] == [4, 8]


def test_logged_learning_rate_follows_cosine_with_warmup(tmp_path, tiny_backbone_dir, data_files):
    # 8 steps, warmup ratio 0.25 = 2 steps, then a half cosine to 0. The Trainer logs the rate step s ran with,
    # f(s − 1) × lr, where f(i) = i / 2 during warm-up (i < 2), else ½ (1 + cos(π (i − 2) / 6)).
    summary = _run(
        tmp_path, tiny_backbone_dir, data_files, "cosine", max_steps=8, lr_scheduler_type="cosine", warmup_steps=0.25
    )
    logged = {h["step"]: h["learning_rate"] for h in _history(summary) if "learning_rate" in h}
    want = {1: 0.0, 2: 0.5, 3: 1.0, 4: 0.9330127, 5: 0.75, 6: 0.5, 7: 0.25, 8: 0.0669873}
    assert logged == pytest.approx({s: 5e-3 * f for s, f in want.items()}, abs=1e-9)


def test_evaluation_reads_the_validation_rows_and_the_teacher_scores(tmp_path, tiny_backbone_dir):
    # The final eval losses must be those of the saved model on validation.jsonl, computed here with plain torch
    # (mean squared logit error against the teacher column, mean token cross-entropy over labelled tokens), and
    # neither the train rows' nor those against the 0/1 `labels`.
    from pruning.train.collator import PruningCollator
    from pruning.train.modeling import ContextPruner

    data = tmp_path / "teacher"
    data.mkdir()
    splits = {}
    for name, n, seed in (("train", 16, 0), ("validation", 8, 1)):
        rows = make_rows(n, k=2, seed=seed)
        for i, row in enumerate(rows):  # graded scores, none equal to a label
            row["teacher_scores.tiny"] = [
                0.6 - 0.05 * (i % 3) if label else 0.3 + 0.05 * (i % 4) for label in row["labels"]
            ]
        (data / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
        splits[name] = rows
    summary = _run(tmp_path, tiny_backbone_dir, data, "evalsplit", max_steps=2, eval_strategy="steps", eval_steps=2)
    assert summary["resolved"]["target_column"] == "teacher_scores.tiny"
    model = ContextPruner.from_pretrained(summary["model_dir"])
    collate = PruningCollator(AutoTokenizer.from_pretrained(summary["model_dir"]), max_length=64)

    def losses(split, target):
        rows = splits[split]
        batch = collate(rows)
        with torch.no_grad():
            out = model(batch["input_ids"], batch["attention_mask"], batch.get("token_type_ids"))
        targets = torch.tensor([score for row in rows for score in row[target]], dtype=torch.float32)
        keep = batch["labels"] != -100
        ranking = ((out.ranking_logits - targets) ** 2).mean().item()
        log_p = torch.log_softmax(out.token_logits[keep], dim=-1)
        pruning = -log_p.gather(1, batch["labels"][keep].unsqueeze(1)).mean().item()
        return ranking, pruning

    ranking, pruning = losses("validation", "teacher_scores.tiny")
    assert summary["resolved"]["eval_rows"] == 8
    assert summary["final_eval"]["ranking_loss"] == pytest.approx(ranking, rel=1e-4)
    assert summary["final_eval"]["pruning_loss"] == pytest.approx(pruning, rel=1e-4)
    assert summary["final_eval"]["loss"] == pytest.approx(0.05 * ranking + pruning, rel=1e-4)
    _, train_pruning = losses("train", "teacher_scores.tiny")  # the checks above can tell the splits apart
    assert summary["final_eval"]["pruning_loss"] != pytest.approx(train_pruning, rel=1e-4)
    against_labels, _ = losses("validation", "labels")  # and the targets
    assert summary["final_eval"]["ranking_loss"] != pytest.approx(against_labels, rel=1e-4)


def test_a_run_without_a_validation_split_from_random_weights(tmp_path, tiny_backbone_dir, data_files):
    # no validation split: no evaluation, nothing counted as evaluated; the final train losses are the last logged.
    # random_init: the backbone starts from its config with fresh weights, not from the pretrained ones
    cfg = {
        "model_args": {"model_name_or_path": str(tiny_backbone_dir), "max_length": 64, "random_init": True},
        "data_args": {"train_files": [str(data_files / "train.jsonl")], "validation_split": None},
        "training_args": {
            "output_dir": str(tmp_path / "noval"),
            "max_steps": 1,
            "per_device_train_batch_size": 8,
            "logging_steps": 1,
            "save_strategy": "no",
            "report_to": "none",
        },
    }
    path = tmp_path / "noval.yaml"
    path.write_text(yaml.safe_dump(cfg))
    summary = train(load_config(path), progress=False, loss_plot=False)
    assert summary["resolved"]["eval_rows"] == 0
    assert summary["final_eval"] == dict.fromkeys(("loss", "ranking_loss", "pruning_loss"))
    assert not [h for h in _history(summary) if "eval_loss" in h]
    last = [h for h in _history(summary) if "loss" in h][-1]
    assert summary["final_train"] == {k: last[k] for k in ("loss", "ranking_loss", "pruning_loss")}
    pretrained = load_file(tiny_backbone_dir / "model.safetensors")
    trained = load_file(Path(summary["model_dir"]) / "model.safetensors")
    name = "bert.encoder.layer.0.attention.self.query.weight"  # one step at 5e-5 moves a weight by far less
    assert (trained[f"backbone.{name}"] - pretrained[name]).abs().max() > 0.05


def test_evals_per_run_counts_max_steps_even_for_one_step(tmp_path, tiny_backbone_dir, data_files, capfd):
    # max_steps = 1 decides the length (not 3 default epochs of 6 steps): 2 evaluations of a 1-step run → every step
    summary = _run(
        tmp_path, tiny_backbone_dir, data_files, "one", progress=None, max_steps=1, evals_per_run=2, logging_steps=5
    )
    assert (summary["resolved"]["global_steps"], summary["resolved"]["eval_steps"]) == (1, 1)
    assert summary["final_train"] == {}  # no step was logged (every 5 steps): no last train log to report
    assert "1/1 [" in capfd.readouterr().err  # train() called without `progress` shows the progress bar


def test_the_run_summary_file(tmp_path, tiny_backbone_dir, data_files, caplog, monkeypatch):
    from pruning.train import run

    trainers = []

    class Recorded(run.PruningTrainer):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            trainers.append(self)

    monkeypatch.setattr(run, "PruningTrainer", Recorded)
    with caplog.at_level(logging.INFO, logger="pruning.train.run"):
        summary = _run(
            tmp_path,
            tiny_backbone_dir,
            data_files,
            "summary",
            model={"head_dropout": 0.1, "classifier_dropout": 0.2, "freeze_layers": 1},
            max_steps=2,
            gradient_accumulation_steps=2,
            eval_strategy="steps",
            eval_steps=2,
            head_learning_rate=1e-2,
            run_name="実験",
        )
    messages = [r.getMessage() for r in caplog.records]
    assert not [m for m in messages if m.startswith("compat:")]  # logged only for a compat mode
    out = tmp_path / "summary"
    # the model options reach the model: head and classifier dropout saved, the lower layers frozen (unchanged)
    saved = json.loads((out / "final_model" / "pruner_config.json").read_text())
    assert saved["head"]["dropout"] == 0.1
    assert json.loads((out / "final_model" / "config.json").read_text())["classifier_dropout"] == 0.2
    assert [m for m in messages if m.startswith("froze the embeddings and 1 layers: ")]
    before = load_file(tiny_backbone_dir / "model.safetensors")
    after = load_file(out / "final_model" / "model.safetensors")
    for name in ("bert.embeddings.word_embeddings.weight", "bert.encoder.layer.0.output.dense.weight"):
        assert torch.equal(after[f"backbone.{name}"], before[name]), name
    assert not torch.equal(
        after["backbone.bert.encoder.layer.1.output.dense.weight"], before["bert.encoder.layer.1.output.dense.weight"]
    )
    (trainer,) = trainers  # and the head learning rate the optimizer
    assert {g["initial_lr"] for g in trainer.optimizer.param_groups} == {5e-3, 1e-2}
    assert not (out / "loss_curves.png").exists()  # loss_plot=False; a run that draws it: test_loss_falls_...
    text = (out / "run_summary.json").read_text(encoding="utf-8")
    assert '"run_name": "実験"' in text  # non-ASCII kept as written
    assert json.loads(text) == json.loads(json.dumps(summary))  # the file holds what train() returned
    assert text.startswith('{\n  "')  # indented for people
    assert summary["config_file"] == str(tmp_path / "summary.yaml")
    assert summary["config"] == yaml.safe_load((tmp_path / "summary.yaml").read_text())  # as written, not resolved
    assert summary["resolved"] == {
        "model_source": str(tiny_backbone_dir),
        "target_column": "labels",  # synthetic rows carry no teacher_scores.* column
        "train_rows": 48,
        "eval_rows": 8,
        "global_steps": 2,
        "eval_steps": 2,
        "output_dir": str(out),
        "compat": "none",
        "behaviours": {
            "model_args.head_input": ["final", "default"],
            "data_args.token_labels": ["offsets", "default"],
            "training_args.loss_accumulation": ["full_batch", "default"],
            "training_args.eval_loss_average": ["split", "default"],
        },
    }
    assert (summary["seed"], summary["precision"], summary["resumed_from"]) == (42, "fp32", None)
    assert summary["device"] == _device_name()
    assert summary["model_dir"] == str(out / "final_model") and (out / "final_model" / "model.safetensors").is_file()
    assert summary["log_history"] == str(out / "log_history.json")
    assert isinstance(summary["train_seconds"], float)
    assert summary["train_seconds"] == round(summary["train_seconds"], 3) > 0
    history = _history(summary)
    train_logs = [h for h in history if "loss" in h]
    # after the step logs: an evaluation at step 2, the Trainer's closing entry, the final evaluation
    assert [next(k for k in ("eval_loss", "train_loss", "loss") if k in h) for h in history[-3:]] == [
        "eval_loss",
        "train_loss",
        "eval_loss",
    ]
    assert summary["final_train"] == {k: train_logs[-1][k] for k in ("loss", "ranking_loss", "pruning_loss")}
    assert summary["mean_train_loss"] == pytest.approx(statistics.fmean(h["loss"] for h in train_logs), rel=1e-3)
    assert 0 <= summary["truncated_spans"] < summary["total_spans"]
    batch = summary["distributed"]
    assert batch == {
        "world_size": 1,
        "per_device_train_batch_size": 8,
        "gradient_accumulation_steps": 2,
        "global_train_batch_size": 8 * 2,  # per device × accumulation
    }


def _args(batch=8, n_gpu=0, world_size=1, accumulation=1, deepspeed=None, fsdp=None):
    """The fields of TrainingArguments that the batch arithmetic and the process check read."""
    return SimpleNamespace(
        per_device_train_batch_size=batch,
        n_gpu=n_gpu,
        world_size=world_size,
        gradient_accumulation_steps=accumulation,
        deepspeed=deepspeed,
        fsdp=fsdp,
    )


def test_global_batch_multiplies_devices_processes_and_accumulation():
    assert global_batch(_args(batch=3, n_gpu=2, world_size=5, accumulation=7)) == 3 * 2 * 5 * 7
    assert global_batch(_args(batch=3, n_gpu=0, world_size=5, accumulation=7)) == 3 * 5 * 7  # CPU: no GPU, one device
    assert global_batch(_args(batch=3, n_gpu=1, world_size=1, accumulation=1)) == 3


@pytest.mark.parametrize(("rows", "steps"), [(48, 6), (49, 7), (47, 6), (8, 1), (3, 1), (0, 1)])
def test_steps_per_epoch_counts_the_last_partial_batch(rows, steps):
    assert _steps_per_epoch(rows, _args(batch=4, accumulation=2)) == steps


def test_processes_must_form_the_run_the_training_args_describe(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    _check_processes(_args())  # not launched: one process
    monkeypatch.setenv("WORLD_SIZE", "")
    _check_processes(_args())  # an empty variable is one process too
    monkeypatch.setenv("WORLD_SIZE", "2")
    _check_processes(_args(world_size=2))
    monkeypatch.delenv("WORLD_SIZE")
    _check_processes(_args(world_size=2))  # a process group the user set up without a launcher: not ours to check
    monkeypatch.setenv("WORLD_SIZE", "2")
    with pytest.raises(PruningError, match=r"^launched as 2 processes but training_args make a 1-process run"):
        _check_processes(_args(world_size=1))
    monkeypatch.setenv("WORLD_SIZE", "1")
    _check_processes(_args(world_size=1))


@pytest.mark.parametrize("processes", [1, 2])
@pytest.mark.parametrize("engine", [{"deepspeed": "ds.json"}, {"fsdp": "full_shard"}])
def test_deepspeed_and_fsdp_are_refused(monkeypatch, engine, processes):
    monkeypatch.setenv("WORLD_SIZE", str(processes))
    with pytest.raises(PruningError, match="deepspeed / fsdp are not supported"):
        _check_processes(_args(world_size=processes, **engine))


@pytest.mark.parametrize(
    ("bf16", "fp16", "name"), [(False, False, "fp32"), (True, False, "bf16"), (False, True, "fp16")]
)
def test_precision_name(bf16, fp16, name):
    assert precision_name(SimpleNamespace(bf16=bf16, fp16=fp16)) == name


def test_device_name_names_the_first_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda index: ["NVIDIA H200", "other"][index])
    assert _device_name() == "cuda: NVIDIA H200"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert _device_name().startswith("cpu: ") and _device_name().endswith(f"({torch.get_num_threads()} threads)")


def test_processes_launched_without_an_accelerator_train_on_the_cpu(monkeypatch, caplog):
    from pruning.config import cpu_for_launched_processes

    monkeypatch.setattr(torch.accelerator, "is_available", lambda: False)
    monkeypatch.setenv("WORLD_SIZE", "2")
    training: dict = {}
    with caplog.at_level(logging.INFO, logger="pruning.config"):
        cpu_for_launched_processes(training)
    assert training == {"use_cpu": True}
    assert caplog.messages == [
        "launched as 2 processes without an accelerator: training_args.use_cpu=true (DDP on the CPU)"
    ]
    for env, given, accelerator in (
        ("1", {}, False),
        ("", {}, False),
        ("2", {"use_cpu": False}, False),
        ("2", {}, True),
    ):
        monkeypatch.setenv("WORLD_SIZE", env)
        monkeypatch.setattr(torch.accelerator, "is_available", lambda a=accelerator: a)
        training = dict(given)
        cpu_for_launched_processes(training)
        assert training == given  # one process, the config's own choice, or a GPU: left alone


def test_load_config_applies_it_before_the_training_arguments_exist(monkeypatch, tmp_path):
    monkeypatch.setattr(torch.accelerator, "is_available", lambda: False)
    monkeypatch.setenv("WORLD_SIZE", "2")
    path = tmp_path / "c.yaml"
    path.write_text(
        yaml.safe_dump({"model_args": {"model_name_or_path": "x"}, "data_args": {"train_files": ["t.jsonl"]}})
    )

    from pruning import config as config_module

    class Arguments(config_module.PruningTrainingArguments):  # reports what the arguments were built with
        def __new__(cls, **kw):
            raise ValueError(f"use_cpu={kw.get('use_cpu')}")

    monkeypatch.setattr(config_module, "PruningTrainingArguments", Arguments)
    with pytest.raises(PruningError, match=r"invalid value: use_cpu=True$"):
        load_config(path)


def test_a_missing_validation_split_names_the_config_and_its_hint_works(tmp_path, tiny_backbone_dir, data_files):
    cfg = {
        "model_args": {"model_name_or_path": str(tiny_backbone_dir), "max_length": 64},
        "data_args": {"train_files": [str(data_files / "train.jsonl")]},
        "training_args": {
            "output_dir": str(tmp_path / "out"),
            "max_steps": 1,
            "evals_per_run": 2,
            "report_to": "none",
            "save_strategy": "no",
            "per_device_train_batch_size": 8,
        },
    }
    path = tmp_path / "noval.yaml"
    path.write_text(yaml.safe_dump(cfg))
    with pytest.raises(PruningError) as err:
        train(load_config(path), progress=False, loss_plot=False)
    assert str(err.value) == (
        f"{path}: data_args: training files: no split 'validation' (has ['train']); give data_args.validation_files, "
        "or train without evaluation: set data_args.validation_split: null and remove training_args.evals_per_run "
        "(they need it)"
    )
    # the hint, followed: the run trains
    summary = train(
        load_config(path, ["data_args.validation_split=null", "training_args.evals_per_run=null"]),
        progress=False,
        loss_plot=False,
    )
    assert summary["resolved"]["eval_rows"] == 0


def _write_sentence_rows(root: Path, drop_from_row: int | None = None) -> Path:
    """data_files' rows plus context_spans_teacher: the opposite of each sentence's label (so that the targets move
    wherever the weight does); `drop_from_row` leaves that training row without the field."""
    root.mkdir(parents=True, exist_ok=True)
    for name, n, seed in (("train", 48, 0), ("validation", 8, 1)):
        with open(root / f"{name}.jsonl", "w", encoding="utf-8") as f:
            for i, row in enumerate(make_rows(n, k=2, seed=seed)):
                if not (name == "train" and i == drop_from_row):
                    row["context_spans_teacher"] = [[1 - v for v in rel] for rel in row["context_spans_relevance"]]
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
    return root


def test_sentence_teacher_weight_reaches_the_loss(tmp_path, tiny_backbone_dir, data_files):
    sentence_files = _write_sentence_rows(tmp_path / "sentence-data")
    runs = {
        "plain": _run(tmp_path, tiny_backbone_dir, data_files, "plain", max_steps=1),
        "off": _run(tmp_path, tiny_backbone_dir, sentence_files, "off", max_steps=1),
        "on": _run(tmp_path, tiny_backbone_dir, sentence_files, "on", max_steps=1, sentence_teacher_weight=1.0),
    }
    first = {name: next(h for h in _history(s) if "loss" in h) for name, s in runs.items()}
    assert first["off"]["loss"] == first["plain"]["loss"]  # weight 0: the field changes nothing
    assert first["on"]["ranking_loss"] == pytest.approx(first["off"]["ranking_loss"], rel=1e-6)
    assert first["on"]["pruning_loss"] != pytest.approx(first["off"]["pruning_loss"], rel=1e-3)


def test_a_row_without_sentence_scores_names_the_file_row_and_field(tmp_path, tiny_backbone_dir, data_files):
    files = _write_sentence_rows(tmp_path / "gap", drop_from_row=3)
    with pytest.raises(PruningError) as err:
        _run(tmp_path, tiny_backbone_dir, files, "gap", max_steps=1, sentence_teacher_weight=0.5)
    assert str(err.value) == (
        f"train split (48 rows of {files / 'train.jsonl'}): row 3: field 'context_spans_teacher' is missing, "
        "and training_args.sentence_teacher_weight > 0 needs it"
    )
    with pytest.raises(
        PruningError, match=r"train split \(48 rows of .*train.jsonl\): no field 'context_spans_teacher'"
    ):
        _run(tmp_path, tiny_backbone_dir, data_files, "none", max_steps=1, sentence_teacher_weight=0.5)


def test_a_validation_split_without_sentence_scores_is_named_as_the_validation_split(
    tmp_path, tiny_backbone_dir, data_files
):
    files = _write_sentence_rows(tmp_path / "train-only")
    (files / "validation.jsonl").write_bytes((data_files / "validation.jsonl").read_bytes())  # rows without the field
    with pytest.raises(PruningError) as err:
        _run(tmp_path, tiny_backbone_dir, files, "train-only", max_steps=1, sentence_teacher_weight=0.5)
    assert str(err.value) == (  # row 0: the splits load with one set of columns, so the field is there but null
        f"validation split (8 rows of {files / 'validation.jsonl'}): row 0: field 'context_spans_teacher' is missing, "
        "and training_args.sentence_teacher_weight > 0 needs it"
    )


def test_a_split_is_named_by_its_rows_and_its_local_files_if_any():
    assert _split_name("train", range(3), None) == "train split (3 rows)"  # e.g. a hub dataset
    assert _split_name("train", range(3), []) == "train split (3 rows)"
    assert (
        _split_name("validation", range(2), ["a.jsonl", "b.jsonl"]) == "validation split (2 rows of a.jsonl, b.jsonl)"
    )
