"""Strict YAML configs: every shipped config loads, unknown keys fail by name, overrides apply."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pruning.config import load_config
from pruning.errors import PruningError

pytestmark = pytest.mark.unit

CONFIG_DIR = Path(__file__).resolve().parents[1] / "pruning-config"
SHIPPED = sorted(CONFIG_DIR.glob("*.yaml"))


def test_configs_are_shipped():
    assert {p.name for p in SHIPPED} >= {"jpre-xs-msmarco-ja-minimal.yaml", "tiny-offline.yaml"}


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_every_shipped_config_loads(path, tmp_path):
    cfg = load_config(path, [f"training_args.output_dir={tmp_path}"])
    assert cfg.training.seed == 42
    assert cfg.training.output_dir == str(tmp_path)


def test_seed_config_carries_the_seed_settings():
    cfg = load_config(CONFIG_DIR / "jpre-xs-msmarco-ja-minimal.yaml")
    t = cfg.training
    assert (t.optim, t.learning_rate, t.weight_decay, t.max_grad_norm) == ("adafactor", 5e-5, 0.01, 1.0)
    assert (t.per_device_train_batch_size, t.gradient_accumulation_steps, t.num_train_epochs) == (8, 8, 1)
    assert t.lr_scheduler_type.value == "cosine" and t.warmup_steps == 0.1
    assert (t.ranking_weight, t.pruning_weight, t.evals_per_run) == (0.05, 1.0, 20)
    assert cfg.model.model_name_or_path == "hotchpotch/japanese-reranker-xsmall-v2"
    assert cfg.model.classifier_dropout == 0.0
    assert (cfg.data.dataset_name, cfg.data.subset) == (
        "hotchpotch/wip-msmarco-context-relevance",
        "msmarco-ja-minimal",
    )


def _write(tmp_path, cfg):
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def _hf_has_warmup_ratio() -> bool:
    import dataclasses

    from transformers import TrainingArguments

    return "warmup_ratio" in {f.name for f in dataclasses.fields(TrainingArguments)}


_HF_HAS_WARMUP_RATIO = _hf_has_warmup_ratio()

BASE = {
    "model_args": {"model_name_or_path": "x"},
    "data_args": {"train_files": ["t.jsonl"]},
    "training_args": {"seed": 3},
}


@pytest.mark.parametrize(
    ("section", "key", "message"),
    [
        ("training_args", "learnig_rate", "unknown key 'learnig_rate' (did you mean 'learning_rate'?)"),
        pytest.param(
            "training_args",
            "warmup_ratio",
            "unknown key 'warmup_ratio' (transformers 5 takes a ratio as warmup_steps: 0.1)",
            marks=pytest.mark.skipif(
                _HF_HAS_WARMUP_RATIO, reason="transformers < 5.15 still accepts warmup_ratio (deprecated)"
            ),
        ),
        ("model_args", "max_lenght", "did you mean 'max_length'"),
        ("data_args", "subsett", "did you mean 'subset'"),
    ],
)
def test_unknown_key_is_named(tmp_path, section, key, message):
    cfg = {k: dict(v) for k, v in BASE.items()}
    cfg[section][key] = 1
    with pytest.raises(PruningError, match=rf"c\.yaml: {section}: .*{message.split(' (')[0]}") as err:
        load_config(_write(tmp_path, cfg))
    assert message in str(err.value)


def test_unknown_section_and_bad_types(tmp_path):
    with pytest.raises(PruningError, match="unknown section 'trainig_args'.*training_args"):
        load_config(_write(tmp_path, {**BASE, "trainig_args": {}}))
    bad = {**BASE, "model_args": {"model_name_or_path": "x", "max_length": "long"}}
    with pytest.raises(PruningError, match="'max_length' must be int"):
        load_config(_write(tmp_path, bad))
    text_number = {**BASE, "training_args": {"learning_rate": "1e-4x"}}
    with pytest.raises(PruningError, match="'learning_rate' must be a number, got the string '1e-4x'"):
        load_config(_write(tmp_path, text_number))
    with pytest.raises(PruningError, match="exactly one of 'dataset_name' or 'train_files'"):
        load_config(_write(tmp_path, {**BASE, "data_args": {}}))


def test_every_key_is_honoured(tmp_path):
    cfg = {
        "model_args": {"model_name_or_path": "x", "head_dropout": 0.2, "max_length": 99},
        "data_args": {"train_files": ["t.jsonl"], "max_train_samples": 5, "teacher_column": "teacher_scores.a.b"},
        "training_args": {
            "seed": 11,
            "max_steps": 7,
            "ranking_weight": 0.3,
            "pruning_weight": 2.0,
            "token_teacher_weight": 0.5,
        },
    }
    loaded = load_config(_write(tmp_path, cfg))
    assert (loaded.model.head_dropout, loaded.model.max_length) == (0.2, 99)
    assert (loaded.data.max_train_samples, loaded.data.teacher_column) == (5, "teacher_scores.a.b")
    assert loaded.data.train_files == [str(tmp_path / "t.jsonl")]  # relative to the config file
    t = loaded.training
    assert (t.seed, t.max_steps, t.ranking_weight, t.pruning_weight) == (11, 7, 0.3, 2.0)
    assert t.token_teacher_weight == 0.5


def test_token_teacher_weight_may_be_0_or_1(tmp_path):
    for alpha in (0.0, 1.0):
        cfg = load_config(_write(tmp_path, {**BASE, "training_args": {"token_teacher_weight": alpha}}))
        assert cfg.training.token_teacher_weight == alpha


@pytest.mark.parametrize("alpha", [-0.5, 1.01])
def test_token_teacher_weight_outside_unit_interval_names_the_key(tmp_path, alpha):
    path = _write(tmp_path, {**BASE, "training_args": {"token_teacher_weight": alpha}})
    with pytest.raises(PruningError, match=r"c.yaml: training_args: 'token_teacher_weight' must lie in \[0, 1\]"):
        load_config(path)


def test_sentence_teacher_weight_defaults_to_off_and_takes_0_to_1(tmp_path):
    assert load_config(_write(tmp_path, BASE)).training.sentence_teacher_weight == 0.0
    for w in (0.0, 0.25, 1.0):
        cfg = load_config(_write(tmp_path, {**BASE, "training_args": {"sentence_teacher_weight": w}}))
        assert cfg.training.sentence_teacher_weight == w
    cfg = load_config(_write(tmp_path, BASE), ["training_args.sentence_teacher_weight=0.5"])
    assert cfg.training.sentence_teacher_weight == 0.5


@pytest.mark.parametrize(
    ("training", "message"),
    [
        ({"sentence_teacher_weight": 1.5}, r"'sentence_teacher_weight' must lie in \[0, 1\], got 1.5"),
        ({"sentence_teacher_weight": -0.1}, r"'sentence_teacher_weight' must lie in \[0, 1\], got -0.1"),
        ({"sentence_teacher_weight": float("nan")}, r"'sentence_teacher_weight' must lie in \[0, 1\], got nan"),
        ({"sentence_teacher_weight": "0.5"}, "'sentence_teacher_weight' must be a number, got the string '0.5'"),
        (
            {"sentence_teacher_weigth": 0.5},
            "unknown key 'sentence_teacher_weigth' \\(did you mean 'sentence_teacher_weight'",
        ),
    ],
)
def test_sentence_teacher_weight_is_strict(tmp_path, training, message):
    with pytest.raises(PruningError, match=f"c.yaml: training_args: {message}"):
        load_config(_write(tmp_path, {**BASE, "training_args": training}))


def test_sentence_teacher_weight_needs_offset_token_labels(tmp_path):
    message = r"c.yaml: training_args: 'sentence_teacher_weight' needs data_args.token_labels: offsets"
    with pytest.raises(PruningError, match=message):
        load_config(
            _write(tmp_path, {**BASE, "compat": "reference", "training_args": {"sentence_teacher_weight": 0.5}})
        )
    data = {**BASE["data_args"], "token_labels": "offsets"}  # a key written in the config wins over the preset
    cfg = {**BASE, "compat": "reference", "data_args": data, "training_args": {"sentence_teacher_weight": 0.5}}
    assert load_config(_write(tmp_path, cfg)).training.sentence_teacher_weight == 0.5


def test_overrides_really_override(tmp_path):
    path = _write(tmp_path, BASE)
    loaded = load_config(
        path, ["training_args.seed=99", "training_args.ranking_weight=0.5", "model_args.max_length=64"]
    )
    assert (loaded.training.seed, loaded.training.ranking_weight, loaded.model.max_length) == (99, 0.5, 64)
    assert load_config(path, ["training_args.eval_strategy=no"]).training.eval_strategy.value == "no"
    assert load_config(path, ["training_args.learning_rate=1e-4"]).training.learning_rate == 1e-4
    with pytest.raises(PruningError, match="unknown key 'sed'"):
        load_config(path, ["training_args.sed=1"])
    with pytest.raises(PruningError, match="expected section.key=value"):
        load_config(path, ["seed=1"])


def test_bf16_without_cuda_falls_back_to_fp32_with_a_warning(tmp_path, caplog):
    import torch

    if torch.cuda.is_available():
        pytest.skip("CUDA present: bf16 is honoured")
    cfg = {**BASE, "training_args": {"bf16": True}}
    loaded = load_config(_write(tmp_path, cfg))
    assert loaded.training.bf16 is False
    assert "CUDA is not available" in caplog.text


def test_yaml_errors_name_the_file(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("model_args: [unclosed")
    with pytest.raises(PruningError, match="broken.yaml: not valid YAML"):
        load_config(path)
    with pytest.raises(PruningError, match="no such config file"):
        load_config(tmp_path / "nope.yaml")


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("training_args.do_eval=no", "'do_eval' must be true or false, got 'no'"),
        ("training_args.disable_tqdm=off", "'disable_tqdm' must be true or false, got 'off'"),
        ("training_args.seed=1.5", "'seed' must be an integer, got 1.5"),
        ("training_args.max_steps=true", "'max_steps' must be an integer, got True"),
    ],
)
def test_flags_and_counts_are_type_checked(tmp_path, override, message):
    with pytest.raises(PruningError, match=f"training_args: {message}"):
        load_config(_write(tmp_path, BASE), [override])


def test_true_false_flags_pass(tmp_path):
    cfg = load_config(_write(tmp_path, BASE), ["training_args.do_eval=true", "training_args.disable_tqdm=false"])
    assert cfg.training.do_eval is True and cfg.training.disable_tqdm is False


def test_override_into_a_bare_section(tmp_path):
    path = tmp_path / "bare.yaml"
    path.write_text("model_args:\n  model_name_or_path: x\ndata_args:\n  train_files: [t.jsonl]\ntraining_args:\n")
    assert load_config(path, ["training_args.seed=7"]).training.seed == 7
    path.write_text("model_args:\n  model_name_or_path: x\ndata_args:\n  train_files: [t.jsonl]\ntraining_args: 5\n")
    with pytest.raises(PruningError, match=r"bare\.yaml: section 'training_args' must be a mapping"):
        load_config(path, ["training_args.seed=7"])


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"train_files": ["t.jsonl"], "subset": "s"}, "'subset' applies to a hub 'dataset_name'"),
        ({"dataset_name": "d", "validation_files": ["v.jsonl"]}, "'validation_files' applies to 'train_files'"),
        (
            {"train_files": ["t.jsonl"], "validation_files": ["v.jsonl"], "validation_split": None},
            "'validation_files' given but 'validation_split' is null",
        ),
    ],
)
def test_data_keys_that_would_be_ignored_are_errors(tmp_path, data, message):
    with pytest.raises(PruningError, match=f"data_args: {message}"):
        load_config(_write(tmp_path, {**BASE, "data_args": data}))


@pytest.mark.parametrize(
    ("training", "message"),
    [
        ({"remove_unused_columns": True}, "'remove_unused_columns' is set by the pruning trainer"),
        ({"label_names": ["x"]}, "'label_names' is set by the pruning trainer"),
        ({"evals_per_run": 0}, "'evals_per_run' must be at least 1, got 0"),
        ({"max_steps": 0}, r"'max_steps' must be -1 \(train num_train_epochs\) or at least 1, got 0"),
        ({"max_steps": -2}, r"'max_steps' must be -1 \(train num_train_epochs\) or at least 1, got -2"),
        ({"evals_per_run": 4, "eval_steps": 10}, "give 'evals_per_run' or 'eval_steps', not both"),
        ({"evals_per_run": 4, "eval_strategy": "epoch"}, "give 'evals_per_run' or 'eval_strategy', not both"),
    ],
)
def test_training_keys_that_would_be_overwritten_are_errors(tmp_path, training, message):
    with pytest.raises(PruningError, match=f"training_args: {message}"):
        load_config(_write(tmp_path, {**BASE, "training_args": training}))


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("data_args.train_files=5", r"data_args: 'train_files' must be a file path or a list of them, got 5"),
        ("data_args.validation_files=[1]", r"data_args: 'validation_files' must be a file path or a list"),
        ("training_args.head_learning_rate=[1]", r"'head_learning_rate' must be a number, got \[1\]"),
        ("training_args.ranking_weight=true", r"'ranking_weight' must be a number, got True"),
        ("model_args.freeze_layers=-2", r"model_args: 'freeze_layers' must be 0 or more, got -2"),
        ("model_args.max_length=0", r"model_args: 'max_length' must be at least 1, got 0"),
        ("model_args.head_dropout=1.0", r"model_args: 'head_dropout' must lie in \[0, 1\), got 1.0"),
    ],
)
def test_values_of_the_wrong_kind_are_named(tmp_path, override, message):
    with pytest.raises(PruningError, match=message):
        load_config(_write(tmp_path, BASE), [override])


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("data_args.max_eval_samples=8", "data_args: 'max_eval_samples' needs a validation split"),
        ("training_args.evals_per_run=4", "training_args: 'evals_per_run' needs a validation split"),
    ],
)
def test_evaluation_keys_without_a_validation_split_are_errors(tmp_path, override, message):
    cfg = {**BASE, "data_args": {"train_files": ["t.jsonl"], "validation_split": None}}
    assert load_config(_write(tmp_path, cfg)).data.validation_split is None
    with pytest.raises(PruningError, match=message):
        load_config(_write(tmp_path, cfg), [override])


def test_1e_notation_is_a_number_in_the_file_and_on_the_command_line_alike(tmp_path):
    path = tmp_path / "lr.yaml"  # PyYAML's YAML 1.1 resolver alone reads 2e-3 (no dot) as a string
    path.write_text(
        "model_args: {model_name_or_path: x}\ndata_args: {train_files: [t.jsonl]}\n"
        "training_args:\n  head_learning_rate: 2e-3\n  learning_rate: 1E-4\n  weight_decay: +5e-1\n"
    )
    from_file = load_config(path).training
    assert (from_file.head_learning_rate, from_file.learning_rate, from_file.weight_decay) == (0.002, 1e-4, 0.5)
    overridden = load_config(path, ["training_args.learning_rate=2e-3", "training_args.head_learning_rate=3e-3"])
    assert (overridden.training.learning_rate, overridden.training.head_learning_rate) == (0.002, 0.003)
    path.write_text(path.read_text().replace("2e-3", "'2e-3'"))  # quoted: text, named
    with pytest.raises(PruningError, match=r"'head_learning_rate' must be a number, got the string '2e-3'"):
        load_config(path)


def test_a_null_key_does_not_end_the_type_checks(tmp_path):
    # keys are checked in file order (safe_dump sorts them): eval_steps (null, skipped) comes before max_steps
    cfg = {**BASE, "training_args": {"eval_steps": None, "max_steps": True, "seed": 3}}
    with pytest.raises(PruningError, match="'max_steps' must be an integer, got True"):
        load_config(_write(tmp_path, cfg))


def test_output_dir_defaults_to_output_config_name_and_time(tmp_path):
    import re

    cfg = load_config(_write(tmp_path, BASE))
    assert re.fullmatch(r"output/c_\d{8}_\d{6}", cfg.training.output_dir)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("model_args.head_dropout=abc", "model_args: 'head_dropout' must be float, got 'abc'"),
        ("model_args.head_dropout=true", "model_args: 'head_dropout' must be float, got True"),
        ("model_args.max_length=1.5", "model_args: 'max_length' must be int, got 1.5"),
        ("data_args.train_split=5", "data_args: 'train_split' must be str, got 5"),
        ("model_args.config_overrides=5", r"model_args: 'config_overrides' must be dict \| None, got 5"),
        ("model_args.random_init=maybe", "model_args: 'random_init' must be bool, got 'maybe'"),
        ("data_args.max_train_samples=2.5", r"data_args: 'max_train_samples' must be int \| None, got 2.5"),
        ("training_args.save_total_limit=2.5", "training_args: 'save_total_limit' must be an integer, got 2.5"),
    ],
)
def test_each_kind_of_field_is_type_checked(tmp_path, override, message):
    with pytest.raises(PruningError, match=message):
        load_config(_write(tmp_path, BASE), [override])


def test_the_smallest_allowed_values_load(tmp_path):
    cfg = load_config(_write(tmp_path, BASE), ["model_args.max_length=1", "training_args.evals_per_run=1"])
    assert (cfg.model.max_length, cfg.training.evals_per_run) == (1, 1)


@pytest.mark.parametrize("word", ["yes", "no", "on", "off", "y", "n", "Y", "On"])
def test_yaml_1_1_boolean_words_in_an_override_stay_text(tmp_path, word):
    cfg = load_config(_write(tmp_path, BASE), [f"data_args.teacher_column={word}"])
    assert cfg.data.teacher_column == word


def test_an_unknown_key_with_nothing_close_gets_no_suggestion(tmp_path):
    cfg = {**BASE, "model_args": {"model_name_or_path": "x", "qqqq": 1}}
    with pytest.raises(PruningError) as err:
        load_config(_write(tmp_path, cfg))
    assert str(err.value).endswith("model_args: unknown key 'qqqq'")


def test_data_paths_resolve_under_the_cache_the_home_or_the_config(tmp_path):
    from pruning.cache import cache_root
    from pruning.config import resolve_data_path

    assert resolve_data_path("{cache}/qa/x.jsonl", tmp_path) == cache_root() / "qa" / "x.jsonl"
    assert resolve_data_path("~/x.jsonl", tmp_path) == Path.home() / "x.jsonl"
    assert resolve_data_path("data/x.jsonl", tmp_path) == tmp_path / "data" / "x.jsonl"
    assert resolve_data_path("/abs/x.jsonl", tmp_path) == Path("/abs/x.jsonl")


def test_override_edge_cases(tmp_path):
    path = _write(tmp_path, BASE)
    assert load_config(path, ["data_args.teacher_column=a=b"]).data.teacher_column == "a=b"  # "=" in a value
    both = load_config(path, ["compat=reference", "training_args.seed=7"])  # the override after compat counts
    assert (both.compat, both.training.seed) == ("reference", 7)
    with pytest.raises(PruningError, match="c.yaml: 'compat': expected one of none, reference, got 'a=b'"):
        load_config(path, ["compat=a=b"])
    for item in ("seed=1.5", "seed=x.y=z"):  # a dot after the "=" does not make a section
        with pytest.raises(PruningError, match=rf"^override '{item}': expected section.key=value"):
            load_config(path, [item])
    with pytest.raises(PruningError, match=r"c.yaml: model_args: unknown key 'config_overrides.num_layers'"):
        load_config(path, ["model_args.config_overrides.num_layers=2"])


def test_a_loaded_config_keeps_its_source_and_raw_form(tmp_path):
    path = _write(tmp_path, {**BASE, "data_args": {"train_files": "t.jsonl"}})  # one file as a plain string
    cfg = load_config(path, ["training_args.seed=7"])
    assert cfg.source == path and cfg.data.train_files == [str(tmp_path / "t.jsonl")]
    assert cfg.raw["training_args"]["seed"] == 7 and cfg.raw["model_args"] == {"model_name_or_path": "x"}


def test_fp16_without_cuda_falls_back_to_fp32_with_a_warning(tmp_path, caplog):
    import torch

    if torch.cuda.is_available():
        pytest.skip("CUDA present: fp16 is honoured")
    loaded = load_config(_write(tmp_path, BASE), ["training_args.fp16=true"])
    assert loaded.training.fp16 is False and "CUDA is not available" in caplog.text
