"""Merges equal what their methods define; bad members fail clearly and leave nothing."""

import pytest
import torch
from safetensors.torch import load_file, save_file

from mergelimits import merge, model, modelid, tokenizer
from mergelimits.model import WEIGHTS

from .conftest import TINY_ARCH as ARCH


def weights(path):
    return load_file(path / WEIGHTS)


def test_linear_is_the_mean_tensor_by_tensor(models, tmp_path):
    _, members = models
    rec = merge.run("linear", members, tmp_path / "lin")
    got, ins = weights(tmp_path / "lin"), [weights(m) for m in members]
    assert got.keys() == ins[0].keys()
    for k in got:
        assert torch.allclose(got[k], sum(w[k] for w in ins) / len(ins), atol=1e-7), k
    assert rec["method"] == "linear" and rec["base"] is None


def test_task_arithmetic_adds_weighted_task_vectors_to_the_base(models, tmp_path):
    """Each member weighs 1/N, as the authors' configs, and task arithmetic does not normalise."""
    init, members = models
    rec = merge.run("task_arithmetic", members[:2], tmp_path / "ta", base=init)
    got, b, a0, a1 = weights(tmp_path / "ta"), weights(init), weights(members[0]), weights(members[1])
    for k in got:
        assert torch.allclose(got[k], b[k] + 0.5 * (a0[k] - b[k]) + 0.5 * (a1[k] - b[k]), atol=1e-6), k
    assert [m["parameters"]["weight"] for m in rec["mergekit_config"]["models"]] == [0.5, 0.5]


def test_ties_of_one_model_at_density_one_gives_it_back(models, tmp_path):
    init, members = models
    merge.run("ties", members[:1], tmp_path / "t1", base=init, density=1.0)
    got, want = weights(tmp_path / "t1"), weights(members[0])
    for k in got:
        assert torch.allclose(got[k], want[k], atol=1e-6), k


def ties_reference(base: torch.Tensor, members: list[torch.Tensor], density: float) -> torch.Tensor:
    """TIES (Yadav et al. 2023) written out: trim each task vector to its top `density` share by
    magnitude, elect each entry's sign by the sum of the trimmed vectors, and add to the base the
    mean of the trimmed values that agree with the elected sign (equal weights, normalised)."""
    trimmed = []
    for m in members:
        tv = (m - base).flatten()
        keep = torch.zeros_like(tv)
        keep[tv.abs().argsort(descending=True)[: max(1, int(density * tv.numel()))]] = 1
        trimmed.append(tv * keep)
    t = torch.stack(trimmed)
    elected = torch.where(t.sum(0) >= 0, 1.0, -1.0)
    agree = (t.sign() == elected).float()
    mean = (t * agree).sum(0) / agree.sum(0).clamp(min=1)
    return base + mean.reshape(base.shape)


@pytest.mark.parametrize("density", [0.3, 0.75])
def test_ties_equals_its_definition(models, tmp_path, density):
    init, members = models
    merge.run("ties", members, tmp_path / "t", base=init, density=density)
    got, b, ins = weights(tmp_path / "t"), weights(init), [weights(m) for m in members]
    for k in got:
        assert torch.allclose(got[k], ties_reference(b[k], [w[k] for w in ins], density), atol=1e-6), k


def test_dare_ties_without_drops_is_the_unnormalised_sign_agreeing_sum(models, tmp_path):
    """At density 1 DARE drops nothing and rescales by 1: what is left is TIES' sign election
    and, without normalisation (mergekit's default for DARE-TIES, kept by the authors), the
    sum of the agreeing task vectors at weight 1/N each."""
    init, members = models
    rec = merge.run("dare_ties", members, tmp_path / "d", base=init, density=1.0, seed=3)
    got, b, ins = weights(tmp_path / "d"), weights(init), [weights(m) for m in members]
    for k in got:
        t = torch.stack([w[k] - b[k] for w in ins]) / len(ins)
        elected = torch.where(t.sum(0) >= 0, 1.0, -1.0)
        want = b[k] + (t * (t.sign() == elected)).sum(0)
        assert torch.allclose(got[k], want, atol=1e-6), k
    assert rec["mergekit_config"]["parameters"] == {"normalize": False}


