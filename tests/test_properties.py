"""Property-based tests (hypothesis) of the numbers the study reports: CKA's invariances,
the bootstrap SE against the analytic one, Table 1's μ and CV against numpy."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from mergelimits import bootstrap, similarity, tables

from .conftest import catalog_of
from .test_analysis import hsic_cka

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
finite = st.floats(-10, 10, allow_nan=False, allow_infinity=False, width=64)


def representations(n_min=8):
    return st.integers(n_min, 30).flatmap(lambda n: st.tuples(
        arrays(np.float64, (n, 4), elements=finite), arrays(np.float64, (n, 5), elements=finite)))


def _informative(x, y):
    """CKA needs both sides to vary after centring."""
    return np.linalg.norm(x - x.mean(0)) > 1e-3 and np.linalg.norm(y - y.mean(0)) > 1e-3


@SETTINGS
@given(representations(), st.floats(0.1, 10), st.integers(0, 2**31 - 1))
def test_cka_is_invariant_and_equals_hsic(xy, scale, seed):
    x, y = xy
    if not _informative(x, y):
        return
    base = similarity.linear_cka(x, y)
    assert 0 <= base <= 1 + 1e-9
    assert base == pytest.approx(hsic_cka(x, y), abs=1e-7)
    q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(4, 4)))
    assert similarity.linear_cka(scale * x @ q + 3.0, y) == pytest.approx(base, abs=1e-7)  # rotation, scale, shift
    assert similarity.linear_cka(y, x) == pytest.approx(base, abs=1e-9)  # symmetric


@SETTINGS
@given(st.integers(200, 1500), st.floats(0.05, 0.95), st.integers(0, 2**31 - 1))
def test_bootstrap_se_of_bernoulli_items_is_the_analytic_se(n, p, seed):
    values = (np.random.default_rng(seed).random(n) < p).astype(float)
    m = values.mean()
    if m in (0.0, 1.0):
        return
    se = bootstrap.bootstrap_se(values, 2000, np.random.default_rng(seed + 1))
    # the bootstrap SE estimates sqrt(m (1 - m) / n); with 2000 resamples it is within ~10%
    assert se == pytest.approx(np.sqrt(m * (1 - m) / n), rel=0.12)


@SETTINGS
@given(st.integers(2, 6).flatmap(lambda n: st.tuples(st.lists(st.floats(1, 99), min_size=n, max_size=n),
                                                     st.lists(st.floats(1, 99), min_size=n, max_size=n))))
def test_table1_mu_and_cv_are_numpys(scores):
    scores_a, scores_b = scores
    langs = ["deu", "eng", "fra", "ita", "nld", "rus"][: len(scores_a)]  # each has both benchmarks
    rows = [{"model": "m", "step": 1, "benchmark": "multiblimp", "lang": lang, "score": s, "ci95": 1.0}
            for lang, s in zip(langs, scores_a)]
    rows += [{"model": "m", "step": 1, "benchmark": "flores", "lang": lang, "score": s, "ci95": 1.0}
             for lang, s in zip(langs, scores_b)]
    t1 = tables.table1(pd.DataFrame(rows), [("M", "m")], langs, ["multiblimp", "flores"], 1).iloc[0]
    for bench, s in (("multiblimp", scores_a), ("flores", scores_b)):
        s = np.array(s)
        assert t1[f"{bench} μ"] == pytest.approx(s.mean())
        assert t1[f"{bench} CV%"] == pytest.approx(s.std(ddof=1) / s.mean() * 100)


def test_aggregate_scores_each_cell_from_its_items_reproducibly():
    """aggregate(): one row per model × step × benchmark × language in sorted order, the
    score in %, the SE the items' bootstrap SE in % (close to the analytic √(p(1−p)/n) for
    Bernoulli items), CI = 1.96 × SE, the item count, the same numbers on every call; an
    empty generation scores as an empty string, not as a missing value."""
    rng = np.random.default_rng(0)
    acc = (rng.random(400) < 0.3).astype(float)
    store = pd.concat([
        pd.DataFrame({"model": "m", "step": 5, "benchmark": "multiblimp", "lang": "eng", "item": range(400),
                      "acc": acc}),
        pd.DataFrame({"model": "a", "step": 5, "benchmark": "multiblimp", "lang": "deu", "item": range(4),
                      "acc": [1.0, 0.0, 1.0, 1.0]}),
        pd.DataFrame({"model": "m", "step": 5, "benchmark": "flores", "lang": "deu", "item": range(3),
                      "chrf": 0.0, "hypothesis": ["das ist gut", None, "ja"], "reference": ["das ist gut", "nein", "ja"]}),
    ])
    agg = bootstrap.aggregate(store, n=2000, seed=3)
    assert list(zip(agg.model, agg.benchmark, agg.lang)) == [("a", "multiblimp", "deu"), ("m", "flores", "deu"),
                                                             ("m", "multiblimp", "eng")]
    cell = agg.iloc[2]
    p = acc.mean()
    assert cell.score == pytest.approx(100 * p) and cell["items"] == 400 and cell.metric == "acc"
    assert cell.se == pytest.approx(100 * np.sqrt(p * (1 - p) / 400), rel=0.1)
    assert np.allclose(agg.ci95, 1.96 * agg.se)
    assert agg.equals(bootstrap.aggregate(store, n=2000, seed=3))  # seeded per cell
    assert not np.isclose(bootstrap.aggregate(store, n=2000, seed=4).se.iloc[2], cell.se)
    fl = agg.iloc[1]  # the missing generation is "", so the corpus score is sacrebleu's of ["…", "", "ja"]
    assert fl.score == pytest.approx(bootstrap.chrf_corpus(["das ist gut", "", "ja"], ["das ist gut", "nein", "ja"]))


def test_per_language_tables_read_each_rows_model_at_its_step_and_benchmark():
    """Tables 2-6: the experts' row takes each expert on its own language, other rows their
    own model; other benchmarks and steps in the aggregate never leak into a cell."""
    rows = []
    for model, base in (("mono-deu", 90), ("mono-eng", 80), ("mixed2", 60)):
        for lang in ("deu", "eng"):
            # the rows that must not leak come first, where a loose filter would take them
            for bench, step, shift in (("belebele", 10, 5), ("multiblimp", 5, 7), ("multiblimp", 10, 0)):
                rows.append({"model": model, "step": step, "benchmark": bench, "lang": lang,
                             "score": base + shift + (lang == "eng"), "ci95": 1.0})
    experts = {"deu": "mono-deu", "eng": "mono-eng"}
    t = tables.per_language(pd.DataFrame(rows), "multiblimp", [("Experts", experts), ("Mixed2", "mixed2")],
                            ["deu", "eng"], 10)
    assert list(t.columns) == ["model", "deu", "eng"]
    assert t.iloc[0].tolist() == ["Experts", "90.0 ± 1.0", "81.0 ± 1.0"]
    assert t.iloc[1].tolist() == ["Mixed2", "60.0 ± 1.0", "61.0 ± 1.0"]


def test_table1_facts_missing_cells_and_single_language_cv():
    """Table 1's Params/B and Tokens/B come from the facts given ('–' where a model card
    states none); a missing cell names the row, benchmark and language; CV% needs two
    languages and a non-zero mean."""
    rows = [{"model": "m", "step": 1, "benchmark": "multiblimp", "lang": lang, "score": s}
            for lang, s in (("deu", 60.0), ("eng", 80.0))]
    rows += [{"model": "z", "step": 1, "benchmark": "multiblimp", "lang": lang, "score": 0.0} for lang in ("deu", "eng")]
    agg = pd.DataFrame(rows)
    t = tables.table1(agg, [("M", "m"), ("Z", "z")], ["deu", "eng"], ["multiblimp"], 1,
                      {"M": (2.15, 100.0), "Z": (1.0, None)})
    assert list(t.columns) == ["model", "Params/B", "Tokens/B", "multiblimp μ", "multiblimp CV%"]
    assert t.iloc[0, 1:].tolist() == [2.15, 100.0, 70.0, pytest.approx(np.std([60, 80], ddof=1) / 70 * 100)]
    assert np.isnan(t.iloc[1]["Tokens/B"]) and np.isnan(t.iloc[1]["multiblimp CV%"])  # none stated; μ = 0
    one = tables.table1(agg, [("M", "m")], ["deu"], ["multiblimp"], 1)
    assert np.isnan(one.iloc[0]["multiblimp CV%"]) and "Params/B" not in one  # one language: no CV
    with pytest.raises(ValueError, match=r"^Table 1, M: no multiblimp score for fra, ita$"):
        tables.table1(agg, [("M", "m")], ["deu", "fra", "ita"], ["multiblimp"], 1)


def _bernoulli_store(bench: str, langs: list[str], n: int, shared: bool, p: float = 0.5) -> pd.DataFrame:
    rng = np.random.default_rng(11)
    one = (rng.random(n) < p).astype(float)
    frames = [pd.DataFrame({"model": "m", "step": 1, "benchmark": bench, "lang": lang, "item": range(n),
                            "acc": one if shared else (rng.random(n) < p).astype(float),
                            "acc_norm_token": one if shared else (rng.random(n) < p).astype(float)})
              for lang in langs]
    return pd.concat(frames, ignore_index=True)


def test_a_mean_over_independent_languages_has_the_pooled_se():
    """MultiBLiMP's items differ per language: the mean over languages is the mean of the
    languages' scores, and its bootstrap SE the pooled √(Σ SEₗ²) / L of independent means."""
    langs = ["deu", "eng", "fra", "ita", "nld"]
    agg = bootstrap.aggregate(_bernoulli_store("multiblimp", langs, 300, shared=False), n=3000, seed=2)
    per, mean = agg[agg.lang != bootstrap.MEAN], agg[agg.lang == bootstrap.MEAN].iloc[0]
    assert mean.score == pytest.approx(per.score.mean()) and mean["items"] == 5 * 300
    assert mean.se == pytest.approx(np.sqrt((per.se ** 2).sum()) / 5, rel=0.08)
    assert mean.ci95 == pytest.approx(1.96 * mean.se)


