"""The paper's figures, from stored tables only (never from models)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from . import benchmarks, catalog, modelid
from .branching import EXPERTS, MIXED, series_label


def _save(fig, stem: str) -> list[str]:
    paths = [f"{stem}.png", f"{stem}.pdf"]
    for p in paths:
        # No creation date in the PDF: two runs of the study give byte-identical figures.
        fig.savefig(p, dpi=150, bbox_inches="tight", metadata={"CreationDate": None} if p.endswith(".pdf") else None)
    plt.close(fig)
    return paths


def mean_over_languages(scores: pd.DataFrame) -> pd.DataFrame:
    """Per step: the mean score over languages and its 95% CI. Only for a benchmark whose
    languages have separate items (MultiBLiMP): the mean's SE is then √(Σ SEₗ²) / L from the
    per-language bootstrap SEs. Where the same items are realised in every language
    (mergelimits.benchmarks: `parallel`) the languages are not independent and that formula would
    be too narrow; such a mean needs whole items resampled, so it is refused here."""
    parallel = [b for b in scores["benchmark"].unique() if benchmarks.get(b).parallel]
    if parallel:
        raise ValueError(f"{', '.join(parallel)}: the same items in every language; a CI of the mean over "
                         "languages must resample whole items, not add the languages' SEs")
    g = scores.groupby("step")
    out = pd.DataFrame({"score": g["score"].mean(), "se": g["se"].apply(lambda s: np.sqrt((s ** 2).sum()) / len(s))})
    out["ci95"] = 1.96 * out["se"]
    return out


#: MultiBLiMP chooses between two sentences
CHANCE_MULTIBLIMP = benchmarks.get("multiblimp").chance
CHANCE_LABEL = f"chance ({CHANCE_MULTIBLIMP:g}%)"


def _legend_below(ax, ncol: int = 2, **kw):
    """A legend under the axes, never over the data."""
    return ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=ncol, fontsize=8, frameon=False, **kw)


def build_figure1(agg: pd.DataFrame, mixed: str, merged: dict[str, str], langs: list[str]):
    """MultiBLiMP across training steps. Left: the mean over languages of Mixed-N and of each
    Merged-N method with its 95% CI (a band; a method merged at one step only is a point
    with its CI). Right: one small panel per language, Mixed-N against the first method's
    Merged-N, each with its per-language CI band."""
    mb = agg[agg.benchmark == "multiblimp"]
    models = {modelid.display(mixed): mixed, **merged}
    colours = {model: f"C{i}" for i, model in enumerate(models.values())}
    fig = plt.figure(figsize=(13, 5.2), layout="constrained")
    left, right = fig.subfigures(1, 2, width_ratios=[1, 1.5])
    ax = left.subplots()
    steps = sorted(mb.step.unique())
    dodge = 0.015 * (steps[-1] - steps[0] or 1)  # single-step points side by side, not on top of each other
    points = 0
    for label, model in models.items():
        mean = mean_over_languages(mb[mb.model == model])
        colour = colours[model]
        if len(mean) == 1:
            points += 1
            mean.index = mean.index + points * dodge
        if len(mean) > 1:
            ax.plot(mean.index, mean.score, marker="o", color=colour, label=label, gid=f"mean:{model}")
            ax.fill_between(mean.index, mean.score - mean.ci95, mean.score + mean.ci95, color=colour, alpha=0.2, lw=0)
        else:
            ax.errorbar(mean.index, mean.score, yerr=mean.ci95, fmt="D", color=colour, capsize=3, label=label,
                        gid=f"mean:{model}")
    ax.axhline(CHANCE_MULTIBLIMP, color="grey", ls=":", lw=1, label=CHANCE_LABEL)
    ax.set(xlabel="training step", ylabel="MultiBLiMP accuracy (%)", title="Mean over languages, 95% CI")
    _legend_below(ax)
    have = [lang for lang in langs if len(mb[mb.lang == lang])]
    first_label, first_merged = next(iter(merged.items()))
    ncols = min(5, len(have))
    axes = right.subplots(-(-len(have) // ncols), ncols, sharex=True, sharey=True, squeeze=False).ravel()
    for a, lang in zip(axes, have):
        for model, ls in ((mixed, "-"), (first_merged, "--")):
            m = mb[(mb.model == model) & (mb.lang == lang)].sort_values("step")
            a.plot(m.step, m.score, ls=ls, color=colours[model], lw=1.2, gid=f"lang:{lang}:{model}")
            a.fill_between(m.step, m.score - m.ci95, m.score + m.ci95, color=colours[model], alpha=0.15, lw=0)
        a.axhline(CHANCE_MULTIBLIMP, color="grey", ls=":", lw=1, gid="chance")
        a.set_title(lang, fontsize=9)
        a.tick_params(labelsize=7)
    for a in axes[len(have):]:
        a.set_visible(False)
    for i, a in enumerate(axes[:len(have)]):
        if i + ncols >= len(have):  # nothing below it: its own step ticks and label
            a.xaxis.set_tick_params(labelbottom=True)
            a.set_xlabel("training step", fontsize=8)
    handles = [plt.Line2D([], [], color=colours[mixed], ls="-", label=modelid.display(mixed)),
               plt.Line2D([], [], color=colours[first_merged], ls="--", label=first_label),
               plt.Line2D([], [], color="grey", ls=":", label=CHANCE_LABEL)]
    right.legend(handles=handles, loc="outside lower center", ncol=3, fontsize=8, frameon=False)
    right.supylabel("accuracy (%)", fontsize=9)
    right.suptitle("Per language, 95% CI", fontsize=10)
    return fig


def figure1(agg, mixed, merged, langs, stem: str) -> list[str]:
    return _save(build_figure1(agg, mixed, merged, langs), stem)


def build_figure2(agg: pd.DataFrame, models: pd.DataFrame, method: str, order: list[str]):
    """Per-language MultiBLiMP across successive merges of k = 1..N experts (the catalog's,
    models.tsv), from k = 1: the first expert of the order alone on every language (as the
    authors plot it). Each language's line is marked where its own expert joins the merge."""
    succ = catalog.successive(models, method)
    mb = agg[(agg.benchmark == "multiblimp")].merge(succ[["model", "k"]], on="model")
    alone = catalog.expert(models, order[0])
    first = agg[(agg.benchmark == "multiblimp") & (agg.model == alone) & (agg.step == mb.step.max())].assign(k=1)
    mb = pd.concat([first, mb])
    fig, ax = plt.subplots(figsize=(8.5, 4.2), layout="constrained")
    for i, (lang, g) in enumerate(mb.groupby("lang")):
        g = g.sort_values("k")
        joined = order.index(lang) + 1 if lang in order else None
        line, = ax.plot(g.k, g.score, marker=".", color=plt.cm.tab10(i % 10), lw=1.2,
                        label=f"{lang} (own expert from k = {joined})")
        at = g[g.k == joined]
        ax.plot(at.k, at.score, marker="o", ms=8, mfc="none", color=line.get_color())
    ax.axhline(CHANCE_MULTIBLIMP, color="grey", ls=":", lw=1, label=CHANCE_LABEL)
    ax.plot([], [], marker="o", ms=8, mfc="none", ls="", color="k", label="its expert joins")
    ax.set(xlabel=f"k: experts merged ({method}; k = 1: {modelid.display(alone)} alone)",
           ylabel="MultiBLiMP accuracy (%)", title=f"Successive {method} merges")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8, frameon=False)
    return fig


