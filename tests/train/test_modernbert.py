"""A tiny random ModernBERT (the seed backbone's family, which has a final norm) as the pruner's backbone.

The head input rule is checked against an independent computation: a hook on the backbone's `final_norm`
records its input and output, and the token logits must be the head applied to the chosen one.
"""

from __future__ import annotations

import pytest
import torch

from pruning.data.synthetic import make_rows
from pruning.errors import PruningError
from pruning.train.collator import PruningCollator
from pruning.train.losses import pruning_loss
from pruning.train.modeling import ContextPruner, final_norm_module
from tests.conftest import tiny_modernbert

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def modernbert_dir(tmp_path_factory, tiny_tokenizer):
    path = tmp_path_factory.mktemp("modernbert")
    tiny_modernbert(tiny_tokenizer).save_pretrained(path)
    tiny_tokenizer.save_pretrained(path)
    return path


@pytest.fixture(scope="module")
def batch(tiny_tokenizer):
    return PruningCollator(tiny_tokenizer, max_length=96)(make_rows(2, k=2, seed=4))


def _inputs(batch):
    return {k: batch[k] for k in ("input_ids", "attention_mask")}


@pytest.mark.parametrize(("head_input", "hooked"), [("final", "output"), ("pre_final_norm", "input")])
def test_head_reads_the_chosen_side_of_the_final_norm(modernbert_dir, batch, head_input, hooked):
    model = ContextPruner.from_backbone(str(modernbert_dir), head_input=head_input).eval()
    norm = final_norm_module(model.backbone)
    assert norm is model.backbone.model.final_norm
    seen = {}
    handle = norm.register_forward_hook(lambda m, args, out: seen.update(input=args[0], output=out))
    with torch.no_grad():
        out = model(**_inputs(batch))
        want = model.pruning_head(seen[hooked])
    handle.remove()
    torch.testing.assert_close(out.token_logits, want)
    # the two sides really differ, so reading the wrong one could not pass
    assert (seen["input"] - seen["output"]).abs().max() > 1e-2


def test_the_two_head_inputs_give_different_token_logits(modernbert_dir, batch):
    torch.manual_seed(1)
    final = ContextPruner.from_backbone(str(modernbert_dir), head_input="final").eval()
    pre = ContextPruner.from_backbone(str(modernbert_dir), head_input="pre_final_norm").eval()
    pre.load_state_dict(final.state_dict())
    with torch.no_grad():
        a, b = final(**_inputs(batch)), pre(**_inputs(batch))
    torch.testing.assert_close(a.ranking_logits, b.ranking_logits)  # the classifier is unaffected
    assert not torch.allclose(a.token_logits, b.token_logits)


@pytest.mark.parametrize("head_input", ["final", "pre_final_norm"])
def test_save_and_load_round_trip_keeps_the_head_input(modernbert_dir, batch, tmp_path, head_input, tiny_tokenizer):
    import json

    model = ContextPruner.from_backbone(str(modernbert_dir), head_input=head_input).eval()
    model.save_pretrained(tmp_path / "m", tokenizer=tiny_tokenizer)
    meta = json.loads((tmp_path / "m" / "pruner_config.json").read_text())
    assert meta["head"]["input"] == head_input and meta["backbone_class"] == "ModernBertForSequenceClassification"
    loaded = ContextPruner.from_pretrained(tmp_path / "m")
    assert loaded.head_input == head_input
    with torch.no_grad():
        a, b = model(**_inputs(batch)), loaded(**_inputs(batch))
    torch.testing.assert_close(a.token_logits, b.token_logits)
    torch.testing.assert_close(a.ranking_logits, b.ranking_logits)


def test_backbone_weights_load_in_float32_whatever_the_checkpoint_says(modernbert_dir, tmp_path):
    from transformers import AutoModelForSequenceClassification

    half = AutoModelForSequenceClassification.from_pretrained(modernbert_dir, dtype=torch.bfloat16)
    half.save_pretrained(tmp_path / "bf16")
    assert AutoModelForSequenceClassification.from_pretrained(tmp_path / "bf16", dtype="auto").dtype == torch.bfloat16
    model = ContextPruner.from_backbone(str(tmp_path / "bf16"))
    assert {p.dtype for p in model.parameters()} == {torch.float32}
    fresh = ContextPruner.from_backbone(str(tmp_path / "bf16"), random_init=True)  # from the config alone
    assert {p.dtype for p in fresh.parameters()} == {torch.float32}


def test_freezing_layers_is_refused_where_there_is_no_encoder_layer_list(modernbert_dir):
    model = ContextPruner.from_backbone(str(modernbert_dir))  # ModernBERT keeps its layers in model.layers
    with pytest.raises(PruningError, match="freeze_layers: ModernBertForSequenceClassification has no embeddings/"):
        model.freeze_lower_layers(1)


@pytest.mark.parametrize("head_input", ["final", "pre_final_norm"])
def test_one_training_step_moves_head_and_backbone(modernbert_dir, batch, head_input):
    torch.manual_seed(2)
    model = ContextPruner.from_backbone(str(modernbert_dir), head_input=head_input).train()
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    out = model(**_inputs(batch))
    parts = pruning_loss(out.ranking_logits, batch["ranking_targets"], out.token_logits, batch["labels"])
    parts.total.backward()
    optimizer.step()
    moved = {n for n, p in model.named_parameters() if not torch.equal(p, before[n])}
    assert "pruning_head.1.weight" in moved and "backbone.model.layers.1.mlp.Wo.weight" in moved
    # the final norm feeds the head only in `final` mode (its weights still learn through the classifier)
    assert "backbone.model.final_norm.weight" in moved