def test_a_mean_over_languages_sharing_items_keeps_their_dependence():
    """Belebele's items are the same in every language: where the languages agree item by
    item, the mean over them is no surer than one language, and the joint resampling says so
    (adding the SEs as if independent would claim √L times less)."""
    langs = ["deu", "eng", "fra", "ita"]
    agg = bootstrap.aggregate(_bernoulli_store("belebele", langs, 300, shared=True), n=3000, seed=2)
    one, mean = agg[agg.lang == "deu"].iloc[0], agg[agg.lang == bootstrap.MEAN].iloc[0]
    assert mean.se == pytest.approx(one.se, rel=0.08)
    assert mean.se > 1.8 * np.sqrt((agg[agg.lang != bootstrap.MEAN].se ** 2).sum()) / 4


def test_aggregate_file_keeps_means_apart(tmp_path):
    agg = bootstrap.aggregate(_bernoulli_store("multiblimp", ["deu", "eng"], 20, shared=False), n=50, seed=0)
    agg.to_csv(tmp_path / "a.tsv", sep="\t", index=False)
    assert list(bootstrap.read_aggregate(tmp_path / "a.tsv").lang) == ["deu", "eng"]
    assert list(bootstrap.read_aggregate(tmp_path / "a.tsv", means=True).lang) == [bootstrap.MEAN]


