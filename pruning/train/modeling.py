"""The pruner: a one-logit sequence-classification backbone plus a per-token keep/drop head.

One directory holds a saved model:
    pruner_config.json    format version, backbone class, head settings (incl. which hidden state it reads)
    config.json           the backbone's own HF config
    model.safetensors     backbone weights under `backbone.*`, head weights under `pruning_head.*`
    tokenizer files
Saving is atomic (written beside the target, renamed into place); a half-written directory is refused.
Loading is strict: a missing, unexpected or mis-shaped tensor is an error, never a random head.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import transformers
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn
from transformers import AutoConfig, AutoModelForSequenceClassification

from pruning.errors import PruningError
from pruning.train.atomic import INCOMPLETE_MARKER, atomic_dir

logger = logging.getLogger(__name__)

PRUNER_CONFIG = "pruner_config.json"
WEIGHTS = "model.safetensors"
FORMAT_VERSION = 2
#: The token head this code builds (dropout, then a linear layer to keep/drop logits), as pruner_config.json names it.
HEAD_TYPE = "dropout_linear"

#: What the token head reads. `final`: the backbone's last hidden state as its own classifier sees it (after a
#: final norm, where the architecture has one, e.g. ModernBERT). `pre_final_norm`: the last encoder layer's
#: output before that norm, as the reference read it under transformers 4.52. Backbones without a final norm
#: (BERT, XLM-R) give the same tensor either way.
HEAD_INPUTS = ("final", "pre_final_norm")
#: Attribute names under which a backbone's base model keeps a norm applied after its last layer.
FINAL_NORM_NAMES = ("final_norm", "norm")


@dataclass
class PrunerOutput:
    """Raw ranking logit per pair (P,) and token logits (P, T, 2)."""

    ranking_logits: torch.Tensor
    token_logits: torch.Tensor

    def keep_probabilities(self) -> torch.Tensor:
        """Per-token keep probability: softmax over the two classes, class 1 = keep."""
        return torch.softmax(self.token_logits.float(), dim=-1)[..., 1]


def final_norm_module(backbone: nn.Module) -> nn.Module | None:
    """The norm a backbone applies after its last encoder layer, or None (BERT and XLM-R have none)."""
    base = getattr(backbone, "base_model", backbone)
    for name in FINAL_NORM_NAMES:
        module = getattr(base, name, None)
        if isinstance(module, nn.Module):
            return module
    return None


class ContextPruner(nn.Module):
    """Backbone (AutoModelForSequenceClassification, one logit) + Dropout → Linear(hidden → 2) on every token.

    The head's input is taken with a forward hook, not from `hidden_states[-1]`, whose meaning changed between
    transformers 4 and 5 for backbones with a final norm (see HEAD_INPUTS).
    """

    # Our loss normalises over the whole accumulated batch itself (see PruningTrainer).
    accepts_loss_kwargs = True

    def __init__(self, backbone: transformers.PreTrainedModel, head_dropout: float = 0.0, head_input: str = "final"):
        super().__init__()
        if getattr(backbone.config, "num_labels", None) != 1:
            raise ValueError(f"ContextPruner: backbone must have num_labels=1, got {backbone.config.num_labels}")
        if head_input not in HEAD_INPUTS:
            raise ValueError(f"ContextPruner: head_input must be one of {', '.join(HEAD_INPUTS)}, got {head_input!r}")
        self.backbone = backbone
        self.head_dropout = head_dropout
        self.head_input = head_input
        hidden = backbone.config.hidden_size
        self.pruning_head = nn.Sequential(nn.Dropout(head_dropout), nn.Linear(hidden, 2))
        self._head_features: torch.Tensor | None = None
        norm = final_norm_module(backbone) if head_input == "pre_final_norm" else None
        if norm is not None:
            norm.register_forward_pre_hook(self._keep_norm_input)
        else:
            backbone.base_model.register_forward_hook(self._keep_base_output)

    def _keep_norm_input(self, module: nn.Module, args: tuple) -> None:
        self._head_features = args[0]

    def _keep_base_output(self, module: nn.Module, args: tuple, output) -> None:
        self._head_features = output[0]

    @property
    def config(self) -> transformers.PretrainedConfig:
        return self.backbone.config

    @classmethod
    def from_backbone(
        cls,
        name_or_path: str,
        head_dropout: float = 0.0,
        classifier_dropout: float | None = None,
        config_overrides: dict | None = None,
        random_init: bool = False,
        head_input: str = "final",
    ) -> ContextPruner:
        """Start a pruner from a backbone (hub id or local directory); the head is freshly initialised.

        Weights are always loaded in float32, whatever dtype the checkpoint records (mixed precision comes from
        autocast during training). `random_init` builds the backbone from its (overridden) config with random
        weights, for smoke runs.
        """
        overrides = {"num_labels": 1, **(config_overrides or {})}
        if classifier_dropout is not None:
            overrides["classifier_dropout"] = classifier_dropout
        try:
            config = AutoConfig.from_pretrained(name_or_path)
            for key, value in overrides.items():
                if not hasattr(config, key):  # every config has num_labels
                    raise PruningError(f"backbone {name_or_path!r}: config has no field {key!r} to override")
                setattr(config, key, value)
            if random_init:
                backbone = AutoModelForSequenceClassification.from_config(config, dtype=torch.float32)
            else:
                backbone = AutoModelForSequenceClassification.from_pretrained(
                    name_or_path, config=config, dtype=torch.float32
                )
        except (OSError, ValueError) as exc:
            raise PruningError(f"cannot load backbone {name_or_path!r}: {exc}") from None
        return cls(backbone, head_dropout, head_input)

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        token_type_ids: torch.Tensor | None = None,
    ) -> PrunerOutput:
        extra = {} if token_type_ids is None else {"token_type_ids": token_type_ids}
        self._head_features = None
        out = self.backbone(input_ids=input_ids, attention_mask=attention_mask, **extra)
        hidden, self._head_features = self._head_features, None
        if hidden is None or hidden.shape[:2] != input_ids.shape:
            got = None if hidden is None else tuple(hidden.shape)
            raise RuntimeError(
                f"ContextPruner: the {self.head_input!r} head input has shape {got}, expected {tuple(input_ids.shape)}"
                " + (hidden,); this backbone's forward does not fit the hook (e.g. an unpadded attention path)"
            )
        return PrunerOutput(ranking_logits=out.logits.squeeze(-1), token_logits=self.pruning_head(hidden))

    def freeze_lower_layers(self, n_layers: int) -> int:
        """Freeze the embeddings and the first `n_layers` encoder layers (cheaper CPU steps); returns the number
        of frozen parameters. n_layers = 0 freezes nothing."""
        if n_layers <= 0:
            return 0
        base = self.backbone.base_model
        layers = getattr(getattr(base, "encoder", None), "layer", None)
        embeddings = getattr(base, "embeddings", None)
        if layers is None or embeddings is None:
            raise PruningError(
                f"freeze_layers: {type(self.backbone).__name__} has no embeddings/encoder.layer to freeze"
            )
        if n_layers > len(layers):
            raise PruningError(f"freeze_layers: {n_layers} > the backbone's {len(layers)} layers")
        frozen = 0
        for module in [embeddings, *layers[:n_layers]]:
            for p in module.parameters():
                p.requires_grad_(False)
                frozen += p.numel()
        return frozen

    # ---- persistence -------------------------------------------------------------------------------

    def save_pretrained(self, directory: str | Path, tokenizer=None, atomic: bool = True) -> Path:
        """Write config, weights (safetensors) and, if given, the tokenizer into one directory.

        `atomic` (the default): written into `<directory>.tmp` and renamed into place when complete, so that a crash
        never leaves a directory that loads as a mix of two models (see `pruning.train.atomic`). `atomic=False`
        writes in place, for a caller that stages the enclosing folder itself (a training checkpoint).
        """
        directory = Path(directory)
        if atomic:
            with atomic_dir(directory) as staging:
                self.save_pretrained(staging, tokenizer=tokenizer, atomic=False)
            return directory
        directory.mkdir(parents=True, exist_ok=True)
        self.backbone.config.save_pretrained(directory)
        meta = {
            "format_version": FORMAT_VERSION,
            "backbone_class": type(self.backbone).__name__,
            "head": {
                "type": HEAD_TYPE,
                "dropout": self.head_dropout,
                "num_classes": 2,
                "input": self.head_input,
            },
            "hidden_size": self.backbone.config.hidden_size,
        }
        (directory / PRUNER_CONFIG).write_text(json.dumps(meta, indent=2) + "\n")
        state = {k: v.detach().contiguous().cpu() for k, v in self.state_dict().items()}
        save_file(state, str(directory / WEIGHTS), metadata={"format": "pt"})
        if tokenizer is not None:
            tokenizer.save_pretrained(directory)
        return directory

    @classmethod
    def from_pretrained(cls, directory: str | Path) -> ContextPruner:
        """Load a directory written by `save_pretrained`; any weight mismatch is a PruningError."""
        directory = Path(directory)
        saved = _read_saved(directory)
        try:
            backbone = saved.backbone_cls(AutoConfig.from_pretrained(directory))
        except (OSError, ValueError) as exc:
            raise PruningError(f"{directory}: cannot read the backbone config ({exc})") from None
        model = cls(backbone, saved.dropout, saved.head_input)
        _load_strict(model, _read_weights(saved.weights), saved.weights)
        model.eval()
        return model

    def load_weights(self, directory: str | Path) -> None:
        """Load the weights of a directory written by `save_pretrained` (e.g. a training checkpoint) into this
        model, strictly: the saved backbone class and head must be this model's, and every tensor must match."""
        directory = Path(directory)
        saved = _read_saved(directory)
        ours = (type(self.backbone).__name__, self.head_input)
        theirs = (saved.backbone_cls.__name__, saved.head_input)
        if ours != theirs:
            raise PruningError(
                f"{directory / PRUNER_CONFIG}: saved (backbone_class, head.input) {theirs} != this run's model {ours}"
            )
        _load_strict(self, _read_weights(saved.weights), saved.weights)


