"""Weight matching: a permutation never changes what a model computes, and a model permuted
at random is aligned back onto itself exactly."""

import numpy as np
import pytest
import torch
from transformers import LlamaConfig, LlamaForCausalLM

from mergelimits import align


def _llama(seed: int, kv_heads: int = 4, layers: int = 2, head_dim: int | None = None, norm_noise: float = 0.1):
    torch.manual_seed(seed)
    cfg = LlamaConfig(vocab_size=97, hidden_size=32, intermediate_size=48, num_hidden_layers=layers,
                      num_attention_heads=4, num_key_value_heads=kv_heads, max_position_embeddings=64,
                      tie_word_embeddings=True, rms_norm_eps=1e-5, head_dim=head_dim)
    model = LlamaForCausalLM(cfg).eval()
    with torch.no_grad():  # trained-looking norms: not all ones, so the residual order is visible in them too
        for name, p in model.named_parameters():
            if "norm" in name:
                p.copy_(1 + norm_noise * torch.randn_like(p))
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


def _objective(ref, other, s, p):
    """Σ⟨W_ref, P(W)⟩ over the weights weight matching lines up (the tied head counted once)."""
    aligned = align.apply(other, s, p)
    return sum(float((ref[k].double() * aligned[k].double()).sum()) for k in ref if k != "lm_head.weight")


def _swapped(perm, i, j):
    perm = perm.copy()
    perm[[i, j]] = perm[[j, i]]
    return perm


@pytest.mark.parametrize(("kv_heads", "seeds", "norm_noise"), [(2, (5, 6), 0.1), (4, (10, 11), 0.1), (2, (12, 13), 0.01)])
def test_the_match_is_a_coordinate_optimum_of_the_alignment_objective(kv_heads, seeds, norm_noise):
    """Coordinate descent ends where no single permutation can do better with the others
    fixed: no swap of two residual dimensions, two FFN units, two key-value groups or two
    query heads within a group raises Σ⟨W_ref, P(W)⟩. Heads wider than hidden / heads (as
    Gemma's) keep q and o in their own shapes."""
    ref_model = _llama(seeds[0], kv_heads=kv_heads, head_dim=16, norm_noise=norm_noise)
    other_model = _llama(seeds[1], kv_heads=kv_heads, head_dim=16, norm_noise=norm_noise)
    s = _shape(ref_model)
    assert s.heads * s.head_dim != s.hidden
    ref, other = ref_model.state_dict(), other_model.state_dict()
    p = align.match(ref, other, s)
    assert 1 < p.iterations < 50
    best = _objective(ref, other, s, p)
    assert best > _objective(ref, other, s, align.Perms.identity(s))
    tol = 1e-9 * abs(best)
    for i in range(s.hidden):
        for j in range(i + 1, s.hidden):
            q = align.Perms(_swapped(p.residual, i, j), p.ffn, p.groups, p.within)
            assert _objective(ref, other, s, q) <= best + tol, ("residual", i, j)
    for layer in range(s.layers):
        for i in range(0, s.ffn, 3):
            for j in range(i + 1, s.ffn, 5):
                ffn = [f if n != layer else _swapped(f, i, j) for n, f in enumerate(p.ffn)]
                q = align.Perms(p.residual, ffn, p.groups, p.within)
                assert _objective(ref, other, s, q) <= best + tol, ("ffn", layer, i, j)
        for a in range(s.kv_heads):
            for b in range(a + 1, s.kv_heads):  # two groups trade places, each keeping its heads' order
                groups = [g if n != layer else _swapped(g, a, b) for n, g in enumerate(p.groups)]
                within = [w if n != layer else _swapped(w, a, b) for n, w in enumerate(p.within)]
                q = align.Perms(p.residual, p.ffn, groups, within)
                assert _objective(ref, other, s, q) <= best + tol, ("groups", layer, a, b)
        for g in range(s.kv_heads):
            within = [w.copy() for w in p.within]
            within[layer][g] = within[layer][g][::-1]
            assert _objective(ref, other, s, align.Perms(p.residual, p.ffn, p.groups, within)) <= best + tol, ("heads", g)


def test_match_counts_its_rounds_and_stops_at_max_iter():
    model = _llama(7, kv_heads=2)
    s = _shape(model)
    state = model.state_dict()
    assert align.match(state, state, s).iterations == 1  # the identity, confirmed in one round
    scrambled = align.apply(state, s, align.Perms.random(s, seed=3))
    cut = align.match(state, scrambled, s, max_iter=1)
    assert cut.iterations == 1 and not cut.same(align.match(state, scrambled, s))


