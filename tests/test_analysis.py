"""CKA, typological distance, the merge drop Δ and Table 8's correlations."""

import numpy as np
import pandas as pd
import pytest

from mergelimits import activations, analysis, cka, lang2vec_distance, plots, similarity

from .conftest import catalog_of

RNG = np.random.default_rng(0)


def hsic_cka(x, y):
    """The textbook form: HSIC with linear kernels, K = XXᵀ, L = YYᵀ, H the centring matrix."""
    n = x.shape[0]
    h = np.eye(n) - np.ones((n, n)) / n
    k, l_ = x @ x.T, y @ y.T
    hsic = lambda a, b: np.trace(a @ h @ b @ h) / (n - 1) ** 2  # noqa: E731
    return hsic(k, l_) / np.sqrt(hsic(k, k) * hsic(l_, l_))


def test_cka_of_a_representation_with_itself_is_one():
    x = RNG.normal(size=(50, 8))
    assert cka.linear_cka(x, x) == pytest.approx(1.0)


def test_cka_is_invariant_to_orthogonal_transforms_and_isotropic_scaling():
    x, y = RNG.normal(size=(40, 6)), RNG.normal(size=(40, 9))
    q, _ = np.linalg.qr(RNG.normal(size=(6, 6)))
    base = cka.linear_cka(x, y)
    assert cka.linear_cka(x @ q, y) == pytest.approx(base)
    assert cka.linear_cka(3.7 * x, 0.2 * y) == pytest.approx(base)


def test_cka_equals_the_hsic_formula():
    x, y = RNG.normal(size=(30, 5)), RNG.normal(size=(30, 7))
    y[:, 0] += 2 * x[:, 0]
    assert cka.linear_cka(x, y) == pytest.approx(hsic_cka(x, y))


def test_cka_of_the_cached_float32_activations_is_computed_in_float64():
    """The activations are cached as float32 (activations.py); summing their products in
    float32 would move CKA in the 8th digit."""
    x = (RNG.normal(size=(200, 64)) + 50).astype(np.float32)
    y = (0.5 * x[:, :32] + RNG.normal(size=(200, 32))).astype(np.float32)
    exact = cka.linear_cka(x.astype(np.float64), y.astype(np.float64))
    assert cka.linear_cka(x, y) == pytest.approx(exact, rel=1e-12, abs=0)
    assert cka.linear_cka(y, x) == pytest.approx(exact, rel=1e-12, abs=0)


def test_cka_needs_the_same_examples():
    with pytest.raises(ValueError, match="same examples on both sides: 30 vs 29"):
        cka.linear_cka(RNG.normal(size=(30, 4)), RNG.normal(size=(29, 4)))
    with pytest.raises(ValueError, match="activations of a .* and b .* differ"):
        cka.cka_pairs({"a": RNG.normal(size=(2, 10, 4)), "b": RNG.normal(size=(2, 9, 4))})


def test_cka_pairs_per_layer():
    acts = {m: RNG.normal(size=(3, 20, 4)) for m in ("mono-a", "mono-b", "mono-c")}
    acts["mono-c"] = acts["mono-a"] * 2
    df = cka.cka_pairs(acts)
    assert len(df) == 3 * 3
    same = df[(df.model_a == "mono-a") & (df.model_b == "mono-c")]
    assert np.allclose(same.cka, 1.0)


def test_typology_from_lang2vec():
    table = lang2vec_distance.distances(["deu", "nld", "zho"])
    assert list(table.columns) == ["lang_a", "lang_b", "pair", "lang2vec_knn"]
    assert table[["lang_a", "lang_b", "pair"]].values.tolist() == [["deu", "nld", "deu+nld"], ["deu", "zho", "deu+zho"],
                                                                   ["nld", "zho", "nld+zho"]]
    d = table.set_index("pair")["lang2vec_knn"]
    assert d["deu+nld"] < d["deu+zho"] and d["deu+nld"] < d["nld+zho"]
    assert lang2vec_distance.cosine_distance(np.array([1.0, np.nan, 2.0]), np.array([2.0, 5.0, 4.0])) == pytest.approx(0.0)
    with pytest.raises(ValueError, match="^no feature is known for both languages$"):
        lang2vec_distance.cosine_distance(np.array([1.0, np.nan]), np.array([np.nan, 2.0]))


def _agg(scores):
    return pd.DataFrame([{"model": m, "step": 10, "benchmark": "multiblimp", "lang": lang, "score": s}
                         for (m, lang), s in scores.items()])


def test_delta_uses_the_languages_with_multiblimp():
    agg = _agg({("mono-deu", "deu"): 95, ("mono-nld", "nld"): 91, ("linear-deu+nld", "deu"): 60,
                ("linear-deu+nld", "nld"): 55, ("mono-eng", "eng"): 90, ("linear-eng+zho", "eng"): 70})
    models = catalog_of(["deu", "nld", "eng", "zho"], [("deu", "nld"), ("eng", "zho"), ("deu", "eng")])
    d = analysis.delta(agg, models, [("deu", "nld"), ("eng", "zho")], "linear", 10).set_index("pair")
    # Δ = merged − expert (the paper's sign): a drop is negative
    assert d.loc["deu+nld", "delta"] == pytest.approx(((60 - 95) + (55 - 91)) / 2)
    assert d.loc["eng+zho", "delta"] == pytest.approx(-20) and d.loc["eng+zho", "languages"] == "eng"
    with pytest.raises(KeyError, match=r"Δ\(deu\+eng\): no MultiBLiMP score of linear-deu\+eng on deu"):
        analysis.delta(agg, models, [("deu", "eng")], "linear", 10)


