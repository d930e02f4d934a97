"""Shared fixtures: a tiny tokenizer and a tiny random backbone built in the test session (nothing downloaded)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pruning.data.synthetic import make_rows


def build_tiny_tokenizer(texts: list[str]):
    """A small Unigram tokenizer with the XLM-R pair template, trained on `texts`."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.Unigram())
    tok.normalizer = normalizers.NFKC()
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.decoder = decoders.Metaspace()
    trainer = trainers.UnigramTrainer(
        vocab_size=1200, special_tokens=["<s>", "<pad>", "</s>", "<unk>"], unk_token="<unk>", max_piece_length=4
    )
    tok.train_from_iterator(texts, trainer)
    bos, eos = tok.token_to_id("<s>"), tok.token_to_id("</s>")
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>", special_tokens=[("<s>", bos), ("</s>", eos)]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<s>",
        eos_token="</s>",
        sep_token="</s>",
        cls_token="<s>",
        pad_token="<pad>",
        unk_token="<unk>",
        model_max_length=256,
    )


def build_char_tokenizer():
    """A character-level tokenizer (one token per character, spaces as "▁", XLM-R pair template), so that token
    positions in hand-worked examples can be counted by eye."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    specials = ["<s>", "<pad>", "</s>", "<unk>"]
    chars = "▁abcdefghijklmnopqrstuvwxyz.?,東京大阪雨晴。です日本"
    tok = Tokenizer(models.Unigram([(t, 0.0) for t in specials] + [(c, -1.0) for c in chars], unk_id=3))
    tok.normalizer = normalizers.NFKC()
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.decoder = decoders.Metaspace()
    tok.add_special_tokens(specials)
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>", special_tokens=[("<s>", 0), ("</s>", 2)]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<s>",
        eos_token="</s>",
        sep_token="</s>",
        cls_token="<s>",
        pad_token="<pad>",
        unk_token="<unk>",
        model_max_length=64,
    )


@pytest.fixture(scope="session")
def char_tokenizer():
    return build_char_tokenizer()


def _corpus() -> list[str]:
    rows = make_rows(40, seed=123)
    texts = [r["query"] for r in rows] + [t for r in rows for t in r["texts"]]
    texts += ["東京は日本の首都です。", "Tokyo is the capital of Japan.", "「こんにちは。」と彼は言った。"]
    eval_file = Path(__file__).resolve().parents[1] / "pruning-config" / "pruning_data_easy_ja.json"
    for item in json.loads(eval_file.read_text(encoding="utf-8")):
        texts += [item["query"], *item["contexts"]]
    return texts


@pytest.fixture(scope="session")
def tiny_tokenizer():
    return build_tiny_tokenizer(_corpus())


def tiny_bert(tokenizer, seed: int = 0, hidden: int = 32, positions: int = 256):
    """A random 2-layer BERT with one logit over `tokenizer`; the same weights for the same seed in any process."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=2 * hidden,
        max_position_embeddings=positions,
        num_labels=1,
        pad_token_id=tokenizer.pad_token_id,
    )
    return BertForSequenceClassification(config)


def tiny_modernbert(tokenizer, seed: int = 0):
    """A random 2-layer ModernBERT (local and global attention) with one logit over `tokenizer`."""
    import torch
    from transformers import ModernBertConfig, ModernBertForSequenceClassification

    torch.manual_seed(seed)
    config = ModernBertConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=256,
        local_attention=16,
        global_attn_every_n_layers=2,
        num_labels=1,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        cls_token_id=tokenizer.cls_token_id,
        sep_token_id=tokenizer.sep_token_id,
    )
    return ModernBertForSequenceClassification(config)


@pytest.fixture(scope="session")
def tiny_backbone_dir(tmp_path_factory, tiny_tokenizer) -> Path:
    """A randomly initialised 2-layer BERT with one logit, saved with its tokenizer."""
    path = tmp_path_factory.mktemp("tiny_backbone")
    tiny_bert(tiny_tokenizer).save_pretrained(path)
    tiny_tokenizer.save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def pruner_dir(tmp_path_factory, tiny_backbone_dir, tiny_tokenizer) -> Path:
    """A tiny saved pruner (the tiny BERT + a fresh head, with the tiny tokenizer) for API and CLI tests."""
    import torch

    from pruning.train.modeling import ContextPruner

    torch.manual_seed(11)
    path = tmp_path_factory.mktemp("pruner")
    ContextPruner.from_backbone(str(tiny_backbone_dir)).save_pretrained(path, tokenizer=tiny_tokenizer)
    return path
