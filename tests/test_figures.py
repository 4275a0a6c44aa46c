"""The figures read at a glance and plot what they claim: each is built from a made-up table
whose values are known, then its artists are inspected (not just its file size)."""

import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_rgba

from mergelimits import modelid, plots

from .conftest import catalog_of

LANGS = ["ara", "deu", "eng", "fra", "ita", "nld", "rus", "spa", "tur"]
STEPS = [60, 120, 180, 240]


def _agg(rng, models, steps=STEPS, langs=LANGS):
    rows = [{"model": m, "step": s, "benchmark": "multiblimp", "lang": lang, "score": rng.uniform(40, 90),
             "se": rng.uniform(1, 5), "items": 100} for m in models for s in steps for lang in langs]
    agg = pd.DataFrame(rows)
    agg["ci95"] = 1.96 * agg["se"]
    return agg


def _boxes_overlap(boxes):
    return [(i, j) for i in range(len(boxes)) for j in range(i + 1, len(boxes)) if boxes[i].overlaps(boxes[j])]


def _legend_outside_data(fig, ax, legend):
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    return not legend.get_window_extent(r).overlaps(ax.get_window_extent(r))


def test_figure1_plots_the_mean_over_languages_with_chance_in_every_panel():
    rng = np.random.default_rng(0)
    merged = {"Merged9 linear": modelid.merged_all("linear", 9)}
    agg = _agg(rng, ["mixed9", "linear-all9"])
    agg = pd.concat([agg, _agg(rng, ["ties-all9"], steps=[240])])
    merged["Merged9 TIES"] = "ties-all9"
    fig = plots.build_figure1(agg, "mixed9", merged, LANGS)
    mean_ax = fig.subfigs[0].axes[0]
    line = next(a for a in mean_ax.get_lines() if a.get_gid() == "mean:mixed9")
    expected = agg[agg.model == "mixed9"].groupby("step")["score"].mean()
    np.testing.assert_allclose(line.get_ydata(), expected.to_numpy())
    assert {t.get_text() for t in mean_ax.get_legend().get_texts()} >= {"Mixed9", "Merged9 linear", "Merged9 TIES"}
    assert _legend_outside_data(fig, mean_ax, mean_ax.get_legend())
    panels = [a for a in fig.subfigs[1].axes if a.get_visible()]
    assert [a.get_title() for a in panels] == LANGS
    for a in panels:
        assert any(line.get_gid() == "chance" and line.get_ydata()[0] == 50 for line in a.get_lines())
        lang = a.get_title()
        mine = next(line for line in a.get_lines() if line.get_gid() == f"lang:{lang}:mixed9")
        np.testing.assert_allclose(mine.get_ydata(),
                                   agg[(agg.model == "mixed9") & (agg.lang == lang)].sort_values("step").score)


def test_figure2_legend_sits_beside_the_data_and_says_when_each_expert_joins():
    rng = np.random.default_rng(1)
    order = ["eng", "fra", "deu"]
    agg = _agg(rng, [modelid.merged_succ("linear", k) for k in (2, 3)] + [modelid.mono("eng")], steps=[240],
               langs=order)
    fig = plots.build_figure2(agg, catalog_of(order, successive=order), "linear", order)
    ax = fig.axes[0]
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "deu (own expert from k = 3)" in texts and "eng (own expert from k = 1)" in texts
    assert _legend_outside_data(fig, ax, ax.get_legend())


def test_figure3_puts_cka_on_x_and_delta_on_y_with_labels_that_never_overlap():
    rng = np.random.default_rng(2)
    langs = ["ara", "deu", "eng", "fra", "ita", "nld", "rus", "spa", "tur", "zho"]
    pairs = pd.DataFrame([{"pair": f"{a}+{b}", "cka_eng": rng.uniform(0.3, 0.6), "delta": rng.uniform(-30, -5)}
                          for i, a in enumerate(langs) for b in langs[i + 1:]])
    # crowd a corner: several near-identical points that a label per point would stack
    pairs.loc[:5, ["cka_eng", "delta"]] = [[0.59, -5.0 - 0.05 * i] for i in range(6)]
    corr = pd.DataFrame([{"measure": "mean CKA (English)", "pearson_r": 0.3, "pearson_p": 0.04, "spearman_rho": 0.2,
                          "spearman_p": 0.1}])
    fig = plots.build_figure3(pairs, corr, "linear", 240)
    ax = fig.axes[0]
    offsets = next(c for c in ax.collections if c.get_gid() == "pairs").get_offsets()
    np.testing.assert_allclose(offsets, pairs[["cka_eng", "delta"]].to_numpy())
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    labels = [t for t in ax.texts if t.get_gid() == "pair-label"]
    assert len(labels) >= 5
    assert not _boxes_overlap([t.get_window_extent(r) for t in labels])
    assert "45 linear pairs, step 240" in ax.get_title()
    assert _legend_outside_data(fig, ax, ax.get_legend())