def test_correlations_match_scipy_and_need_three_pairs():
    from scipy import stats as st

    pairs = pd.DataFrame({"delta": [10, 20, 30, 35.0], "cka_eng": [0.9, 0.7, 0.5, 0.52]})
    corr = analysis.correlations(pairs, {"cka_eng": "mean CKA (English)"}).iloc[0]
    r, p = st.pearsonr(pairs.cka_eng, pairs.delta)
    assert corr.pearson_r == pytest.approx(r) and corr.pearson_p == pytest.approx(p) and corr.spearman_rho == pytest.approx(-0.8)
    with pytest.raises(ValueError, match="at least three pairs; got 2"):
        analysis.correlations(pairs.head(2), {"cka_eng": "x"})


def test_pair_table_names_a_missing_pair():
    d = pd.DataFrame({"lang_a": ["deu", "deu"], "lang_b": ["nld", "eng"], "pair": ["deu+nld", "deu+eng"],
                      "delta": [1.0, 2.0]})
    cka = pd.DataFrame({"model_a": ["mono-nld"], "model_b": ["mono-deu"], "layer": [0], "cka": [0.5],
                        "variant": ["eng"]})
    par = pd.DataFrame({"lang_a": ["deu"], "lang_b": ["nld"], "cosine": [1], "cosine_task_vector": [1],
                        "stable_rank_diff": [0], "l2_norm_diff": [0]})
    with pytest.raises(KeyError, match=r"cka_eng: no value for pair\(s\) deu\+eng"):
        analysis.pair_table(d, cka, par, pd.DataFrame({"lang_a": ["deu"], "lang_b": ["nld"], "lang2vec_knn": [0.1]}))


def test_pair_table_joins_each_measure_to_its_own_pair_and_variant():
    """In-language and English CKA come from their own variants; a measure named in either
    order of the pair joins the right row."""
    d = pd.DataFrame({"lang_a": ["deu", "deu"], "lang_b": ["nld", "eng"], "pair": ["deu+nld", "deu+eng"],
                      "delta": [1.0, 2.0]})
    cka = pd.DataFrame([{"model_a": a, "model_b": b, "layer": layer, "cka": v, "variant": var}
                        for a, b, var, vals in (("mono-nld", "mono-deu", "eng", (0.2, 0.4)),
                                                ("mono-nld", "mono-deu", "own", (0.6, 0.8)),
                                                ("mono-deu", "mono-eng", "eng", (0.1, 0.1)),
                                                ("mono-deu", "mono-eng", "own", (0.9, 0.7)))
                        for layer, v in enumerate(vals)])
    par = pd.DataFrame({"lang_a": ["nld", "eng"], "lang_b": ["deu", "deu"], "cosine": [0.5, 0.6],
                        "cosine_task_vector": [0.01, 0.02], "stable_rank_diff": [1.0, 2.0], "l2_norm_diff": [3.0, 4.0]})
    typ = pd.DataFrame({"lang_a": ["deu", "eng"], "lang_b": ["nld", "deu"], "lang2vec_knn": [0.1, 0.3]})
    t = analysis.pair_table(d, cka, par, typ).set_index("pair")
    assert t.loc["deu+nld", "cka_eng"] == pytest.approx(0.3) and t.loc["deu+nld", "cka_own"] == pytest.approx(0.7)
    assert t.loc["deu+eng", "cka_eng"] == pytest.approx(0.1) and t.loc["deu+eng", "cka_own"] == pytest.approx(0.8)
    assert t.loc["deu+eng", "stable_rank_diff"] == 2.0 and t.loc["deu+nld", "lang2vec_knn"] == 0.1


def test_figures_plot_the_tables_values(monkeypatch):
    """What is drawn, not only that a file is written: Figure 1's lines are the mean over
    languages per step, Figure 3 puts mean English CKA on x and Δ on y, the heat map holds
    each pair's mean CKA over layers."""
    drawn = []
    monkeypatch.setattr(plots, "_save", lambda fig, stem: drawn.append(fig) or [])
    langs = ["deu", "nld", "eng"]
    agg = pd.DataFrame([{"model": m, "step": step, "benchmark": "multiblimp", "lang": lang,
                         "score": base + step + 10 * i, "se": 1.0 + i, "ci95": 1.96 * (1.0 + i)}
                        for m, base, steps in (("mixed3", 50, (5, 10)), ("linear-all3", 40, (5, 10)),
                                               ("ties-all3", 30, (10,)))
                        for step in steps for i, lang in enumerate(langs)])
    plots.figure1(agg, "mixed3", {"Merged3 linear": "linear-all3", "Merged3 TIES": "ties-all3"}, langs, "f1")
    ax = drawn[-1].subfigs[0].axes[0]
    lines = {ln.get_label(): ln for ln in ax.get_lines()}
    assert list(lines["Mixed3"].get_xdata()) == [5, 10]
    assert list(lines["Mixed3"].get_ydata()) == [50 + 5 + 10, 50 + 10 + 10]  # mean of +0, +10, +20
    assert list(lines["Merged3 linear"].get_ydata()) == [40 + 5 + 10, 40 + 10 + 10]
    # 95% CI of a mean over three languages with SEs 1, 2, 3: 1.96 · √14 / 3, as a band around each line
    half = 1.96 * np.sqrt(1 + 4 + 9) / 3
    band = ax.collections[0].get_paths()[0].vertices[:, 1]
    assert band.min() == pytest.approx(65 - half) and band.max() == pytest.approx(70 + half)
    # a method merged at the final step only: one point with its CI
    ties = [c for c in ax.containers if c.get_label() == "Merged3 TIES"][0]
    assert list(ties.lines[0].get_ydata()) == [30 + 10 + 10]
    succ = pd.DataFrame([{"model": m, "step": 10, "benchmark": "multiblimp", "lang": lang, "score": s, "se": 1.0}
                         for m, s in (("mono-nld", 90), ("linear-succ2", 60), ("linear-succ3", 55))
                         for lang in langs])
    plots.figure2(succ, catalog_of(langs, successive=["nld", "deu", "eng"]), "linear", ["nld", "deu", "eng"], "f2")
    lines = drawn[-1].axes[0].get_lines()
    assert list(lines[0].get_xdata()) == [1, 2, 3] and list(lines[0].get_ydata()) == [90, 60, 55]
    pairs = pd.DataFrame({"pair": ["deu+nld", "deu+eng", "nld+eng"], "cka_eng": [0.8, 0.6, 0.5],
                          "delta": [20, 30, 33.0]})
    plots.figure3(pairs, analysis.correlations(pairs, {"cka_eng": "mean CKA (English)"}), "linear", 10, "f3")
    ax = drawn[-1].axes[0]
    assert ax.collections[0].get_offsets().tolist() == [[0.8, 20.0], [0.6, 30.0], [0.5, 33.0]]
    assert "CKA" in ax.get_xlabel() and "Δ" in ax.get_ylabel()
    cka = pd.DataFrame([{"model_a": f"mono-{a}", "model_b": f"mono-{b}", "layer": layer, "cka": v + shift,
                         "variant": var}
                        for a, b, vals in (("deu", "nld", (0.2, 0.4)), ("deu", "eng", (0.5, 0.5)),
                                           ("nld", "eng", (0.1, 0.3)))
                        for var, shift in (("eng", 0.0), ("own", 0.5)) for layer, v in enumerate(vals)])
    plots.cka_heatmap(cka, catalog_of(langs), langs, "h")
    m = drawn[-1].axes[0].get_images()[0].get_array()
    assert m[0, 1] == pytest.approx(0.3) and m[1, 0] == pytest.approx(0.3) and m[2, 1] == pytest.approx(0.2)