def figure2(agg, models, method, order, stem: str) -> list[str]:
    return _save(build_figure2(agg, models, method, order), stem)


def _label_extremes(ax, x, y, labels, max_labels: int = 10):
    """Names the points farthest from the data's centre, most extreme first, each at the
    first of four offsets where its box stays inside the axes and meets no label already
    placed: readable at any number of points, and the test checks no two boxes meet."""
    fig = ax.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    sx, sy = (np.std(x) or 1.0), (np.std(y) or 1.0)
    far = np.argsort(-np.hypot((x - np.mean(x)) / sx, (y - np.mean(y)) / sy), kind="stable")
    placed = []
    for i in far:
        if len(placed) == max_labels:
            break
        for dx, dy, ha in ((4, 4, "left"), (4, -10, "left"), (-4, 4, "right"), (-4, -10, "right")):
            t = ax.annotate(labels[i], (x[i], y[i]), xytext=(dx, dy), textcoords="offset points", fontsize=7, ha=ha,
                            gid="pair-label")
            box = t.get_window_extent(renderer)
            if not any(box.overlaps(b) for b in placed) and frame.contains(box.x0, box.y0) \
                    and frame.contains(box.x1, box.y1):
                placed.append(box)
                break
            t.remove()
    return placed


def build_figure3(pairs: pd.DataFrame, corr: pd.DataFrame, method: str, step: int):
    """Mean CKA (English) against Δ of every bilingual merge, with Δ's 95% CI where the pair
    table has it, the least-squares line and r, ρ, p; the most extreme pairs named."""
    x, y = pairs["cka_eng"].to_numpy(float), pairs["delta"].to_numpy(float)
    c = corr.set_index("measure").loc["mean CKA (English)"]
    fig, ax = plt.subplots(figsize=(6.5, 5.2), layout="constrained")
    if "delta_ci95" in pairs:
        ax.errorbar(x, y, yerr=pairs["delta_ci95"].to_numpy(float), fmt="none", ecolor="C0", alpha=0.35, lw=0.8,
                    gid="delta-ci")
    ax.scatter(x, y, s=18, gid="pairs")
    slope, intercept = np.polyfit(x, y, 1)
    xs = np.linspace(x.min(), x.max(), 10)
    ax.plot(xs, slope * xs + intercept, color="C3",
            label=f"least squares; r = {c.pearson_r:.2f} (p = {c.pearson_p:.3f}), "
                  f"ρ = {c.spearman_rho:.2f} (p = {c.spearman_p:.3f})")
    ax.axhline(0, color="grey", ls=":", lw=1, label="Δ = 0 (no drop)")
    ax.set(xlabel="mean layer-wise linear CKA of the two experts (English FLORES)",
           ylabel="Δ = merged − expert MultiBLiMP (points; bars: 95% CI)" if "delta_ci95" in pairs
           else "Δ = merged − expert MultiBLiMP (points)",
           title=f"Merge drop vs similarity: {len(pairs)} {method} pairs, step {step}")
    _legend_below(ax, ncol=1)
    _label_extremes(ax, x, y, list(pairs["pair"]))
    return fig