def test_dare_ties_equals_base_plus_weighted_rescaled_kept_task_vectors(models, tmp_path):
    """DARE-TIES with drops, checked without mergekit's random masks: members whose task
    vectors are +1c, +2c and −8c everywhere make every output entry name the members it kept.
    Member 3 wins the sign election wherever it is kept, so its kept share is read exactly; each
    kept vector is rescaled to its tensor's L1 norm (mergekit's DARE rescale), weighted by 1/3 and
    summed without normalisation: base + Σ wᵢ·rescaled(dropped τᵢ)."""
    import shutil

    init, _ = models
    base = weights(init)
    c, p, w = 1e-2, 0.5, 1 / 3
    members = []
    for i, scale in enumerate((1.0, 2.0, -8.0)):
        d = shutil.copytree(init, tmp_path / f"m{i}")
        save_file({k: v + scale * c for k, v in base.items()}, d / WEIGHTS, metadata={"format": "pt"})
        members.append(d)
    merge.run("dare_ties", members, tmp_path / "dare", base=init, density=p, seed=5)
    got = weights(tmp_path / "dare")
    for k, b in base.items():
        d = (got[k].double() - b.double()).flatten()
        n, tol = d.numel(), 1e-5
        neg = d < -tol
        if neg.any():  # kept by member 3: -8c · w · n / kept₃, and nothing else
            assert torch.allclose(d[neg], torch.full_like(d[neg], -8 * c * w * n / int(neg.sum())), rtol=1e-4), k
        pos = d[d > tol]
        levels = []  # distinct values, up to float32 rounding
        for v in sorted(pos.tolist()):
            if not levels or v > levels[-1] * (1 + 1e-3):
                levels.append(v)
        assert len(levels) <= 3, (k, levels)  # member 1 alone, member 2 alone, both
        if len(levels) == 3 and n >= 1000:
            v1, v2, both = levels
            assert both == pytest.approx(v1 + v2, rel=1e-4), k
            # rescale n / kept ≈ 1 / p, weight 1/3, no normalisation (which would multiply by 3)
            assert v1 / (w * c) * p == pytest.approx(1, abs=0.1), k
            assert v2 / (2 * w * c) * p == pytest.approx(1, abs=0.1), k
            assert int(neg.sum()) / n == pytest.approx(p, abs=0.05), k


def test_dare_ties_is_reproducible_with_a_seed_and_differs_with_another(models, tmp_path):
    init, members = models
    a = merge.run("dare_ties", members, tmp_path / "a", base=init, density=0.5, seed=11)
    merge.run("dare_ties", members, tmp_path / "b", base=init, density=0.5, seed=11)
    merge.run("dare_ties", members, tmp_path / "c", base=init, density=0.5, seed=12)
    wa, wb, wc = weights(tmp_path / "a"), weights(tmp_path / "b"), weights(tmp_path / "c")
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    assert any(not torch.equal(wa[k], wc[k]) for k in wa)
    assert a["seed"] == 11 and a["density"] == 0.5 and a["base"] == str(init)


@pytest.mark.parametrize("method", ["linear", "ties", "dare_ties", "task_arithmetic"])
def test_every_merge_loads_and_gives_finite_logits(models, tmp_path, method):
    init, members = models
    merge.run(method, members, tmp_path / method, base=init, seed=1)
    from transformers import AutoModelForCausalLM

    m = AutoModelForCausalLM.from_pretrained(tmp_path / method)
    tok = tokenizer.load(tmp_path / method)
    ids = torch.tensor([tok("Hallo welt")["input_ids"]])
    assert torch.isfinite(m(ids).logits).all()


def test_members_of_another_shape_are_named(models, tmp_path):
    init, members = models
    other = tmp_path / "other"
    model.make_init({**ARCH, "ffn": 48}, init, 0, other)
    with pytest.raises(merge.MergeError, match=rf"cannot merge {members[0]} and {other}: .* has shape"):
        merge.run("linear", [members[0], other], tmp_path / "x")
    assert not (tmp_path / "x").exists()


def test_nan_in_the_merge_fails_and_leaves_nothing(models, tmp_path):
    _, members = models
    bad = tmp_path / "bad"
    bad.mkdir()
    for f in members[0].iterdir():
        (bad / f.name).write_bytes(f.read_bytes())
    sd = load_file(bad / WEIGHTS)
    sd["model.norm.weight"][0] = float("nan")
    save_file(sd, bad / WEIGHTS, metadata={"format": "pt"})
    with pytest.raises(merge.MergeError, match="NaN or inf in model.norm.weight"):
        merge.run("linear", [members[1], bad], tmp_path / "out")
    assert not (tmp_path / "out").exists() and not (tmp_path / "out.tmp").exists()