def test_activations_are_each_sentences_mean_hidden_state_with_bos(models):
    """Batched and padded, every sentence's vector equals its own unpadded forward pass
    (BOS first, as the authors), mean-pooled over its tokens; max_length truncates."""
    import torch

    from mergelimits import model, tokenizer

    _, members = models
    texts = ["hallo welt", "ein viel längerer satz mit mehr wörtern als der erste", "ja"]
    acts = activations.activations(members[0], texts, batch_size=2, bos=True)
    m, tok = model.load_model(members[0]).eval(), tokenizer.load(members[0])
    assert acts.shape[:2] == (m.config.num_hidden_layers, 3)
    for i, text in enumerate(texts):
        ids = torch.tensor([[tok.bos_token_id, *tok(text, add_special_tokens=False)["input_ids"]]])
        with torch.no_grad():
            hidden = m(ids, output_hidden_states=True).hidden_states[1:]
        want = np.stack([h[0].mean(0).numpy() for h in hidden])
        assert np.allclose(acts[:, i], want, atol=1e-5), text
    short = activations.activations(members[0], texts[1:2], bos=True, max_length=3)
    ids = torch.tensor([[tok.bos_token_id, *tok(texts[1], add_special_tokens=False)["input_ids"][:2]]])
    with torch.no_grad():
        hidden = m(ids, output_hidden_states=True).hidden_states[1:]
    assert np.allclose(short[:, 0], np.stack([h[0].mean(0).numpy() for h in hidden]), atol=1e-5)
    assert not np.allclose(activations.activations(members[0], texts[:1], bos=False), acts[:, :1], atol=1e-3)


def test_encode_adds_one_bos_pads_with_pad_or_eos_and_masks_the_padding(models):
    """A tokenizer that adds BOS itself (as Gemma's does) still gets one BOS; padding is the
    PAD id, or EOS where there is none, masked 0; a missing BOS names analysis.bos."""
    from mergelimits import tokenizer

    from .conftest import adding_bos

    _, members = models
    tok = adding_bos(tokenizer.load(members[0]))
    plain = [tok("hallo welt", add_special_tokens=False)["input_ids"], tok("ja", add_special_tokens=False)["input_ids"]]
    width = 1 + max(map(len, plain))
    enc = activations.encode(tok, ["hallo welt", "ja"], bos=True, max_length=None)
    assert enc["input_ids"].tolist() == [[tok.bos_token_id, *x] + [tok.pad_token_id] * (width - 1 - len(x)) for x in plain]
    assert enc["attention_mask"].tolist() == [[1] * (1 + len(x)) + [0] * (width - 1 - len(x)) for x in plain]
    assert tok.pad_token_id != tok.eos_token_id
    tok.pad_token = None
    assert activations.encode(tok, ["hallo welt", "ja"], bos=False, max_length=None)["input_ids"][1, -1] == tok.eos_token_id
    tok.bos_token = None
    with pytest.raises(ValueError, match="^analysis.bos: the tokenizer has no BOS token$"):
        activations.encode(tok, ["ja"], bos=True, max_length=None)