def test_perms_compare_every_part_and_random_ones_follow_their_seed():
    s = _shape(_llama(0, kv_heads=2))
    ident = align.Perms.identity(s)
    for part in ("ffn", "groups"):
        other = align.Perms.identity(s)
        getattr(other, part)[1] = getattr(other, part)[1][::-1].copy()
        assert not ident.same(other) and not other.same(ident), part
    other = align.Perms.identity(s)
    other.within[0][1] = other.within[0][1][::-1].copy()
    assert not ident.same(other)
    assert align.Perms.random(s, seed=5).same(align.Perms.random(s, seed=5))
    assert not align.Perms.random(s, seed=5).same(align.Perms.random(s, seed=6))


def test_shape_reads_hf_configs_defaults_and_refuses_what_it_cannot_permute():
    """A config without num_key_value_heads has one per head, without head_dim hidden / heads
    (an int); an explicit head_dim wins. Untied or unstated (transformers' default: untied)
    heads, and biases, are refused by name."""
    cfg = {"num_hidden_layers": 2, "hidden_size": 32, "intermediate_size": 48, "num_attention_heads": 4,
           "tie_word_embeddings": True}
    s = align.Shape.from_config(cfg)
    assert (s.kv_heads, s.head_dim, type(s.head_dim)) == (4, 8, int)
    assert align.Shape.from_config(cfg | {"head_dim": 16, "num_key_value_heads": 2}) == align.Shape(2, 32, 48, 4, 2, 16)
    assert align.Shape.from_config(cfg | {"head_dim": None}).head_dim == 8
    for untied in ({"tie_word_embeddings": False}, {}):
        bad = {k: v for k, v in cfg.items() if k != "tie_word_embeddings"} | untied
        with pytest.raises(ValueError, match=r"^weight matching here assumes tied embeddings \(tie_word_embeddings: true\)$"):
            align.Shape.from_config(bad)
    state = _llama(0).state_dict()
    biases = [f"model.layers.{i}.mlp.up_proj.bias" for i in range(4)]
    with pytest.raises(ValueError, match=r"^weight matching here assumes no biases: \[(.*)\]$") as err:
        align.apply(state | {b: torch.zeros(48) for b in biases}, s, align.Perms.identity(s))
    assert str(err.value).endswith(str(biases[:3]))


def _save(model, path, dtype):
    model.to(dtype).save_pretrained(path)
    model.float()
    return path


def test_align_checkpoints_writes_each_member_lined_up_with_the_first(tmp_path):
    """bfloat16 checkpoints, as the paper's: the first is the reference and stays where it is;
    a scrambled copy of it comes back as its exact weights; another model keeps its logits;
    each written checkpoint loads with transformers; a rerun (a retried job) overwrites."""
    ref_model, other_model = _llama(8, kv_heads=2), _llama(9, kv_heads=2)
    s = _shape(ref_model)
    m0 = _save(ref_model, tmp_path / "m0", torch.bfloat16)
    m1 = _save(other_model, tmp_path / "m1", torch.bfloat16)
    scrambled = LlamaForCausalLM(ref_model.config).to(torch.bfloat16).eval()
    scrambled.load_state_dict(align.apply(ref_model.to(torch.bfloat16).state_dict(), s, align.Perms.random(s, seed=2)))
    ref_model.float()
    m2 = _save(scrambled, tmp_path / "m2", torch.bfloat16)
    out = tmp_path / "aligned"
    for _ in range(2):
        paths, records = align.align_checkpoints([m0, m1, m2], out)
    assert paths == [m0, out / "member1", out / "member2"]
    assert records[0] == {"member": str(m0), "reference": True}
    assert [sorted(r) for r in records[1:]] == [["iterations", "member", "moved"]] * 2
    assert [r["member"] for r in records[1:]] == [str(m1), str(m2)]
    assert all(r["iterations"] >= 1 for r in records[1:]) and min(records[2]["moved"].values()) > 0
    from safetensors import safe_open
    from safetensors.torch import load_file

    reference = load_file(m0 / "model.safetensors")
    back = load_file(out / "member2" / "model.safetensors")
    assert all(torch.equal(back[k], reference[k]) for k in reference)
    with safe_open(str(out / "member1" / "model.safetensors"), "pt") as h:
        assert h.metadata() == {"format": "pt"}  # what transformers' and mergekit's loaders expect
    for i, member in ((1, m1), (2, m2)):  # without it transformers would build a default-size Llama
        assert (out / f"member{i}" / "config.json").read_text() == (member / "config.json").read_text()
    loaded = LlamaForCausalLM.from_pretrained(out / "member1", dtype=torch.float32, local_files_only=True).eval()
    original = LlamaForCausalLM.from_pretrained(m1, dtype=torch.float32, local_files_only=True).eval()
    ids = torch.tensor([[3, 14, 15, 92, 65, 35, 8, 9, 79, 32]])
    with torch.no_grad():
        torch.testing.assert_close(loaded(ids).logits, original(ids).logits, atol=2e-2, rtol=2e-2)