def test_density_outside_range_is_refused(models, tmp_path):
    init, members = models
    with pytest.raises(merge.MergeError, match=r"density must lie in \(0, 1\]"):
        merge.run("ties", members, tmp_path / "x", base=init, density=1.5)


def test_missing_member_is_named(models, tmp_path):
    with pytest.raises(FileNotFoundError, match=f"checkpoint weights missing: {tmp_path / 'nope' / WEIGHTS}"):
        merge.run("linear", [models[1][0], tmp_path / "nope"], tmp_path / "x")


def test_the_merge_record_and_directory_are_exactly_what_the_study_reads(models, tmp_path):
    """merge.json says how the model was made, key by key (method, members in order, base and
    density only where the method uses them, seed, dtype, device, mergekit's version and its
    config); the directory holds the one weights file, the config, the members' tokenizer and
    the record, and nothing is left beside it."""
    import json
    from importlib import metadata

    init, members = models
    for method, base, density in [("linear", None, None), ("dare_ties", init, 0.5)]:
        out = tmp_path / method
        for left in (".tmp", ".aligned"):  # what a killed merge left: cleared, never carried into the model
            (tmp_path / f"{method}{left}").mkdir()
            (tmp_path / f"{method}{left}" / "stale.bin").write_bytes(b"x")
        rec = merge.run(method, members[:2], out, base=init, density=0.5, seed=7, dtype="float32")
        assert json.loads((out / "merge.json").read_text()) == rec
        assert rec == {"method": method, "members": [str(m) for m in members[:2]],
                       "base": str(base) if base else None, "density": density, "seed": 7, "dtype": "float32",
                       "device": "cpu", "mergekit": metadata.version("mergekit"),
                       "mergekit_config": merge.mergekit_config(method, members[:2], init, 0.5, "float32")}
        assert sorted(p.name for p in out.iterdir()) == sorted(
            ["config.json", WEIGHTS, "merge.json", *[f for f in merge.TOKENIZER_FILES if (members[0] / f).exists()]])
        assert {p.name for p in tmp_path.iterdir()} <= {"linear", "dare_ties"}  # no .tmp, no .aligned


def test_a_merge_mergekit_writes_in_shards_is_joined_into_one_file(models, tmp_path):
    """At paper size mergekit shards its output; the study reads one model.safetensors, equal
    to what one shard would hold, and no shard or index is left."""
    _, members = models
    merge.run("linear", members, tmp_path / "one")
    merge.run("linear", members, tmp_path / "sharded", options={"out_shard_size": 2000})
    one, joined = weights(tmp_path / "one"), weights(tmp_path / "sharded")
    assert one.keys() == joined.keys() and all(torch.equal(one[k], joined[k]) for k in one)
    left = [p.name for p in (tmp_path / "sharded").iterdir() if p.name.startswith("model") and p.name != WEIGHTS]
    assert left == []  # no shard, no index
    from safetensors import safe_open

    with safe_open(str(tmp_path / "sharded" / WEIGHTS), "pt") as h:  # as mergekit writes it: transformers reads it
        assert h.metadata() == {"format": "pt"}


def test_members_with_other_tensors_or_several_other_shapes_are_named(models, tmp_path):
    init, members = models
    fewer = tmp_path / "fewer"
    fewer.mkdir()
    for f in members[0].iterdir():
        (fewer / f.name).write_bytes(f.read_bytes())
    sd = load_file(fewer / WEIGHTS)
    del sd["model.norm.weight"]
    save_file(sd, fewer / WEIGHTS, metadata={"format": "pt"})
    with pytest.raises(merge.MergeError, match=rf"^cannot merge {members[0]} and {fewer}: different tensors "
                                               r"\(model\.norm\.weight \.\.\.\)$"):
        merge.run("linear", [members[0], fewer], tmp_path / "x")
    wider = tmp_path / "wider"
    model.make_init({**ARCH, "ffn": 48}, init, 0, wider)
    # gate, up and down projections of every layer: the first named, the others counted
    with pytest.raises(merge.MergeError, match=r"mlp\.down_proj\.weight has shape \(\d+, \d+\) vs \(\d+, 48\) "
                                               rf"\(and {3 * ARCH['layers'] - 1} more\)$"):
        merge.run("linear", [members[0], wider], tmp_path / "x")
    sd = load_file(members[0] / WEIGHTS)
    sd["model.norm.weight"] = torch.ones(5)
    save_file(sd, fewer / WEIGHTS, metadata={"format": "pt"})
    with pytest.raises(merge.MergeError, match=rf"^cannot merge {members[0]} and {fewer}: model\.norm\.weight has "
                                               r"shape \(\d+,\) vs \(5,\)$"):
        merge.run("linear", [members[0], fewer], tmp_path / "x")