def test_cached_activations_are_each_variants_sentences_in_id_order(models, tmp_path, caplog):
    """cache_activations writes, per variant, the activations of its FLORES file's sentences
    sorted by id (the English and own-language arrays then pair sentence for sentence), and
    logs each array's shape and time."""
    import logging
    import re

    from mergelimits import benchfiles

    _, members = models
    rows = {"eng": [{"id": 2, "text": "yes"}, {"id": 0, "text": "hello world"}, {"id": 1, "text": "a longer sentence"}],
            "own": [{"id": 1, "text": "ein längerer satz"}, {"id": 0, "text": "hallo welt"}, {"id": 2, "text": "ja"}]}
    texts, out = {}, {}
    for variant, r in rows.items():
        (tmp_path / variant).mkdir()
        texts[variant] = benchfiles.write_file("flores", r, tmp_path / variant / "devtest.jsonl")
        out[variant] = tmp_path / f"{variant}.npy"
    with caplog.at_level(logging.INFO, logger="mergelimits.activations"):
        activations.cache_activations(members[0], texts, out, batch_size=2, bos=True, max_length=4)
    lines = [r.getMessage() for r in caplog.records if r.name == "mergelimits.activations"]
    assert len(lines) == 2
    for line, variant in zip(lines, rows):
        assert re.fullmatch(rf"{re.escape(str(members[0]))}, {variant}: \d+ layers × 3 sentences × \d+ in \d{{1,2}}\.\d s",
                            line), line
    for variant, r in rows.items():
        ordered = [row["text"] for row in sorted(r, key=lambda row: row["id"])]
        want = activations.activations(members[0], ordered, batch_size=3, bos=True, max_length=4)
        got = np.load(out[variant])
        assert got.dtype == np.float32 and got.shape == want.shape
        assert np.allclose(got, want, atol=1e-6), variant
    assert not np.allclose(np.load(out["eng"]), np.load(out["own"]), atol=1e-3)


def test_summary_compares_the_sign_of_table8_with_the_paper():
    from mergelimits import summary

    t1 = pd.DataFrame({"model": ["Monolingual experts", "Mixed3", "Merged3 linear"], "multiblimp μ": [90.0, 80.0, 55.0]})
    pairs = pd.DataFrame({"delta": [-30.0, -10.0, -20.0]})
    for r, words in ((0.6, "the same sign"), (-0.4, "the opposite sign")):
        t8 = pd.DataFrame({"measure": ["mean CKA (English)"], "pearson_r": [r], "pearson_p": [0.01]})
        text = summary.results(t1, t8, pairs, "tiny", 10)
        assert "Δ (merge − expert, points; a drop is negative) ranges −30.0 to −10.0 (mean −20.0).\n" in text
        assert f"this run finds r = {summary._num(r, 2)}, {words}" in text
    t8 = pd.DataFrame({"measure": ["mean CKA (English)"], "pearson_r": [np.nan], "pearson_p": [np.nan]})
    assert "The paper reports" not in summary.results(t1, t8, pairs, "tiny", 10)  # no r to compare


def test_verify_init_tells_the_true_init_from_an_unrelated_one(models, tmp_path):
    """A checkpoint trained a little from the init passes; the same architecture drawn from
    another seed fails, naming the threshold's key; norm weights (1 in every init) do not count."""
    from mergelimits import model

    init, members = models  # members: the init moved by N(0, 0.02) noise, as warm-up steps would
    agreement = similarity.init_agreement(init, members[0])
    assert similarity.verify_init(agreement, 0.2, "m0") > 0.5
    norms = agreement[~agreement.matrix]
    assert len(norms) and (norms.cosine > 0.99).all()
    other = tmp_path / "other"
    from .conftest import TINY_ARCH as ARCH

    model.make_init(ARCH, init, 12345, other)
    unrelated = similarity.init_agreement(other, members[0])
    assert abs(unrelated[unrelated.matrix].cosine.median()) < 0.2
    with pytest.raises(ValueError, match=r"not m0's own: median cosine .* < pretrain.verify_init.min_cosine 0.2"):
        similarity.verify_init(unrelated, 0.2, "m0")
    at = pd.DataFrame({"tensor": ["a", "b", "c"], "cosine": [0.1, 0.2, 0.9], "matrix": True})
    assert similarity.verify_init(at, 0.2, "m0") == 0.2  # "below" the threshold fails; at it passes


def test_delta_reproduces_the_authors_own_numbers():
    """The paper's published per-language accuracies of its 45 bilingual merges and HPLT's
    experts, fed through this project's Δ: every pair equals the authors' `diff` (merged −
    expert, zho pairs on their one MultiBLiMP language), so every Δ is negative, a drop."""
    from .conftest import ROOT

    fix = ROOT / "tests" / "fixtures" / "paper"
    pairs = pd.read_csv(fix / "bilingual_pairs.tsv", sep="\t", comment="#")
    experts = pd.read_csv(fix / "expert.tsv", sep="\t", comment="#").set_index("lang")["accuracy"]
    assert len(pairs) == 45
    scores = {(f"mono-{lang}", lang): 100 * acc for lang, acc in experts.items()}
    for r in pairs.itertuples():
        scores[(f"linear-{r.a}+{r.b}", r.a)] = 100 * r.merged_a
        if not pd.isna(r.merged_b):
            scores[(f"linear-{r.a}+{r.b}", r.b)] = 100 * r.merged_b
    models = catalog_of(sorted(experts.index), list(zip(pairs.a, pairs.b)))
    d = analysis.delta(_agg(scores), models, list(zip(pairs.a, pairs.b)), "linear", 10)
    assert np.allclose(d.delta.to_numpy(), 100 * pairs["diff"].to_numpy(), atol=1e-9)
    assert (d.delta < 0).all()


def test_delta_reads_multiblimp_at_its_step_only_and_names_its_columns():
    """Scores of other benchmarks and steps in the aggregate never enter Δ."""
    rows = {("mono-deu", "deu"): 90, ("mono-nld", "nld"): 80, ("linear-deu+nld", "deu"): 60,
            ("linear-deu+nld", "nld"): 50}
    agg = _agg(rows)
    noise = [{"model": m, "step": s, "benchmark": b, "lang": lang, "score": 1.0}
             for (m, lang) in rows for s, b in ((10, "belebele"), (20, "multiblimp"))]
    d = analysis.delta(pd.concat([agg, pd.DataFrame(noise)]), catalog_of(["deu", "nld"], [("deu", "nld")]),
                       [("deu", "nld")], "linear", 10)
    assert list(d.columns) == ["lang_a", "lang_b", "pair", "method", "delta", "languages"]
    assert d.iloc[0].tolist() == ["deu", "nld", "deu+nld", "linear", pytest.approx(-30.0), "deu+nld"]


