"""Property-based tests (hypothesis) of the numbers the study reports: CKA's invariances,
the bootstrap SE against the analytic one, Table 1's μ and CV against numpy."""

import zlib

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from mergelimits import bootstrap, cka, tables

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
    base = cka.linear_cka(x, y)
    assert 0 <= base <= 1 + 1e-9
    assert base == pytest.approx(hsic_cka(x, y), abs=1e-7)
    q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(4, 4)))
    assert cka.linear_cka(scale * x @ q + 3.0, y) == pytest.approx(base, abs=1e-7)  # rotation, scale, shift
    assert cka.linear_cka(y, x) == pytest.approx(base, abs=1e-9)  # symmetric


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
    """The means follow the per-language rows (one index, no gaps) with the metric that
    evaluate.acc_norm names, or are left out; read_aggregate gives either part as written."""
    store = _bernoulli_store("belebele", ["deu", "eng"], 20, shared=False).assign(acc_norm_char=1.0)
    agg = bootstrap.aggregate(store, n=50, seed=0, acc_norm="char")
    assert list(agg.index) == [0, 1, 2] and set(agg.metric) == {"acc_norm_char"} and set(agg.score) == {100.0}
    assert bootstrap.MEAN not in set(bootstrap.aggregate(store, n=50, seed=0, means=False).lang)
    agg.to_csv(tmp_path / "a.tsv", sep="\t", index=False)
    per, means = bootstrap.read_aggregate(tmp_path / "a.tsv"), bootstrap.read_aggregate(tmp_path / "a.tsv", means=True)
    assert list(per.lang) == ["deu", "eng"] and list(means.lang) == [bootstrap.MEAN]
    assert list(per.columns) == list(agg.columns) and list(means.index) == [0]


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


class Draws:
    """numpy's Generator as far as the bootstrap uses it (`integers`), returning resamples the
    test chose, in turn: the statistic over given resamples is then checked by hand, which
    seeded draws cannot show exactly. Each call's range is kept: every item must be drawable."""

    def __init__(self, *draws):
        self.draws, self.ranges = [np.asarray(d) for d in draws], []

    def integers(self, low, high=None, size=None):
        self.ranges.append((0, low) if high is None else (low, high))
        drawn = self.draws.pop(0)
        assert drawn.shape == size
        return drawn


def _draws_for_every_cell(monkeypatch, *draws) -> tuple[list, list[Draws]]:
    """default_rng, in the bootstrap module, answering with Draws (one per cell, in turn);
    the seeds asked for kept."""
    seeds, rngs = [], [Draws(*d) for d in draws]
    given = iter(rngs)
    monkeypatch.setattr(bootstrap.np.random, "default_rng", lambda seed: seeds.append(seed) or next(given))
    return seeds, rngs


def test_a_cells_se_is_the_sample_sd_of_its_resampled_means(monkeypatch):
    """aggregate(): SE = the sample SD (ddof 1) of the score over the resamples, in points;
    each cell's generator seeded by (seed, the cell); every item drawable."""
    acc = np.array([1.0, 0.0, 0.0, 1.0])
    store = pd.DataFrame({"model": "m", "step": 3, "benchmark": "multiblimp", "lang": "deu", "item": range(4),
                          "acc": acc})
    idx = np.array([[0, 0, 0, 0], [0, 1, 2, 3], [1, 2, 2, 0]])
    seeds, (rng,) = _draws_for_every_cell(monkeypatch, [idx])
    cell = bootstrap.aggregate(store, n=3, seed=7).iloc[0]
    assert seeds == [[7, zlib.crc32(b"m/3/multiblimp/deu")]] and rng.ranges == [(0, 4)]
    assert cell.score == 50.0 and cell.se == pytest.approx(np.std(100 * acc[idx].mean(axis=1), ddof=1))