def test_a_merge_of_nothing_or_at_density_zero_is_refused(models, tmp_path):
    init, members = models
    with pytest.raises(merge.MergeError, match=r"^ties needs a base model \(the shared initialisation\)$"):
        merge.mergekit_config("ties", members, None, 0.5)
    assert merge.mergekit_config("linear", members, None, 1.0)["dtype"] == "float32"  # the CPU study's, unless given
    with pytest.raises(merge.MergeError, match="^nothing to merge$"):
        merge.run("linear", [], tmp_path / "x")
    with pytest.raises(merge.MergeError, match=r"density must lie in \(0, 1\]; got 0"):
        merge.run("ties", members, tmp_path / "x", base=init, density=0)


def test_the_base_is_checked_only_where_the_method_reads_it(models, tmp_path):
    """A linear merge ignores its base (of another shape here); TIES takes task vectors
    against it and refuses it, naming it."""
    init, members = models
    other = tmp_path / "other"
    model.make_init({**ARCH, "ffn": 48}, init, 0, other)
    merge.run("linear", members[:2], tmp_path / "lin", base=other)
    with pytest.raises(merge.MergeError, match=f"{other}"):
        merge.run("ties", members[:2], tmp_path / "ties", base=other)


@pytest.mark.parametrize("text", ["init", "mono-deu", "mixed10", "ties-all10", "linear-deu+nld",
                                  "dare_ties-succ4", "task_arithmetic-all3"])
def test_model_id_round_trip(text):
    assert str(modelid.parse(text)) == text


def test_the_merged_wildcard_pattern_matches_exactly_the_merged_ids():
    import re

    pattern = re.compile(modelid.merged_pattern())
    for text in ("ties-all10", "linear-deu+nld", "dare_ties-succ4", "task_arithmetic-all3"):
        assert pattern.fullmatch(text) and modelid.parse(text).kind == "merge"
    for text in ("mono-deu", "mixed10", "init", "slerp-all10", "ties-all", "linear-deu+nl"):
        assert not pattern.fullmatch(text), text


@pytest.mark.parametrize("text,msg", [("linear-deu+deu", "with itself"), ("slerp-all10", "unknown merge method"),
                                      ("mono_deu", "not a model id"), ("ties-all", "not a model id")])
def test_bad_model_ids(text, msg):
    with pytest.raises(ValueError, match=msg):
        modelid.parse(text)


def test_stable_rank_of_known_matrices():
    from mergelimits.similarity import stable_rank

    assert stable_rank(torch.eye(7)) == pytest.approx(7.0)
    d = torch.diag(torch.tensor([3.0, 1.0, 1.0]))  # (9 + 1 + 1) / 9
    assert stable_rank(d) == pytest.approx(11 / 9)
    q, _ = torch.linalg.qr(torch.randn(3, 3, generator=torch.Generator().manual_seed(0)).double())
    assert stable_rank(q @ d.double() @ q.T) == pytest.approx(11 / 9)  # invariant to rotations
    assert stable_rank(torch.outer(torch.arange(1.0, 5.0), torch.ones(3))) == pytest.approx(1.0)


def test_the_authors_stable_rank_of_a_zero_matrix_is_zero():
    """A matrix still at a zero init has no spectrum: its stable rank counts 0, not 0/0."""
    from mergelimits.similarity import stable_rank_power

    assert stable_rank_power(torch.zeros(6, 4)) == 0.0
    assert stable_rank_power(torch.eye(5)) == pytest.approx(5.0)


@pytest.mark.parametrize("shape,kind", [((64, 256), "gaussian"), ((300, 120), "gaussian"), ((96, 96), "flat"),
                                        ((128, 512), "low_rank"), ((40, 40), "identity"), ((2, 50), "gaussian")])