def test_similarity_tables_name_their_columns():
    acts = {"mono-a": RNG.normal(size=(2, 12, 3)), "mono-b": RNG.normal(size=(2, 12, 3))}
    assert list(cka.cka_pairs(acts).columns) == ["model_a", "model_b", "layer", "cka"]


def test_init_agreement_names_what_differs(models, tmp_path):
    import shutil

    from safetensors.torch import load_file, save_file

    init, members = models
    agreement = similarity.init_agreement(init, members[0])
    assert list(agreement.columns) == ["tensor", "elements", "matrix", "cosine"]
    assert agreement.set_index("tensor").loc["model.norm.weight", "elements"] == 32
    other = shutil.copytree(members[0], tmp_path / "other")
    sd = load_file(other / "model.safetensors")
    sd["model.norm.weight"] = sd["model.norm.weight"][:16].clone()
    save_file(sd, other / "model.safetensors")
    with pytest.raises(ValueError, match=r"^model.norm.weight: shape \(16,\) in .*other, \(32,\) in the init$"):
        similarity.init_agreement(init, other)
    del sd["model.norm.weight"]
    save_file(sd, other / "model.safetensors")
    with pytest.raises(ValueError, match=r"other and the init .* have different tensors \(model.norm.weight \.\.\.\)"):
        similarity.init_agreement(init, other)
    with pytest.raises(ValueError, match=r"\(lowest: (model\.\S+ -?0\.\d{4}, ){2}model\.\S+ -?0\.\d{4}\)$"):
        similarity.verify_init(agreement, 0.99, "m0")


def test_summary_sets_each_score_beside_its_controls():
    from mergelimits import summary

    t1 = pd.DataFrame({"model": ["Monolingual experts", "Mixed3"], "multiblimp μ": [90.0, 80.0]})
    tc = pd.DataFrame({"model": ["Monolingual experts", "Mixed3"], "xcsqa score": [56.04, 22.7],
                       "xcsqa blind": [20.0, 21.96], "xcsqa shuffled": [24.0, 19.5]})
    text = summary.results(t1, pd.DataFrame(), pd.DataFrame(), "tiny", 10, tc)
    assert "| Mixed3 | 22.7 (22.0 / 19.5) |" in text and "| Monolingual experts | 56.0 (20.0 / 24.0) |" in text
    assert "question-blind" not in summary.results(t1, pd.DataFrame(), pd.DataFrame(), "tiny", 10)


def test_the_readme_headline_is_table1_and_its_reading_from_the_same_block():
    """README.md shows Table 1 and the sentence that reads it; the controls table and the rest
    stay in docs/results.md. Both come from one block, so they never disagree."""
    from mergelimits import summary

    t1 = pd.DataFrame({"model": ["Monolingual experts", "Mixed3", "Merged3 linear"], "multiblimp μ": [90.0, 80.0, 51.0]})
    tc = pd.DataFrame({"model": ["Monolingual experts", "Mixed3"], "xcsqa score": [56.04, 22.7],
                       "xcsqa blind": [20.0, 21.96], "xcsqa shuffled": [24.0, 19.5]})
    block = summary.results(t1, pd.DataFrame(), pd.DataFrame(), "tiny", 10, tc)
    head = summary.headline(block)
    assert block.startswith(head.strip()) and "| Merged3 linear | 51.0 |" in head
    assert "the merges of all models reach 51.0–51.0%" in head
    assert "question-blind" in block and "question-blind" not in head
    readme = f"intro\n{summary.BEGIN}\nold\n{summary.END}\nrest\n"
    assert summary.splice(readme, head) == f"intro\n{summary.BEGIN}\n\n{head.strip()}\n\n{summary.END}\nrest\n"


def test_summary_reads_figure4_numbers_from_the_branch_scores():
    """The README's branch paragraph: the branch table as written, and each method's
    MultiBLiMP mean per branch step with its CI, read from the scores behind Figure 4."""
    from mergelimits import branching, summary

    scores = pd.DataFrame([
        {"family": 0, "series": "experts", "benchmark": "multiblimp", "score": 90.0, "se": 1.0, "ci95": 1.96},
        {"family": 0, "series": "linear", "benchmark": "multiblimp", "score": 51.04, "se": 1.0, "ci95": 1.96},
        {"family": 120, "series": "experts", "benchmark": "multiblimp", "score": 85.0, "se": 1.0, "ci95": 1.96},
        {"family": 120, "series": "linear", "benchmark": "multiblimp", "score": 71.26, "se": 1.2, "ci95": 2.35},
        {"family": None, "series": "mixed", "benchmark": "multiblimp", "score": 80.0, "se": 1.0, "ci95": 1.96},
    ])
    table = branching.table(scores, "mixed10")
    assert list(table["branched at"]) == [0, 0, 120, 120, "–"]
    assert table.iloc[3]["multiblimp"] == "71.3 ± 2.4" and table.iloc[4]["model"] == "Mixed10"
    text = summary.branch_markdown(table, scores)
    assert "| 120 | Merged linear | 71.3 ± 2.4 |" in text
    assert ("MultiBLiMP of Merged-N (linear): 51.0 ± 2.0 branched at 0; 71.3 ± 2.4 branched at 120 "
            "(Mixed: 80.0 ± 2.0; chance 50).") in text
    assert "multiblimp ±2.4" in text