def test_a_mean_over_languages_is_the_sd_of_the_resampled_mean_by_hand(monkeypatch):
    """language_means over resamples the test chose: a benchmark with items of its own per
    language (MultiBLiMP) draws each language's items on their own; one with shared items
    (Belebele) draws item ids once, and a language without a drawn item scores the rest of
    the resample. Single-language groups give no mean and stop nothing; rows come by model
    whatever the store's order; the store's row order within a language does not matter."""
    mb = pd.DataFrame({"model": "m", "step": 1, "benchmark": "multiblimp", "lang": ["deu"] * 3 + ["eng"] * 2,
                       "item": [2, 1, 0, 1, 0], "acc": [1.0, 0.0, 0.0, 1.0, 1.0]})
    lone = mb[mb.lang == "deu"].assign(model="a")  # sorts first: one language, no mean
    bb = pd.DataFrame({"model": "m", "step": 1, "benchmark": "belebele", "lang": ["deu"] * 3 + ["eng"] * 2,
                       "item": [0, 1, 2, 0, 2], "acc": 0.0, "acc_norm_token": [1.0, 0.0, 1.0, 0.0, 1.0],
                       "acc_norm_char": 0.0})
    store = pd.concat([mb, bb, lone], ignore_index=True)
    agg = bootstrap.aggregate(store, n=20, seed=0, means=False)
    deu_idx, eng_idx = np.array([[0, 0, 0], [1, 2, 0], [2, 2, 2]]), np.array([[0, 0], [0, 1], [1, 1]])
    shared = np.array([[0, 1, 1], [2, 2, 0], [1, 1, 2]])  # item ids: eng lacks item 1
    seeds, rngs = _draws_for_every_cell(monkeypatch, [shared], [deu_idx, eng_idx])
    means = bootstrap.language_means(store, agg, n=3, seed=5)
    assert [r.ranges for r in rngs] == [[(0, 3)], [(0, 3), (0, 2)]]
    assert list(means.columns) == list(agg.columns) and list(means.benchmark) == ["belebele", "multiblimp"]
    assert seeds == [[5, zlib.crc32(f"m/1/{b}/mean".encode())] for b in ("belebele", "multiblimp")]
    mb_deu, mb_eng = np.array([0.0, 0.0, 1.0]), np.array([1.0, 1.0])  # by item id
    by_hand = (100 * mb_deu[deu_idx].mean(axis=1) + 100 * mb_eng[eng_idx].mean(axis=1)) / 2
    bb_deu = np.array([1.0, 0.0, 1.0])
    bb_eng = np.array([[0.0], [1.0, 1.0, 0.0], [1.0]], dtype=object)  # each resample's eng items (0 and 2)
    bb_by_hand = (100 * bb_deu[shared].mean(axis=1) + 100 * np.array([np.mean(r) for r in bb_eng])) / 2
    bb_row, mb_row = means.iloc[0], means.iloc[1]
    assert mb_row.se == pytest.approx(np.std(by_hand, ddof=1)) and mb_row.metric == "acc"
    assert bb_row.se == pytest.approx(np.std(bb_by_hand, ddof=1)) and bb_row.metric == "acc_norm_token"
    assert mb_row.score == pytest.approx((100 / 3 + 100) / 2) and mb_row["items"] == 5
    assert np.allclose(means.ci95, 1.96 * means.se)


def test_a_resampled_chrf_is_sacrebleus_corpus_chrf_of_the_drawn_sentences():
    """FLORES's mean over languages: each resample's chrF++ is the corpus chrF++ (sacrebleu's)
    of the sentences it drew, a sentence drawn twice counted twice, one the language lacks
    (-1) left out."""
    hyps, refs = ["der Hund schläft", "ein Haus", "", "sehr gut"], ["der Hund schläft", "das Haus", "gut", "gut"]
    g = pd.DataFrame({"hypothesis": [*hyps[:2], None, hyps[3]], "reference": refs, "chrf": 0.0})
    idx = np.array([[0, 1, 2, 3], [3, 3, -1, 1], [0, 0, 0, -1], [-1, 2, 2, 2]])
    got = bootstrap._resampled(g, "chrf", idx)
    expected = [bootstrap.chrf_corpus([hyps[i] for i in row if i >= 0], [refs[i] for i in row if i >= 0])
                for row in idx]
    assert got == pytest.approx(expected)
    acc = pd.DataFrame({"acc": [1.0, 0.0, 0.0, 1.0]})
    assert bootstrap._resampled(acc, "acc", idx) == pytest.approx([50.0, 200 / 3, 100.0, 0.0])


def test_a_pairs_difference_over_chosen_resamples_by_hand():
    """paired_difference(): per language the items' differences (by item id), their mean over
    languages, and the sample SD of the resampled means; rows of another benchmark or step
    never enter; a language a model lacks is an error naming both models."""
    rows = []
    for lang, expert, merged in (("deu", [1, 1, 0, 1], [1, 0, 0, 0]), ("nld", [0, 1, 1], [1, 1, 0])):
        for model, acc in ((f"mono-{lang}", expert), ("merged", merged)):
            rows += [{"model": model, "step": 9, "benchmark": "multiblimp", "lang": lang, "item": i, "acc": a}
                     for i, a in enumerate(acc)]
    store = pd.DataFrame(rows)
    decoys = pd.concat([store.assign(step=8, acc=1.0 - store.acc), store.assign(benchmark="belebele", acc=0.5)])
    store = pd.concat([decoys, store.iloc[::-1]], ignore_index=True)
    refs = {"deu": "mono-deu", "nld": "mono-nld"}
    d_deu, d_nld = 100 * np.array([0, -1, 0, -1]), 100 * np.array([1, 0, -1])
    i_deu, i_nld = np.array([[0, 1, 2, 3], [1, 1, 3, 3], [0, 0, 2, 2]]), np.array([[0, 0, 0], [1, 2, 2], [0, 1, 2]])
    rng = Draws(i_deu, i_nld)
    delta, se = bootstrap.paired_difference(store, "merged", refs, 9, "multiblimp", 3, rng)
    assert rng.ranges == [(0, 4), (0, 3)]
    assert delta == pytest.approx((d_deu.mean() + d_nld.mean()) / 2)
    assert se == pytest.approx(np.std((d_deu[i_deu].mean(axis=1) + d_nld[i_nld].mean(axis=1)) / 2, ddof=1))
    lacking = store[~((store.model == "mono-nld") & (store.step == 9) & (store.benchmark == "multiblimp"))]
    with pytest.raises(KeyError, match=r"^'merged and mono-nld on multiblimp/nld at step 9: no scores"):
        bootstrap.paired_difference(lacking, "merged", refs, 9, "multiblimp", 3, Draws(i_deu, i_nld))