def test_the_lanczos_spectral_norm_equals_lapacks_exact_one(shape, kind):
    """The stable rank's denominator, estimated (ARPACK) where the paper-size matrices make an
    exact SVD an hour's work: within 1e-9 of LAPACK's value, with a spectral gap (low rank),
    without one (a Gaussian matrix's top singular values crowd together) and with none at all
    (every singular value equal)."""
    from mergelimits.similarity import spectral_norm

    g = torch.Generator().manual_seed(3)
    if kind == "gaussian":
        w = torch.randn(shape, generator=g, dtype=torch.float64)
    elif kind == "flat":  # three singular values tied at the top
        w = torch.diag(torch.tensor([5.0, 5.0, 5.0] + [1.0] * (shape[0] - 3), dtype=torch.float64))
    elif kind == "low_rank":
        w = torch.randn(shape[0], 4, generator=g, dtype=torch.float64) @ torch.randn(4, shape[1], generator=g,
                                                                                  dtype=torch.float64)
        w += 1e-3 * torch.randn(shape, generator=g, dtype=torch.float64)
    else:
        w = torch.eye(shape[0], dtype=torch.float64)
    exact = torch.linalg.matrix_norm(w, 2).item()
    assert spectral_norm(w) == pytest.approx(exact, rel=1e-9)
    assert spectral_norm(w.float()) == spectral_norm(w.float())  # the same start vector: the same number


def test_parametric_similarity_table(models):
    from mergelimits import similarity

    init, members = models
    pairs, layers = similarity.parametric({"a": members[0], "b": members[1], "c": members[0]}, init)
    assert list(pairs["pair"]) == ["a+b", "a+c", "b+c"]
    same = pairs.set_index("pair").loc["a+c"]
    assert same["cosine"] == pytest.approx(1.0) and same["cosine_task_vector"] == pytest.approx(1.0)
    assert same["stable_rank_diff"] == 0 and same["l2_norm_diff"] == 0
    other = pairs.set_index("pair").loc["a+b"]
    assert abs(other["cosine_task_vector"]) < 0.2  # independent random task vectors
    assert other["cosine"] > 0.5  # the shared init dominates raw weights
    assert len(layers) == 3 * ARCH["layers"]
    assert list(pairs.columns) == ["lang_a", "lang_b", "pair", "cosine", "cosine_task_vector", "stable_rank_diff",
                                   "l2_norm_diff", "cosine_whole", "l2_distance", "stable_rank_diff_power", "layers"]
    assert same["cosine_whole"] == pytest.approx(1.0) and same["l2_distance"] == 0
    assert same["stable_rank_diff_power"] == 0
    assert (pairs["layers"] == ARCH["layers"]).all() and list(pairs.lang_a) == ["a", "a", "b"]


def test_parametric_names_the_model_whose_tensors_differ(models, tmp_path):
    """Every model is checked against the first, the second one included; the per-layer rows
    name their pair."""
    import shutil

    from safetensors.torch import save_file

    from mergelimits import similarity

    init, members = models
    odd = tmp_path / "odd"
    shutil.copytree(members[1], odd)
    w = weights(odd)
    w.pop(sorted(k for k in w if k.startswith("model.layers.0."))[0])
    save_file(w, str(odd / WEIGHTS), metadata={"format": "pt"})
    with pytest.raises(ValueError, match=rf"^{members[0] / WEIGHTS} and {odd / WEIGHTS} have different tensors$"):
        similarity.parametric({"a": members[0], "b": odd, "c": members[0]}, init)
    layers = similarity.parametric({"a": members[0], "b": members[1]}, init)[1]
    assert {"lang_a", "lang_b"} <= set(layers.columns) and set(zip(layers.lang_a, layers.lang_b)) == {("a", "b")}