def test_figure4_scores_are_means_of_the_stored_scores_and_name_what_is_missing():
    """The experts' mean of a family is over each expert on its own language, resampled as
    one mean; Merged-N's and Mixed's come from the aggregate's mean rows; a family without
    one of its experts' scores is refused, naming the model and the language."""
    from mergelimits import bootstrap, branching

    rng = np.random.default_rng(5)
    rows = []
    for model, langs in (("mono-deu", ["deu"]), ("mono-eng", ["eng"]), ("mono-deu-br60", ["deu"]),
                         ("mono-eng-br60", ["eng"]), ("linear-all2", ["deu", "eng"]),
                         ("linear-all2-br60", ["deu", "eng"]), ("mixed2", ["deu", "eng"])):
        for lang in langs:
            acc = (rng.random(200) < 0.7).astype(float)
            rows.append(pd.DataFrame({"model": model, "step": 120, "benchmark": "multiblimp", "lang": lang,
                                      "item": range(200), "acc": acc}))
    store = pd.concat(rows, ignore_index=True)
    agg = bootstrap.aggregate(store, n=200, seed=0)
    means = agg[agg.lang == bootstrap.MEAN]
    models = catalog_of(["deu", "eng"], families=(0, 60))
    earlier = store.assign(step=60, acc=1.0)  # another checkpoint's scores, and another benchmark's, are not read
    other_bench = store[store.model.str.startswith("mono")].assign(benchmark="belebele", acc=0.0)
    scores = branching.family_scores(pd.concat([store, earlier, other_bench]), means, models, [0, 60], ["linear"],
                                     ["deu", "eng"], ["multiblimp"], "mixed2", 120, 200, 3)
    assert list(scores.columns) == ["family", "series", "benchmark", "score", "se", "ci95", "items"]
    assert list(zip(scores.family.fillna(-1), scores.series)) == [(0, "experts"), (0, "linear"), (60, "experts"),
                                                                  (60, "linear"), (-1, "mixed")]
    assert (scores.benchmark == "multiblimp").all()
    got = scores.set_index(["family", "series"])
    per = agg[agg.lang != bootstrap.MEAN].set_index(["model", "lang"])["score"]
    assert got.score[(60, "experts")] == pytest.approx((per[("mono-deu-br60", "deu")] + per[("mono-eng-br60", "eng")]) / 2)
    assert got.score[(0, "linear")] == pytest.approx(per.loc["linear-all2"].mean())
    assert got.score[(60, "linear")] == pytest.approx(per.loc["linear-all2-br60"].mean())
    assert scores[scores.series == "mixed"].score.iloc[0] == pytest.approx(per.loc["mixed2"].mean())
    # the experts' CI: their items resampled as one mean with the seed given; the others' read from the aggregate
    experts = store[store.model.isin(["mono-deu-br60", "mono-eng-br60"])].assign(model="experts")
    want = bootstrap.aggregate(experts, n=200, seed=3).set_index("lang").loc[bootstrap.MEAN]
    assert (got.se[(60, "experts")], got.ci95[(60, "experts")]) == (want.se, want.ci95)
    assert got["items"][(60, "experts")] == 400
    cell = means.set_index("model").loc["linear-all2-br60"]
    assert (got.se[(60, "linear")], got.ci95[(60, "linear")], got["items"][(60, "linear")]) == (
        cell.se, cell.ci95, cell["items"])
    one = branching.family_scores(store, agg[agg.lang == bootstrap.MEAN], catalog_of(["deu"], families=(0,)), [0],
                                  [], ["deu"], ["multiblimp"], "mixed2", 120, 200, 3)  # one language: its own row
    assert one.score.iloc[0] == pytest.approx(per[("mono-deu", "deu")])
    with pytest.raises(KeyError, match="^'Figure 4: no multiblimp scores of mono-deu-br60 on deu, mono-eng-br60 on eng'$"):
        branching.family_scores(store[~store.model.str.endswith("br60")], means, models, [0, 60], ["linear"],
                                ["deu", "eng"], ["multiblimp"], "mixed2", 120, 200, 0)
    with pytest.raises(KeyError, match="^'Figure 4: no mean multiblimp score of mixed2 at step 120 in the aggregate'$"):
        branching.family_scores(store, means[means.model != "mixed2"], models, [0, 60], ["linear"],
                                ["deu", "eng"], ["multiblimp"], "mixed2", 120, 200, 0)


def test_cka_by_family_and_the_widest_ci():
    """Per family and variant: the mean over pairs of each pair's mean over layers, the SD
    (ddof 1) of those per-pair means, and the pairs counted; the widest CI per benchmark."""
    from mergelimits import branching

    rows = []
    for base in (0.5, 0.8):  # family 0's values, then family 60's
        for variant in ("eng", "own"):
            for pair, (a, b) in enumerate((("deu", "eng"), ("deu", "zho"), ("eng", "zho"))):
                for layer, value in enumerate((base + 0.1 * pair, base + 0.1 * pair + 0.04, base)):
                    rows.append({"variant": variant, "model_a": f"mono-{a}", "model_b": f"mono-{b}", "layer": layer,
                                 "cka": value + (0.01 if variant == "own" else 0)})
    frame = pd.DataFrame(rows)
    families = {f: frame[frame.cka.between(lo, lo + 0.3)] for f, lo in ((0, 0.5), (60, 0.8))}
    got = branching.cka_by_family(families)
    assert list(got.columns) == ["family", "variant", "cka", "sd", "pairs"]
    assert list(zip(got.family, got.variant, got.pairs)) == [(0, "eng", 3), (0, "own", 3), (60, "eng", 3), (60, "own", 3)]
    for r in got.itertuples():
        sub = families[r.family][families[r.family].variant == r.variant]
        per_pair = sub.groupby(["model_a", "model_b"]).cka.mean()
        assert r.cka == pytest.approx(per_pair.mean()) and r.sd == pytest.approx(np.std(per_pair, ddof=1))
    scores = pd.DataFrame({"benchmark": ["multiblimp", "multiblimp", "belebele"], "ci95": [1.5, 2.5, 4.0]})
    assert branching.widths(scores) == {"belebele": 4.0, "multiblimp": 2.5}