def figure3(pairs, corr, method, step, stem: str) -> list[str]:
    return _save(build_figure3(pairs, corr, method, step), stem)


def text_colour(rgba) -> str:
    """Black on light cells, white on dark ones (WCAG relative luminance)."""
    lin = [v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4 for v in rgba[:3]]
    return "black" if 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2] > 0.179 else "white"


def cka_matrix(cka: pd.DataFrame, models: pd.DataFrame, langs: list[str]) -> np.ndarray:
    """Mean CKA (English) of every pair of experts; NaN on the diagonal (a model with itself
    is 1 by definition and would squeeze the colour scale)."""
    sub = cka[cka.variant == "eng"].groupby(["model_a", "model_b"])["cka"].mean()
    m = np.full((len(langs), len(langs)), np.nan)
    for i, a in enumerate(langs):
        for j, b in enumerate(langs):
            if i != j:
                key = (catalog.expert(models, a), catalog.expert(models, b))
                m[i, j] = sub.get(key, sub.get(key[::-1], np.nan))
    return m


def build_cka_heatmap(cka: pd.DataFrame, models: pd.DataFrame, langs: list[str]):
    m = cka_matrix(cka, models, langs)
    fig, ax = plt.subplots(figsize=(6.5, 5.2), layout="constrained")
    cmap = plt.get_cmap("viridis").with_extremes(bad="#dddddd")
    im = ax.imshow(np.ma.masked_invalid(m), cmap=cmap, vmin=np.nanmin(m), vmax=np.nanmax(m))
    ax.set_xticks(range(len(langs)), langs)
    ax.set_yticks(range(len(langs)), langs)
    for i in range(len(langs)):
        for j in range(len(langs)):
            if np.isnan(m[i, j]):
                continue
            ax.text(j, i, f"{m[i, j]:.2f}", ha="center", va="center", fontsize=6,
                    color=text_colour(cmap(im.norm(m[i, j]))))
    fig.colorbar(im, label="mean linear CKA (English FLORES); diagonal omitted")
    ax.set_title("Representational similarity of the monolingual experts")
    return fig