def test_cka_heatmap_scale_spans_the_off_diagonal_with_readable_text():
    langs = ["deu", "eng", "fra", "nld"]
    vals = {("deu", "eng"): 0.31, ("deu", "fra"): 0.42, ("deu", "nld"): 0.59, ("eng", "fra"): 0.35,
            ("eng", "nld"): 0.5, ("fra", "nld"): 0.45}
    cka = pd.DataFrame([{"variant": "eng", "model_a": modelid.mono(a), "model_b": modelid.mono(b), "layer": layer,
                         "cka": v} for (a, b), v in vals.items() for layer in (0, 1)])
    fig = plots.build_cka_heatmap(cka, catalog_of(langs), langs)
    ax = fig.axes[0]
    im = ax.images[0]
    assert (im.norm.vmin, im.norm.vmax) == pytest.approx((0.31, 0.59))
    assert len(ax.texts) == len(vals) * 2  # both triangles, no diagonal
    for t in ax.texts:
        background = im.cmap(im.norm(float(t.get_text())))
        assert to_rgba(t.get_color()) == to_rgba(plots.text_colour(background))
    # viridis: dark at the bottom of the scale, light at the top
    assert plots.text_colour(im.cmap(0.0)) == "white" and plots.text_colour(im.cmap(1.0)) == "black"


def test_a_mean_over_languages_of_shared_items_is_not_given_independent_cis():
    """Belebele's (and HellaSwag's, X-CSQA's, FLORES') items are the same in every language:
    adding the languages' SEs as if independent would understate the CI."""
    rng = np.random.default_rng(3)
    agg = _agg(rng, ["mixed9"])
    assert len(plots.mean_over_languages(agg)) == len(STEPS)
    with pytest.raises(ValueError, match="belebele: the same items in every language"):
        plots.mean_over_languages(agg.assign(benchmark="belebele"))


def test_figure4_plots_each_family_at_its_branch_step_with_mixed_and_chance():
    """Figure 4: one panel per benchmark and one for CKA; every family's experts and Merged-N
    at their branch step with their CI as error bars; Mixed's score as a line; chance dotted
    where the benchmark has one; the legend outside the data."""
    rows = []
    for bench in ("multiblimp", "flores"):
        for fam, base in ((0, 50.0), (120, 70.0)):
            rows += [{"family": fam, "series": "experts", "benchmark": bench, "score": base + 20, "ci95": 1.0},
                     {"family": fam, "series": "linear", "benchmark": bench, "score": base, "ci95": 2.0},
                     {"family": fam, "series": "linear_wm", "benchmark": bench, "score": base + 5, "ci95": 3.0}]
        rows.append({"family": None, "series": "mixed", "benchmark": bench, "score": 80.0, "ci95": 1.5})
    scores = pd.DataFrame(rows)
    cka = pd.DataFrame({"family": [0, 0, 120, 120], "variant": ["eng", "own"] * 2, "cka": [0.5, 0.4, 0.8, 0.7],
                        "sd": 0.05})
    fig = plots.build_figure4(scores, cka, ["multiblimp", "flores"], ["linear", "linear_wm"], "mixed10")
    axes = fig.axes
    assert [ax.get_title() for ax in axes] == ["multiblimp", "flores", "experts' CKA"]
    mb = axes[0]
    lines = {line.get_label(): line for line in mb.get_lines()}
    series = {c.get_label(): c for c in mb.containers}
    assert set(series) == {"experts (own language)", "Merged linear", "Merged linear + WM"}
    ys = series["Merged linear"].lines[0].get_ydata()
    assert list(ys) == [50.0, 70.0]  # at the families' branch steps (offset sideways), in order
    xs = series["Merged linear"].lines[0].get_xdata()
    assert xs[0] < 60 < xs[1] and abs(xs[1] - 120) < 30
    assert list(lines["Mixed10 (final step)"].get_ydata()) == [80.0, 80.0]
    assert "chance" in lines and list(lines["chance"].get_ydata()) == [50.0, 50.0]
    assert "chance" not in {line.get_label() for line in axes[1].get_lines()}  # chrF++ has none
    seg = series["Merged linear + WM"].lines[2][0].get_segments()  # the error bars: ± the CI around each point
    assert [round(s[1][1] - s[0][1], 6) for s in seg] == [6.0, 6.0]
    assert [c.get_label() for c in axes[2].containers] == ["CKA (English)", "CKA (in-language)"]
    legend = fig.legends[0]
    assert _legend_outside_data(fig, mb, legend)