def test_the_branch_tables_rows_are_each_family_and_series_with_its_own_cells():
    from mergelimits import branching

    assert [branching.series_label(s) for s in ("experts", "mixed", "linear")] == [
        "experts (own language)", "Mixed (final)", "Merged linear"]
    scores = pd.DataFrame([
        {"family": f, "series": s, "benchmark": b, "score": 10 * f / 60 + len(s) + (b == "belebele"), "ci95": 1.0}
        for f in (0, 60) for s in ("experts", "linear") for b in ("multiblimp", "belebele")]
        + [{"family": None, "series": "mixed", "benchmark": b, "score": 99.0, "ci95": 0.5} for b in ("multiblimp", "belebele")])
    table = branching.table(scores, "mixed10")
    assert table.values.tolist() == [
        [0, "experts (own language)", "7.0 ± 1.0", "8.0 ± 1.0"], [0, "Merged linear", "6.0 ± 1.0", "7.0 ± 1.0"],
        [60, "experts (own language)", "17.0 ± 1.0", "18.0 ± 1.0"], [60, "Merged linear", "16.0 ± 1.0", "17.0 ± 1.0"],
        ["–", "Mixed10", "99.0 ± 0.5", "99.0 ± 0.5"]]
    assert list(table.columns) == ["branched at", "model", "multiblimp", "belebele"]