def test_parametric_differences_equal_a_hand_computation_in_either_order(models):
    """stable-rank and L2-norm differences are mean absolute differences over the layers'
    matrices, computed here from singular values; the pair's order does not change them."""
    from mergelimits import similarity

    init, members = models
    ab = similarity.parametric({"a": members[0], "b": members[1]}, init)[0].iloc[0]
    ba = similarity.parametric({"b": members[1], "a": members[0]}, init)[0].iloc[0]
    wa, wb, w0 = weights(members[0]), weights(members[1]), weights(init)
    mats = [k for k in wa if wa[k].ndim == 2 and k.startswith("model.layers.")]

    def sr(w):
        s = torch.linalg.svdvals(w.double())
        return float((s**2).sum() / s.max() ** 2)

    sr_diff = sum(abs(sr(wa[k]) - sr(wb[k])) for k in mats) / len(mats)
    l2_diff = sum(abs(wa[k].double().norm() - wb[k].double().norm()).item() for k in mats) / len(mats)
    for row in (ab, ba):
        assert row["stable_rank_diff"] == pytest.approx(sr_diff, rel=1e-9) and sr_diff > 0
        assert row["l2_norm_diff"] == pytest.approx(l2_diff, rel=1e-9) and l2_diff > 0
    # layer 0's cosine of task vectors, by hand over its parameters
    keys = sorted(k for k in wa if k.startswith("model.layers.0."))
    ta = torch.cat([(wa[k].double() - w0[k].double()).flatten() for k in keys])
    tb = torch.cat([(wb[k].double() - w0[k].double()).flatten() for k in keys])
    layers = similarity.parametric({"a": members[0], "b": members[1]}, init)[1]
    assert layers.loc[layers.layer == 0, "cosine_task_vector"].item() == pytest.approx(
        float(ta @ tb / (ta.norm() * tb.norm())), rel=1e-9)


def test_the_authors_whole_model_measures_equal_a_hand_computation(models):
    """Table 8's rows as the authors computed them (02-analysis/model_similarity.py): cosine
    and L2 distance of the whole flattened models (embeddings included, lm_head not twice),
    and the mean absolute difference of stable ranks over every matrix, σmax from 20 power
    iterations."""
    from mergelimits import similarity

    init, members = models
    row = similarity.parametric({"a": members[0], "b": members[1]}, init)[0].iloc[0]
    wa, wb = weights(members[0]), weights(members[1])
    keys = sorted(set(wa) - {"lm_head.weight"})
    assert "model.embed_tokens.weight" in keys
    va, vb = (torch.cat([w[k].double().flatten() for k in keys]) for w in (wa, wb))
    assert row["cosine_whole"] == pytest.approx(float(va @ vb / (va.norm() * vb.norm())), rel=1e-12)
    assert row["l2_distance"] == pytest.approx(float((va - vb).norm()), rel=1e-9)

    def power_sr(w):  # the authors' loop, from the same start
        w = w.double()
        v = torch.randn(w.shape[1], generator=torch.Generator().manual_seed(0), dtype=torch.float64)
        v = v / v.norm()
        for _ in range(20):
            u = w @ v
            u = u / u.norm()
            v = w.T @ u
            v = v / v.norm()
        return float((w**2).sum()) / float((u @ (w @ v)).abs()) ** 2

    mats = [k for k in keys if wa[k].ndim >= 2]
    want = sum(abs(power_sr(wa[k]) - power_sr(wb[k])) for k in mats) / len(mats)
    assert row["stable_rank_diff_power"] == pytest.approx(want, rel=1e-9) and want > 0


def test_power_iteration_is_a_lower_bound_that_reaches_the_spectral_norm():
    """20 power iterations undershoot σmax where the top singular values crowd together (the
    authors' stable ranks then come out too high); with a clear gap they find it."""
    from mergelimits import similarity

    g = torch.Generator().manual_seed(3)
    q1, _ = torch.linalg.qr(torch.randn(300, 300, generator=g, dtype=torch.float64))
    q2, _ = torch.linalg.qr(torch.randn(200, 200, generator=g, dtype=torch.float64))
    crowded = torch.linspace(1.0, 0.99, 200, dtype=torch.float64)
    gap = torch.cat([torch.tensor([3.0], dtype=torch.float64), torch.linspace(1.0, 0.5, 199, dtype=torch.float64)])
    for s, converged in ((crowded, False), (gap, True)):
        w = q1[:, :200] @ torch.diag(s) @ q2.T
        est = similarity.spectral_norm_power(w)
        assert est <= float(s[0]) + 1e-12
        assert (est == pytest.approx(float(s[0]), rel=1e-9)) is converged
        assert similarity.spectral_norm(w) == pytest.approx(float(s[0]), rel=1e-9)  # Lanczos either way