@dataclass
class _Saved:
    backbone_cls: type
    dropout: float
    head_input: str
    weights: Path


def _read_saved(directory: Path) -> _Saved:
    """Validate a saved pruner directory's `pruner_config.json` and find its weights; errors are PruningErrors."""
    if (directory / INCOMPLETE_MARKER).exists():
        raise PruningError(
            f"{directory}: an incomplete save (interrupted while it was being written); use a complete model folder"
        )
    meta_path = directory / PRUNER_CONFIG
    if not meta_path.is_file():
        raise PruningError(f"{directory}: not a pruner model directory ({PRUNER_CONFIG} missing)")
    try:
        meta = json.loads(meta_path.read_text())
    except json.JSONDecodeError as exc:
        raise PruningError(f"{meta_path}: invalid JSON ({exc})") from None
    if not isinstance(meta, dict):
        raise PruningError(f"{meta_path}: top level must be an object, got {type(meta).__name__}")
    version = meta.get("format_version")
    if version not in (1, FORMAT_VERSION) or isinstance(version, bool):
        raise PruningError(f"{meta_path}: field 'format_version': {version!r}, expected 1 or {FORMAT_VERSION}")
    backbone_cls = getattr(transformers, str(meta.get("backbone_class")), None)
    if backbone_cls is None:
        raise PruningError(f"{meta_path}: field 'backbone_class': unknown class {meta.get('backbone_class')!r}")
    weights_path = directory / WEIGHTS
    if not weights_path.is_file():
        raise PruningError(f"{directory}: {WEIGHTS} missing")
    raw_head = meta.get("head")
    head: dict[str, Any] = raw_head if isinstance(raw_head, dict) else {}
    dropout = head.get("dropout")
    if not isinstance(dropout, int | float) or isinstance(dropout, bool) or not 0 <= dropout < 1:
        raise PruningError(f"{meta_path}: field 'head.dropout': expected a number in [0, 1), got {dropout!r}")
    for key, expected in (("type", HEAD_TYPE), ("num_classes", 2)):
        if key in head and head[key] != expected:  # this code builds one head: anything else cannot load into it
            raise PruningError(f"{meta_path}: field 'head.{key}': expected {expected!r}, got {head[key]!r}")
    # Version 1 did not record the head input: its code read hidden_states[-1] under transformers 5, which is
    # the output after any final norm, i.e. `final`.
    head_input = head.get("input") if version == FORMAT_VERSION else "final"
    if head_input not in HEAD_INPUTS:
        raise PruningError(f"{meta_path}: field 'head.input': expected one of {HEAD_INPUTS}, got {head_input!r}")
    return _Saved(backbone_cls, float(dropout), head_input, weights_path)


def _read_weights(weights_path: Path) -> dict[str, torch.Tensor]:
    try:
        return load_file(str(weights_path))
    except (SafetensorError, OSError) as exc:
        raise PruningError(f"{weights_path}: not a readable safetensors file ({exc})") from None


def _load_strict(model: nn.Module, state: dict[str, torch.Tensor], source: Path) -> None:
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    mismatched = [
        f"{k} {tuple(state[k].shape)} != {tuple(v.shape)}"
        for k, v in expected.items()
        if k in state and state[k].shape != v.shape
    ]
    problems = []
    if missing:
        problems.append(f"missing {_preview(missing)}")
    if unexpected:
        problems.append(f"unexpected {_preview(unexpected)}")
    if mismatched:
        problems.append(f"shape mismatch {_preview(mismatched)}")
    if problems:
        raise PruningError(f"{source}: weights do not match the model: " + "; ".join(problems))
    model.load_state_dict(state, strict=True)


def _preview(names: list[str], limit: int = 5) -> str:
    more = f" (+{len(names) - limit} more)" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more