def test_delta_of_a_branch_family_reads_its_own_experts_and_merge():
    """branch=60: the experts branched from Mixed at step 60 and their merge, never the
    shared-init family's models scored beside them; Δ's CI drawn the same on every call."""
    from mergelimits import bootstrap, modelid

    items = []
    for f, (expert, merged) in ((0, (90, 50)), (60, (80, 75))):
        for lang in ("deu", "nld"):
            for model, acc in ((modelid.mono(lang, f), expert), (modelid.merged_pair("linear", "deu", "nld", f), merged)):
                items += [{"model": model, "step": 10, "benchmark": "multiblimp", "lang": lang, "item": i,
                           "acc": float(i < acc // 5)} for i in range(20)]
    store = pd.DataFrame(items)
    agg = bootstrap.aggregate(store, n=50, seed=0, means=False)
    models = catalog_of(["deu", "nld"], [("deu", "nld")], families=(0, 60))
    d = analysis.delta(agg, models, [("deu", "nld")], "linear", 10, branch=60, store=store, n=200)
    assert d.delta.item() == pytest.approx(75 - 80)
    assert d.equals(analysis.delta(agg, models, [("deu", "nld")], "linear", 10, branch=60, store=store, n=200))


def test_correlations_count_the_pairs_and_name_a_missing_measure():
    pairs = pd.DataFrame({"delta": [10, 20, 30, 35.0], "cka_eng": [0.9, 0.7, 0.5, 0.52]})
    corr = analysis.correlations(pairs, {"cka_eng": "mean CKA (English)"})
    assert list(corr.columns) == ["measure", "pearson_r", "pearson_p", "spearman_rho", "spearman_p", "pairs"]
    assert corr.iloc[0]["measure"] == "mean CKA (English)" and corr.iloc[0]["pairs"] == 4
    with pytest.raises(KeyError, match=r"^\"measure 'cosine' missing from the pair table\"$"):
        analysis.correlations(pairs, {"cka_eng": "x", "cosine": "y"})


def test_pair_table_names_every_pair_a_parametric_table_lacks():
    d = pd.DataFrame({"lang_a": ["deu", "deu", "eng"], "lang_b": ["nld", "eng", "nld"],
                      "pair": ["deu+nld", "deu+eng", "eng+nld"], "delta": [1.0, 2.0, 3.0]})
    cka = pd.DataFrame([{"model_a": f"mono-{a}", "model_b": f"mono-{b}", "layer": 0, "cka": 0.5, "variant": v}
                        for a, b in (("deu", "nld"), ("deu", "eng"), ("eng", "nld")) for v in ("eng", "own")])
    par = pd.DataFrame({"lang_a": ["nld"], "lang_b": ["deu"], "cosine": [1.0], "cosine_task_vector": [1.0]})
    with pytest.raises(KeyError, match=r"^'cosine: no value for pair\(s\) deu\+eng, eng\+nld'$"):
        analysis.pair_table(d, cka, par, pd.DataFrame({"lang_a": ["deu"], "lang_b": ["nld"], "lang2vec_knn": [0.1]}))


def test_the_results_block_word_for_word():
    """The block `make study` writes into docs/results.md, and the README's part of it, for
    a study with every section: Table 1 (a missing μ as –), the controls beside their
    benchmarks' chance (the most common first), Δ over the pairs with its widest CI, Table 8
    strongest first with the paper's CKA sign, and the branch families."""
    from mergelimits import branching, summary

    t1 = pd.DataFrame({"model": ["Monolingual experts", "Mixed3", "Merged3 linear", "Merged3 TIES"],
                       "multiblimp μ": [90.04, 80.0, 51.26, 55.5], "multiblimp CV%": [1.0, 2.0, 3.0, 4.0],
                       "belebele μ": [30.0, 28.15, None, 26.0]})
    tc = pd.DataFrame({"model": ["Monolingual experts", "Mixed3"], "belebele score": [30.0, 28.15],
                       "belebele blind": [25.5, 24.0], "belebele shuffled": [26.0, 25.0],
                       "xcsqa score": [56.04, 22.7], "xcsqa blind": [20.0, 21.96], "xcsqa shuffled": [24.0, 19.5],
                       "hellaswag score": [30.0, 31.0], "hellaswag blind": [25.0, 26.0], "hellaswag shuffled": [24.0, 27.0]})
    pairs = pd.DataFrame({"delta": [-30.0, -10.25, -20.0], "delta_ci95": [3.0, 4.56, 2.0]})
    t8 = pd.DataFrame({"measure": ["lang2vec distance", "mean CKA (English)"], "pearson_r": [0.123, -0.456],
                       "pearson_p": [0.5, 0.0123]})
    scores = pd.DataFrame([
        {"family": 0, "series": "experts", "benchmark": "multiblimp", "score": 90.0, "ci95": 1.96},
        {"family": 0, "series": "linear", "benchmark": "multiblimp", "score": 51.04, "ci95": 1.96},
        {"family": 120, "series": "experts", "benchmark": "multiblimp", "score": 85.0, "ci95": 1.96},
        {"family": 120, "series": "linear", "benchmark": "multiblimp", "score": 71.26, "ci95": 2.35},
        {"family": None, "series": "mixed", "benchmark": "multiblimp", "score": 80.0, "ci95": 1.5},
        {"family": 0, "series": "experts", "benchmark": "belebele", "score": 30.0, "ci95": 3.1},
        {"family": 0, "series": "linear", "benchmark": "belebele", "score": 26.0, "ci95": 3.0},
        {"family": 120, "series": "experts", "benchmark": "belebele", "score": 29.0, "ci95": 3.0},
        {"family": 120, "series": "linear", "benchmark": "belebele", "score": 27.0, "ci95": 3.0},
        {"family": None, "series": "mixed", "benchmark": "belebele", "score": 28.0, "ci95": 2.9},
    ])
    table = branching.table(scores, "mixed3")
    text = summary.results(t1, t8, pairs, "tiny", 240, tc, (table, scores))
    assert text == EXPECTED_RESULTS
    assert summary.headline(text) == EXPECTED_RESULTS.split("\n\nThe multiple-choice")[0] + "\n"
    with pytest.raises(ValueError, match="^README has no results markers"):
        summary.splice("no markers here", text)
    assert summary.headline("intro\n\n| a |\n|--|") == "intro\n\n| a |\n|--|\n"  # a block that ends with its table
    assert summary.headline("intro\n\n| a |\n\n| b |") == "intro\n\n| a |\n"  # the next table is not the reading
    # the controls' chance: the most common level first, the first of equals on a tie
    assert summary._chances(pd.DataFrame(columns=["model", "xcsqa blind", "belebele blind"])) == "chance 20%, Belebele 25%"


EXPECTED_RESULTS = (
    'Table 1 of the tiny study at step 240 (μ over languages; CV% and the per-language tables with '
    '95% CIs in `results/tiny/tables/`):\n'
    '\n'
    '| model | multiblimp μ | belebele μ |\n'
    '|:--|--:|--:|\n'
    '| Monolingual experts | 90.0 | 30.0 |\n'
    '| Mixed3 | 80.0 | 28.1 |\n'
    '| Merged3 linear | 51.3 | – |\n'
    '| Merged3 TIES | 55.5 | 26.0 |\n'
    '\n'
    'On MultiBLiMP the experts reach 90.0% on their own language and Mixed3 80.0%; the merges of '
    'all models reach 51.3–55.5% (chance: 50%).\n'
    '\n'
    'The multiple-choice scores beside their question-blind controls (μ over languages; blind: the '
    "options alone, shuffled: after another item's context; chance 25%, X-CSQA 20%):\n"
    '\n'
    '| model | belebele: score (blind / shuffled) | xcsqa: score (blind / shuffled) | hellaswag: '
    'score (blind / shuffled) |\n'
    '|:--|--:|--:|--:|\n'
    '| Monolingual experts | 30.0 (25.5 / 26.0) | 56.0 (20.0 / 24.0) | 30.0 (25.0 / 24.0) |\n'
    '| Mixed3 | 28.1 (24.0 / 25.0) | 22.7 (22.0 / 19.5) | 31.0 (26.0 / 27.0) |\n'
    '\n'
    'Over the 3 bilingual merges the MultiBLiMP change Δ (merge − expert, points; a drop is '
    "negative) ranges −30.0 to −10.2 (mean −20.1); a pair's 95% CI is at most ±4.6 points (paired "
    'bootstrap of the items).\n'
    '\n'
    'Table 8, Pearson correlation of Δ with each measure, strongest first: mean CKA (English) r = '
    '−0.46 (p = 0.012); lang2vec distance r = 0.12 (p = 0.500).\n'
    '\n'
    'The paper reports r = 0.45 between Δ and mean English CKA; this run finds r = −0.46, the '
    'opposite sign: here more similar experts lose more.\n'
    '\n'
    'Beyond the paper, experts branched from Mixed (Figure 4; μ over languages ± 95% CI; '
    '`results/<study>/tables/branch.*`):\n'
    '\n'
    '| branched at | model | multiblimp | belebele |\n'
    '|:--|:--|--:|--:|\n'
    '| 0 | experts (own language) | 90.0 ± 2.0 | 30.0 ± 3.1 |\n'
    '| 0 | Merged linear | 51.0 ± 2.0 | 26.0 ± 3.0 |\n'
    '| 120 | experts (own language) | 85.0 ± 2.0 | 29.0 ± 3.0 |\n'
    '| 120 | Merged linear | 71.3 ± 2.4 | 27.0 ± 3.0 |\n'
    '| – | Mixed3 | 80.0 ± 1.5 | 28.0 ± 2.9 |\n'
    '\n'
    'MultiBLiMP of Merged-N (linear): 51.0 ± 2.0 branched at 0; 71.3 ± 2.4 branched at 120 (Mixed: '
    '80.0 ± 1.5; chance 50).\n'
    '\n'
    'The widest 95% CI of any of these means: belebele ±3.1, multiblimp ±2.4.\n'
)