@pytest.mark.parametrize("method", ["linear", "ties", "dare_ties", "task_arithmetic"])
def test_merging_copies_of_one_model_gives_it_back(models, tmp_path, method):
    """With nothing dropped (density 1), every method's merge of three copies of a model, each
    at weight 1/3, is that model."""
    import shutil

    init, members = models
    copies = [shutil.copytree(members[0], tmp_path / f"copy{i}") for i in range(3)]  # mergekit refuses repeats
    merge.run(method, copies, tmp_path / method, base=init, density=1.0, seed=2)
    got, m = weights(tmp_path / method), weights(members[0])
    for k in got:
        assert torch.allclose(got[k], m[k], atol=1e-6), k


def test_weight_matched_linear_merge_of_a_model_and_its_permuted_copy_is_the_model(models, tmp_path):
    """linear_wm aligns each member to the first (mergelimits.align) before averaging: a model
    merged with a permuted copy of itself comes back whole, where a plain average mixes
    unrelated units. Members that share an initialisation are matched to the identity."""
    import json
    import shutil

    from mergelimits import align

    _, members = models
    shape = align.Shape.from_config(json.loads((members[0] / "config.json").read_text()))
    copy = tmp_path / "permuted"
    shutil.copytree(members[0], copy)
    save_file(align.apply(weights(members[0]), shape, align.Perms.random(shape, seed=3)), copy / WEIGHTS,
              metadata={"format": "pt"})
    rec = merge.run("linear_wm", [members[0], copy], tmp_path / "wm")
    got, ref = weights(tmp_path / "wm"), weights(members[0])
    for k in ref:
        torch.testing.assert_close(got[k], ref[k], atol=1e-6, rtol=0, msg=k)
    assert rec["alignment"][1]["moved"]["ffn"] > 0.5 and rec["alignment"][0]["reference"]
    assert not (tmp_path / "wm.aligned").exists()
    plain = weights(tmp_path / "plain") if merge.run("linear", [members[0], copy], tmp_path / "plain") else None
    assert not torch.allclose(plain["model.layers.0.mlp.up_proj.weight"], ref["model.layers.0.mlp.up_proj.weight"])
    shared = merge.run("linear_wm", members, tmp_path / "shared")
    assert all(m["moved"] == {"residual": 0.0, "ffn": 0.0, "kv_groups": 0.0, "query_heads": 0.0}
               for m in shared["alignment"][1:])


@pytest.mark.parametrize("method", ["linear", "linear_wm"])
def test_a_merge_of_copies_of_one_model_is_that_model(models, tmp_path, method):
    """Averaging N copies changes nothing (and weight matching a model to itself moves nothing);
    a normalisation or weighting error would scale the weights."""
    import shutil

    _, members = models
    copies = [shutil.copytree(members[1], tmp_path / f"copy{i}") for i in range(3)]  # mergekit refuses one path twice
    rec = merge.run(method, copies, tmp_path / "same")
    got, ref = weights(tmp_path / "same"), weights(members[1])
    for k in ref:
        torch.testing.assert_close(got[k], ref[k], atol=1e-6, rtol=0, msg=k)
    assert all(not any(m.get("moved", {}).values()) for m in rec.get("alignment", []))


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_ulp_distance_is_the_count_of_values_between(dtype):
    """Against every finite value of the 16-bit format, sorted (+0 and -0 one value): the
    distance of two values is how far apart they sit in that list."""
    every = torch.arange(-(2**15), 2**15, dtype=torch.int32).to(torch.int16).view(dtype)
    line = torch.unique(every[torch.isfinite(every)].float())  # sorted; -0 == +0
    g = torch.Generator().manual_seed(0)
    x, y = (line[torch.randint(len(line), (2000,), generator=g)] for _ in range(2))
    x, y = torch.cat([x, torch.tensor([0.0, -0.0, 1.0])]), torch.cat([y, torch.tensor([-0.0, 0.0, -1.0])])
    want = (torch.searchsorted(line, x) - torch.searchsorted(line, y)).abs()
    assert torch.equal(merge.ulp_distance(x.to(dtype), y.to(dtype)), want)


def test_ulp_distance_in_float32_steps_one_value_at_a_time():
    start = torch.tensor([-2.0 ** -149, 0.0, 1.0, -3.5, 1e30], dtype=torch.float32)
    x = start
    for k in range(1, 6):
        x = torch.nextafter(x, torch.tensor(float("inf")))
        assert merge.ulp_distance(x, start).tolist() == [k] * 5
    assert merge.ulp_distance(torch.tensor([2.0 ** -149]), torch.tensor([-(2.0 ** -149)])).item() == 2