def cka_heatmap(cka: pd.DataFrame, models: pd.DataFrame, langs: list[str], stem: str) -> list[str]:
    return _save(build_cka_heatmap(cka, models, langs), stem)


def build_figure4(scores: pd.DataFrame, cka: pd.DataFrame, benches: list[str], methods: list[str], mixed: str):
    """Beyond the paper: one panel per benchmark, the mean over languages of each family's
    experts and Merged-N by method (linear_wm: weight-matched first) against the step the
    experts branched from Mixed (0: the shared init), each with its 95% CI; Mixed-N at the
    final step as a line with its CI band, chance dotted. Last panel: the experts' mean CKA
    (English and in-language) against the branch step, ± the SD over pairs."""
    families = sorted(int(f) for f in scores["family"].dropna().unique())
    n = len(benches) + 1
    fig, axes = plt.subplots(1, n, figsize=(3.1 * n, 3.6), layout="constrained", squeeze=False)
    axes = axes[0]
    series = [EXPERTS, *methods]
    styles = {EXPERTS: dict(color="k", marker="s", ls="--")}
    styles.update({m: dict(color=f"C{i}", marker="o", ls="-") for i, m in enumerate(methods)})
    offsets = np.linspace(-0.12, 0.12, len(series)) * (max(families) - min(families) or 1) / max(1, len(families) - 1)
    for ax, bench in zip(axes, benches):
        sub = scores[scores["benchmark"] == bench]
        mx = sub[sub["series"] == MIXED].iloc[0]
        ax.axhspan(mx.score - mx.ci95, mx.score + mx.ci95, color="C7", alpha=0.25, lw=0)
        ax.axhline(mx.score, color="C7", lw=1.5, label=f"{modelid.display(mixed)} (final step)")
        chance = benchmarks.get(bench).chance
        if chance is not None:
            ax.axhline(chance, color="grey", ls=":", lw=1, label="chance")
        for off, s in zip(offsets, series):
            g = sub[sub["series"] == s].sort_values("family")
            ax.errorbar(g["family"] + off, g["score"], yerr=g["ci95"], capsize=3, ms=5, lw=1.2,
                        label=series_label(s), **styles[s])
        ax.set_title(bench, fontsize=10)
        ax.set_xticks(families)
        ax.set_xlabel("branch step")
    axes[0].set_ylabel("mean over languages (±95% CI)")
    ax = axes[-1]
    for variant, colour in (("eng", "C0"), ("own", "C1")):
        g = cka[cka["variant"] == variant].sort_values("family")
        ax.errorbar(g["family"], g["cka"], yerr=g["sd"], color=colour, marker="o", capsize=3,
                    label=f"CKA ({'English' if variant == 'eng' else 'in-language'})")
    ax.set(title="experts' CKA", xlabel="branch step", ylabel="mean CKA over pairs and layers (± SD)",
           xticks=families)
    ax.legend(fontsize=8, frameon=False, loc="lower right")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=len(labels), fontsize=8, frameon=False)
    return fig


def figure4(scores, cka, benches, methods, mixed, stem: str) -> list[str]:
    return _save(build_figure4(scores, cka, benches, methods, mixed), stem)
