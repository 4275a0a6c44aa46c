"""Weight matching: a permutation never changes what a model computes, and a model permuted
at random is aligned back onto itself exactly."""

import numpy as np
import pytest
import torch
from transformers import LlamaConfig, LlamaForCausalLM

from mergelimits import align


def _llama(seed: int, kv_heads: int = 4, layers: int = 2):
    torch.manual_seed(seed)
    cfg = LlamaConfig(vocab_size=97, hidden_size=32, intermediate_size=48, num_hidden_layers=layers,
                      num_attention_heads=4, num_key_value_heads=kv_heads, max_position_embeddings=64,
                      tie_word_embeddings=True, rms_norm_eps=1e-5)
    model = LlamaForCausalLM(cfg).eval()
    with torch.no_grad():  # trained-looking norms: not all ones, so the residual order is visible in them too
        for name, p in model.named_parameters():
            if "norm" in name:
                p.copy_(1 + 0.1 * torch.randn_like(p))
    return model


def _logits(model, state):
    model.load_state_dict(state, strict=False)
    ids = torch.tensor([[3, 14, 15, 92, 65, 35, 8, 9, 79, 32]])
    with torch.no_grad():
        return model(ids).logits


def _shape(model):
    return align.Shape.from_config(model.config.to_dict())


@pytest.mark.parametrize("kv_heads", [4, 2, 1])
def test_a_permutation_never_changes_the_logits(kv_heads):
    model = _llama(0, kv_heads)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    before = _logits(model, state)
    permuted = align.apply(state, _shape(model), align.Perms.random(_shape(model), seed=5))
    assert not torch.equal(permuted["model.layers.0.mlp.up_proj.weight"], state["model.layers.0.mlp.up_proj.weight"])
    assert not torch.equal(permuted["model.embed_tokens.weight"], state["model.embed_tokens.weight"])
    torch.testing.assert_close(_logits(model, permuted), before, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("kv_heads", [4, 2])
def test_a_randomly_permuted_model_is_aligned_back_onto_itself(kv_heads):
    model = _llama(1, kv_heads)
    s = _shape(model)
    ref = {k: v.clone() for k, v in model.state_dict().items()}
    scrambled = align.apply(ref, s, align.Perms.random(s, seed=7))
    p = align.match(ref, scrambled, s)
    back = align.apply(scrambled, s, p)
    for key in ref:
        torch.testing.assert_close(back[key], ref[key], atol=0, rtol=0, msg=key)
    assert p.iterations < 10


def test_aligning_one_model_to_another_keeps_its_function_and_moves_it_closer():
    """Two models of one architecture from different seeds: the aligned one computes what it
    did, and lies nearer the reference in weight space than before (what a merge averages)."""
    ref_model, other_model = _llama(2), _llama(3)
    s = _shape(ref_model)
    ref, other = ref_model.state_dict(), {k: v.clone() for k, v in other_model.state_dict().items()}
    before = _logits(other_model, other)
    aligned = align.apply(other, s, align.match(ref, other, s))
    torch.testing.assert_close(_logits(other_model, aligned), before, atol=1e-5, rtol=1e-5)

    def distance(state):
        return sum(float((state[k].double() - ref[k].double()).pow(2).sum()) for k in ref if k != "lm_head.weight")

    assert distance(aligned) < distance(other)


def test_the_identity_changes_nothing_and_untied_heads_are_refused():
    model = _llama(4)
    s = _shape(model)
    state = model.state_dict()
    same = align.apply(state, s, align.Perms.identity(s))
    assert all(torch.equal(same[k], state[k]) for k in state)
    assert align.Perms.identity(s).same(align.match(state, state, s))
    cfg = model.config.to_dict() | {"tie_word_embeddings": False}
    with pytest.raises(ValueError, match="tied embeddings"):
        align.Shape.from_config(cfg)
    assert np.array_equal(align.Perms.identity(s).query_heads(s, 0), np.arange(4))