def test_compare_with_published_counts_each_tensors_differences(tmp_path):
    """Both sides cast to the merge's dtype, tensor by tensor in name order; a tied lm_head
    stored once on either side compares as the embedding; other tensors or another shape are
    named."""
    emb = torch.linspace(-1, 1, 12).reshape(4, 3)
    norm = torch.ones(3)
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    ours.mkdir(), theirs.mkdir()
    save_file({"model.embed_tokens.weight": emb, "model.norm.weight": norm}, str(ours / WEIGHTS))
    bumped = norm.to(torch.bfloat16).clone()
    bumped[0] = torch.tensor(1.0078125, dtype=torch.bfloat16)  # bfloat16's next value above 1
    bumped[1] = torch.tensor(1.015625, dtype=torch.bfloat16)  # two values above
    save_file({"model.embed_tokens.weight": emb, "lm_head.weight": emb.clone(), "model.norm.weight": bumped.float()},
              str(theirs / WEIGHTS))
    rows = merge.compare_with_published(ours, theirs, "bfloat16")
    assert [r["tensor"] for r in rows] == ["lm_head.weight", "model.embed_tokens.weight", "model.norm.weight"]
    assert rows[0] == {"tensor": "lm_head.weight", "elements": 12, "differing": 0, "max_abs_diff": 0.0, "max_ulp": 0}
    assert rows[2] == {"tensor": "model.norm.weight", "elements": 3, "differing": 2, "max_abs_diff": 0.015625,
                       "max_ulp": 2}
    # an untied head on both sides is compared as it is, not as the embedding
    for side, head in ((ours, 2 * emb), (theirs, 2 * emb + 1)):
        save_file({"model.embed_tokens.weight": emb, "lm_head.weight": head, "model.norm.weight": norm},
                  str(side / WEIGHTS))
    assert merge.compare_with_published(ours, theirs, "float32")[0]["differing"] == 12
    save_file({"model.embed_tokens.weight": emb, "model.norm.weight": norm}, str(ours / WEIGHTS))
    # one float32 step apart: the same in bfloat16, apart in float32
    save_file({"model.embed_tokens.weight": emb, "model.norm.weight": torch.nextafter(norm, torch.tensor(2.0))},
              str(theirs / WEIGHTS))
    assert merge.compare_with_published(ours, theirs, "bfloat16")[2]["differing"] == 0
    assert merge.compare_with_published(ours, theirs, "float32")[2] == {
        "tensor": "model.norm.weight", "elements": 3, "differing": 3, "max_abs_diff": pytest.approx(2.0 ** -23),
        "max_ulp": 1}
    save_file({"model.embed_tokens.weight": emb, "model.bias": norm}, str(theirs / WEIGHTS))
    with pytest.raises(merge.MergeError, match=rf"^{theirs} holds other tensors than the merge {ours}: "
                                               r"model\.bias, model\.norm\.weight$"):
        merge.compare_with_published(ours, theirs, "float32")
    save_file({"model.embed_tokens.weight": emb, "model.norm.weight": torch.ones(1, 3)}, str(theirs / WEIGHTS))
    with pytest.raises(merge.MergeError, match=rf"^model\.norm\.weight: shape \(3,\) in {ours}, \(1, 3\) in {theirs}$"):
        merge.compare_with_published(ours, theirs, "float32")


def test_a_bfloat16_merge_is_made_and_stored_in_bfloat16(models, tmp_path):
    """The paper's merges are bfloat16 (merge.dtype): mergekit is told so, and the weights
    written are the members' mean rounded to bfloat16."""
    _, members = models
    rec = merge.run("linear", members[:2], tmp_path / "bf16", dtype="bfloat16")
    got, ins = weights(tmp_path / "bf16"), [weights(m) for m in members[:2]]
    assert rec["mergekit_config"]["dtype"] == "bfloat16" and {t.dtype for t in got.values()} == {torch.bfloat16}
    k = "model.layers.0.mlp.up_proj.weight"
    mean = (ins[0][k].bfloat16().float() + ins[1][k].bfloat16().float()) / 2
    assert torch.allclose(got[k].float(), mean, rtol=2**-7, atol=0)
