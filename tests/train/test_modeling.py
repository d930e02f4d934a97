"""Model save/load round trip and strict loading."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file, save_file

from pruning.errors import PruningError
from pruning.train.modeling import PRUNER_CONFIG, WEIGHTS, ContextPruner, final_norm_module

pytestmark = pytest.mark.unit


@pytest.fixture
def model(tiny_backbone_dir):
    torch.manual_seed(1)
    return ContextPruner.from_backbone(str(tiny_backbone_dir), head_dropout=0.1)


def _inputs(tok):
    return tok(["質問です", "What?"], ["東京は首都です。", "Tokyo is big."], padding=True, return_tensors="pt")


def test_forward_shapes_and_probabilities(model, tiny_tokenizer):
    enc = _inputs(tiny_tokenizer)
    out = model.eval()(enc["input_ids"], enc["attention_mask"])
    assert out.ranking_logits.shape == (2,)
    assert out.token_logits.shape == (*enc["input_ids"].shape, 2)
    probs = out.keep_probabilities()
    assert torch.allclose(probs, torch.softmax(out.token_logits, -1)[..., 1])
    assert ((probs >= 0) & (probs <= 1)).all()


def test_save_load_identical_outputs(model, tiny_tokenizer, tmp_path):
    model.eval()
    enc = _inputs(tiny_tokenizer)
    before = model(enc["input_ids"], enc["attention_mask"])
    model.save_pretrained(tmp_path / "m", tokenizer=tiny_tokenizer)
    loaded = ContextPruner.from_pretrained(tmp_path / "m")
    after = loaded(enc["input_ids"], enc["attention_mask"])
    # weights are bit-identical; outputs may differ in the last float bits (kernel choice per tensor layout)
    assert all(torch.equal(v, loaded.state_dict()[k]) for k, v in model.state_dict().items())
    torch.testing.assert_close(after.ranking_logits, before.ranking_logits, rtol=0, atol=1e-6)
    torch.testing.assert_close(after.token_logits, before.token_logits, rtol=0, atol=1e-6)
    assert json.loads((tmp_path / "m" / PRUNER_CONFIG).read_text())["head"]["dropout"] == 0.1
    assert (tmp_path / "m" / "tokenizer.json").is_file()


def test_missing_head_weights_is_an_error(model, tmp_path):
    model.save_pretrained(tmp_path / "m")
    state = load_file(str(tmp_path / "m" / WEIGHTS))
    save_file({k: v for k, v in state.items() if not k.startswith("pruning_head")}, str(tmp_path / "m" / WEIGHTS))
    with pytest.raises(PruningError, match="missing pruning_head"):
        ContextPruner.from_pretrained(tmp_path / "m")


def test_mismatched_head_weights_is_an_error(model, tmp_path):
    model.save_pretrained(tmp_path / "m")
    state = load_file(str(tmp_path / "m" / WEIGHTS))
    state["pruning_head.1.weight"] = torch.zeros(3, state["pruning_head.1.weight"].shape[1])
    save_file(state, str(tmp_path / "m" / WEIGHTS))
    with pytest.raises(PruningError, match="shape mismatch pruning_head.1.weight"):
        ContextPruner.from_pretrained(tmp_path / "m")


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda meta: [meta], "top level must be an object, got list"),
        (lambda meta: {k: v for k, v in meta.items() if k != "head"}, "field 'head.dropout': expected a number"),
        (lambda meta: meta | {"head": {"dropout": "x"}}, "field 'head.dropout': expected a number in .*, got 'x'"),
        (lambda meta: meta | {"head": {"dropout": 2}}, r"field 'head.dropout': expected a number in \[0, 1\), got 2"),
        # 1.0 is outside [0, 1): a head that drops everything cannot have been trained
        (lambda meta: meta | {"head": {"dropout": 1.0}}, r"field 'head.dropout': expected .*, got 1.0"),
        (lambda meta: meta | {"head": {**meta["head"], "type": "mlp"}}, "field 'head.type': expected 'dropout_linear'"),
        (
            lambda meta: meta | {"head": {**meta["head"], "num_classes": 3}},
            "field 'head.num_classes': expected 2, got 3",
        ),
        (lambda meta: meta | {"format_version": 3}, "field 'format_version': 3, expected 1 or 2"),
        (lambda meta: meta | {"format_version": True}, "field 'format_version': True, expected 1 or 2"),
        (lambda meta: meta | {"backbone_class": "NoSuchModel"}, "field 'backbone_class': unknown class 'NoSuchModel'"),
    ],
)
def test_broken_pruner_config_is_named(model, tmp_path, edit, message):
    model.save_pretrained(tmp_path / "m")
    meta_path = tmp_path / "m" / PRUNER_CONFIG
    meta_path.write_text(json.dumps(edit(json.loads(meta_path.read_text()))))
    with pytest.raises(PruningError, match=message):
        ContextPruner.from_pretrained(tmp_path / "m")


def test_truncated_weights_file_is_named(model, tmp_path):
    model.save_pretrained(tmp_path / "m")
    weights = tmp_path / "m" / WEIGHTS
    weights.write_bytes(weights.read_bytes()[:100])
    with pytest.raises(PruningError, match=f"{WEIGHTS}: not a readable safetensors file"):
        ContextPruner.from_pretrained(tmp_path / "m")


def test_missing_backbone_config_is_named(model, tmp_path):
    model.save_pretrained(tmp_path / "m")
    (tmp_path / "m" / "config.json").unlink()
    with pytest.raises(PruningError, match="cannot read the backbone config"):
        ContextPruner.from_pretrained(tmp_path / "m")


def test_plain_backbone_directory_is_not_a_pruner(tiny_backbone_dir):
    with pytest.raises(PruningError, match="not a pruner model directory"):
        ContextPruner.from_pretrained(tiny_backbone_dir)


def test_config_override_and_random_init(tiny_backbone_dir):
    m = ContextPruner.from_backbone(str(tiny_backbone_dir), config_overrides={"num_hidden_layers": 1}, random_init=True)
    assert m.config.num_hidden_layers == 1
    with pytest.raises(PruningError, match="no field 'not_a_field'"):
        ContextPruner.from_backbone(str(tiny_backbone_dir), config_overrides={"not_a_field": 1})


def test_pretrained_weights_by_default_with_the_overrides_applied(tiny_backbone_dir):
    pretrained = load_file(str(tiny_backbone_dir / "model.safetensors"))
    m = ContextPruner.from_backbone(
        str(tiny_backbone_dir), config_overrides={"hidden_dropout_prob": 0.25}, classifier_dropout=0.3
    )
    assert (m.config.hidden_dropout_prob, m.config.classifier_dropout, m.config.num_labels) == (0.25, 0.3, 1)
    assert m.backbone.bert.encoder.layer[0].output.dropout.p == 0.25  # the model was built from that config
    name = "bert.encoder.layer.0.attention.self.query.weight"
    assert torch.equal(m.backbone.state_dict()[name], pretrained[name])


def test_freeze_lower_layers(tiny_backbone_dir):
    m = ContextPruner.from_backbone(str(tiny_backbone_dir))
    assert m.freeze_lower_layers(0) == 0 and all(p.requires_grad for p in m.parameters())
    frozen = m.freeze_lower_layers(1)
    names = {n for n, p in m.named_parameters() if not p.requires_grad}
    assert frozen == sum(p.numel() for p in m.parameters() if not p.requires_grad) > 0
    assert any(".embeddings." in n for n in names) and any(".layer.0." in n for n in names)
    assert not any(".layer.1." in n or n.startswith("pruning_head") for n in names)
    with pytest.raises(PruningError, match="3 > the backbone's 2 layers"):
        m.freeze_lower_layers(3)
    every = ContextPruner.from_backbone(str(tiny_backbone_dir))
    assert every.freeze_lower_layers(2) == sum(p.numel() for p in every.backbone.bert.embeddings.parameters()) + sum(
        p.numel() for p in every.backbone.bert.encoder.parameters()
    )


def test_forward_passes_the_mask_and_token_types_as_the_backbone_takes_them(model, tiny_tokenizer):
    model.eval()
    enc = _inputs(tiny_tokenizer)  # two pairs of different lengths: the shorter one is padded
    ids, mask = enc["input_ids"], enc["attention_mask"]
    assert (mask == 0).any()
    types = (torch.arange(ids.shape[1]) >= 4).long().expand_as(ids).contiguous()
    with torch.no_grad():
        out = model(ids, mask, types)
        hidden = model.backbone.base_model(input_ids=ids, attention_mask=mask, token_type_ids=types)[0]
        torch.testing.assert_close(out.token_logits, model.pruning_head(hidden))
        ranking = model.backbone(input_ids=ids, attention_mask=mask, token_type_ids=types).logits.squeeze(-1)
        torch.testing.assert_close(out.ranking_logits, ranking)
        # both inputs matter here, so dropping either could not pass
        assert not torch.allclose(model(ids, mask).token_logits, out.token_logits)
        padded = int(mask.sum(1).argmin())
        unmasked = model(ids, torch.ones_like(mask), types).token_logits[padded]
        assert not torch.allclose(unmasked, out.token_logits[padded])


def test_a_missing_or_misshapen_head_input_is_named(tiny_backbone_dir, tiny_tokenizer):
    enc = _inputs(tiny_tokenizer)
    model = ContextPruner.from_backbone(str(tiny_backbone_dir)).eval()
    # a second hook after the pruner's own keeps only the first position: shape (2, 1, 32), not (2, T)
    model.backbone.base_model.register_forward_hook(lambda m, a, o: setattr(model, "_head_features", o[0][:, :1]))
    want = rf"head input has shape \(2, 1, 32\), expected \(2, {enc['input_ids'].shape[1]}\)"
    with pytest.raises(RuntimeError, match=want):
        model(enc["input_ids"], enc["attention_mask"])
    silent = ContextPruner.from_backbone(str(tiny_backbone_dir)).eval()
    silent.backbone.base_model._forward_hooks.clear()  # no hook: the head gets nothing
    with pytest.raises(RuntimeError, match="head input has shape None"):
        silent(enc["input_ids"], enc["attention_mask"])


def test_bert_has_no_final_norm_so_both_head_inputs_read_the_same(tiny_backbone_dir, tiny_tokenizer):
    final = ContextPruner.from_backbone(str(tiny_backbone_dir), head_input="final").eval()
    pre = ContextPruner.from_backbone(str(tiny_backbone_dir), head_input="pre_final_norm").eval()
    pre.load_state_dict(final.state_dict())
    assert final_norm_module(final.backbone) is None
    enc = _inputs(tiny_tokenizer)
    with torch.no_grad():
        a, b = final(enc["input_ids"], enc["attention_mask"]), pre(enc["input_ids"], enc["attention_mask"])
    torch.testing.assert_close(a.token_logits, b.token_logits)


def test_constructor_defaults_no_head_dropout_and_the_final_hidden_state(tiny_backbone_dir):
    from transformers import AutoModelForSequenceClassification

    model = ContextPruner(AutoModelForSequenceClassification.from_pretrained(tiny_backbone_dir))
    assert (model.head_dropout, model.head_input, model.pruning_head[0].p) == (0.0, "final", 0.0)


def test_saved_files_and_the_error_preview(model, tmp_path):
    """A save creates missing parent folders; the weights carry the metadata HF tools read; the missing-weights
    message names five keys and counts the rest."""
    from safetensors import safe_open

    path = tmp_path / "a" / "b" / "m"
    model.save_pretrained(path)
    with safe_open(str(path / WEIGHTS), "pt") as weights:
        assert weights.metadata() == {"format": "pt"}
    meta = json.loads((path / "pruner_config.json").read_text())
    assert {k: meta["head"][k] for k in ("type", "num_classes")} == {"type": "dropout_linear", "num_classes": 2}
    state = load_file(str(path / WEIGHTS))
    names = sorted(state)
    save_file({k: v for k, v in state.items() if k not in names[:5]}, str(path / WEIGHTS))
    with pytest.raises(PruningError) as five:
        ContextPruner.from_pretrained(path)
    assert f"missing {', '.join(names[:5])}" in str(five.value) and "more)" not in str(five.value)
    save_file({k: v for k, v in state.items() if k not in names[:7]}, str(path / WEIGHTS))
    with pytest.raises(PruningError, match=r"\(\+2 more\)"):
        ContextPruner.from_pretrained(path)


def test_unexpected_weights_are_named_with_the_file(model, tmp_path):
    model.save_pretrained(tmp_path / "m")
    weights = tmp_path / "m" / WEIGHTS
    save_file({**load_file(str(weights)), "extra.weight": torch.zeros(2)}, str(weights))
    want = f"{weights}: weights do not match the model: unexpected extra.weight"
    with pytest.raises(PruningError) as loaded:
        ContextPruner.from_pretrained(tmp_path / "m")
    assert str(loaded.value) == want
    with pytest.raises(PruningError) as into:
        model.load_weights(tmp_path / "m")
    assert str(into.value) == want


def test_a_format_1_save_loads_with_the_final_head_input(model, tmp_path, tiny_tokenizer):
    """Format 1 did not record the head input; its code read the final hidden state (docs/compat.md)."""
    model.save_pretrained(tmp_path / "m")
    meta_path = tmp_path / "m" / PRUNER_CONFIG
    meta = json.loads(meta_path.read_text())
    meta["format_version"] = 1
    meta["head"] = {k: v for k, v in meta["head"].items() if k != "input"}
    meta_path.write_text(json.dumps(meta))
    loaded = ContextPruner.from_pretrained(tmp_path / "m")
    assert loaded.head_input == "final"
    assert all(torch.equal(v, loaded.state_dict()[k]) for k, v in model.state_dict().items())


def test_pruner_config_records_the_format_backbone_and_head(model, tmp_path):
    model.save_pretrained(tmp_path / "m")
    assert json.loads((tmp_path / "m" / PRUNER_CONFIG).read_text()) == {
        "format_version": 2,
        "backbone_class": "BertForSequenceClassification",
        "head": {"type": "dropout_linear", "dropout": 0.1, "num_classes": 2, "input": "final"},
        "hidden_size": model.config.hidden_size,
    }


def test_an_interrupted_save_leaves_nothing_at_the_destination(model, tmp_path, monkeypatch):
    import pruning.train.modeling as modeling

    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(modeling, "save_file", fail)
    with pytest.raises(OSError, match="disk full"):
        model.save_pretrained(tmp_path / "m")  # atomic by default
    assert not (tmp_path / "m").exists()


def test_a_save_in_place_creates_its_folders(model, tmp_path):
    """atomic=False (a checkpoint's staging folder) writes straight into the directory, parents included."""
    path = model.save_pretrained(tmp_path / "a" / "b" / "m", atomic=False)
    assert path == tmp_path / "a" / "b" / "m" and (path / WEIGHTS).is_file()
    assert not list(tmp_path.glob("**/*.tmp"))
    ContextPruner.from_pretrained(path)