def _pair_store(n: int, agree: float, seed: int) -> pd.DataFrame:
    """An expert per language (deu, nld) and their merge, answering the same n items; the
    merge gives the expert's answer with probability `agree`, a coin flip otherwise. The
    merge's rows come in reverse item order: the pairing must go by item id."""
    rng = np.random.default_rng(seed)
    frames = []
    for lang in ("deu", "nld"):
        expert = (rng.random(n) < 0.9).astype(float)
        merged = np.where(rng.random(n) < agree, expert, (rng.random(n) < 0.5).astype(float))
        frames.append(pd.DataFrame({"model": f"mono-{lang}", "lang": lang, "item": np.arange(n), "acc": expert}))
        frames.append(pd.DataFrame({"model": "linear-deu+nld", "lang": lang, "item": np.arange(n)[::-1],
                                    "acc": merged[::-1]}))
    return pd.concat(frames, ignore_index=True).assign(step=240, benchmark="multiblimp")


@pytest.mark.parametrize("agree", [0.3, 0.9])
def test_a_pairs_delta_ci_is_the_paired_se_of_its_item_differences(agree):
    """Δ's CI resamples items with both models' answers to them: its SE is that of the mean
    item difference, √(Σₗ var(dₗ)/n) / L, far below what two independent scores would give
    when the merge mostly agrees with the expert."""
    from mergelimits import analysis

    store = _pair_store(400, agree, seed=3)
    agg = bootstrap.aggregate(store, n=50, seed=0, means=False)
    models = catalog_of(["deu", "nld"], [("deu", "nld")])
    d = analysis.delta(agg, models, [("deu", "nld")], "linear", 240, store=store, n=4000, seed=1).iloc[0]
    diffs = []
    for lang in ("deu", "nld"):
        one = store[store.lang == lang].pivot(index="item", columns="model", values="acc")
        diffs.append(100 * (one["linear-deu+nld"] - one[f"mono-{lang}"]).to_numpy())
    assert d.delta == pytest.approx(np.mean([x.mean() for x in diffs]))
    paired = np.sqrt(sum(x.var(ddof=0) / len(x) for x in diffs)) / 2
    assert d.delta_ci95 == pytest.approx(1.96 * paired, rel=0.08)
    unpaired = np.sqrt(sum(agg[agg.lang == lang].se.pow(2).sum() for lang in ("deu", "nld"))) / 2
    if agree == 0.9:
        assert d.delta_ci95 < 0.8 * 1.96 * unpaired


def test_a_pairs_delta_ci_needs_the_same_items():
    from mergelimits import analysis

    store = _pair_store(50, 0.5, seed=0)
    agg = bootstrap.aggregate(store, n=20, seed=0, means=False)
    short = store[~((store.model == "linear-deu+nld") & (store.lang == "nld") & (store["item"] == 7))]
    with pytest.raises(KeyError, match="not the same items"):
        analysis.delta(agg, catalog_of(["deu", "nld"], [("deu", "nld")]), [("deu", "nld")], "linear", 240,
                       store=short, n=20)
