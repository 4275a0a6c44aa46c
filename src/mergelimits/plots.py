"""The paper's figures, from stored tables only (never from models)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from . import modelid


def _save(fig, stem: str) -> list[str]:
    paths = [f"{stem}.png", f"{stem}.pdf"]
    fig.tight_layout()
    for p in paths:
        # No creation date in the PDF: two runs of the study give byte-identical figures.
        fig.savefig(p, dpi=150, metadata={"CreationDate": None} if p.endswith(".pdf") else None)
    plt.close(fig)
    return paths


def mean_over_languages(scores: pd.DataFrame) -> pd.DataFrame:
    """Per step: the mean score over languages and its 95% CI. The languages' items are
    separate samples, so the mean's SE is √(Σ SEₗ²) / L from the per-language bootstrap SEs."""
    g = scores.groupby("step")
    out = pd.DataFrame({"score": g["score"].mean(), "se": g["se"].apply(lambda s: np.sqrt((s ** 2).sum()) / len(s))})
    out["ci95"] = 1.96 * out["se"]
    return out


def figure1(agg: pd.DataFrame, mixed: str, merged: dict[str, str], langs: list[str], stem: str) -> list[str]:
    """MultiBLiMP across training steps: Mixed vs each Merged method, average (with 95% CI
    bands; a method merged at one step only is a point with its CI) and per language."""
    mb = agg[agg.benchmark == "multiblimp"]
    models = {mixed.capitalize(): mixed, **merged}
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    for i, (label, model) in enumerate(models.items()):
        mean = mean_over_languages(mb[mb.model == model])
        colour = f"C{i}"
        if len(mean) > 1:
            ax.plot(mean.index, mean.score, marker="o", color=colour, label=label)
            ax.fill_between(mean.index, mean.score - mean.ci95, mean.score + mean.ci95, color=colour, alpha=0.2, lw=0)
        else:
            ax.errorbar(mean.index, mean.score, yerr=mean.ci95, fmt="D", color=colour, capsize=3, label=label)
    ax.axhline(50, color="grey", ls=":", lw=1, label="chance")
    ax.set(xlabel="training step", ylabel="MultiBLiMP accuracy (%)", title="Mean over languages")
    ax.legend(fontsize=8)
    colours = plt.cm.tab10(np.linspace(0, 1, len(langs)))
    first_merged = next(iter(merged.values()))
    for c, lang in zip(colours, langs):
        for model, ls in ((mixed, "-"), (first_merged, "--")):
            m = mb[(mb.model == model) & (mb.lang == lang)].sort_values("step")
            if len(m):
                ax2.plot(m.step, m.score, ls=ls, color=c, label=lang if model == mixed else None)
    ax2.set(xlabel="training step", ylabel="accuracy (%)",
            title=f"Per language: {mixed} (solid) vs {first_merged} (dashed)")
    ax2.legend(fontsize=7, ncol=2)
    return _save(fig, stem)


def figure2(agg: pd.DataFrame, method: str, order: list[str], stem: str) -> list[str]:
    """Per-language MultiBLiMP across successive merges of 2..N models, from k = 1: the first
    expert of the order alone on every language (as the authors plot it)."""
    mb = agg[(agg.benchmark == "multiblimp") & agg.model.str.startswith(f"{method}-succ")].copy()
    mb["k"] = mb.model.str.extract(r"succ(\d+)$")[0].astype(int)
    first = agg[(agg.benchmark == "multiblimp") & (agg.model == modelid.mono(order[0]))
                & (agg.step == mb.step.max())].assign(k=1)
    mb = pd.concat([first, mb])
    fig, ax = plt.subplots(figsize=(7, 4))
    for lang, g in mb.groupby("lang"):
        g = g.sort_values("k")
        joined = order.index(lang) + 1 if lang in order else None
        ax.plot(g.k, g.score, marker=".", label=f"{lang} (joins at {joined})")
    ax.axhline(50, color="grey", ls=":", lw=1)
    ax.set(xlabel=f"models merged (k = 1: {modelid.mono(order[0])} alone)", ylabel="MultiBLiMP accuracy (%)",
           title=f"Successive {method} merges")
    ax.legend(fontsize=7, ncol=2)
    return _save(fig, stem)


def figure3(pairs: pd.DataFrame, corr: pd.DataFrame, stem: str) -> list[str]:
    """Mean CKA (English) against Δ, with the least-squares line and r, ρ, p."""
    x, y = pairs["cka_eng"].to_numpy(float), pairs["delta"].to_numpy(float)
    c = corr.set_index("measure").loc["mean CKA (English)"]
    fig, ax = plt.subplots(figsize=(6, 4.5))
    ax.scatter(x, y, s=18)
    for _, r in pairs.iterrows():
        ax.annotate(r.pair, (r.cka_eng, r.delta), fontsize=6, alpha=0.7)
    slope, intercept = np.polyfit(x, y, 1)
    xs = np.linspace(x.min(), x.max(), 10)
    ax.plot(xs, slope * xs + intercept, color="C3",
            label=f"r = {c.pearson_r:.2f} (p = {c.pearson_p:.3f}), ρ = {c.spearman_rho:.2f} (p = {c.spearman_p:.3f})")
    ax.set(xlabel="mean layer-wise CKA (English)", ylabel="Δ = merged − expert, MultiBLiMP (points)",
           title="Merge drop vs similarity")
    ax.legend(fontsize=8)
    return _save(fig, stem)


def cka_heatmap(cka: pd.DataFrame, langs: list[str], stem: str) -> list[str]:
    sub = cka[cka.variant == "eng"].groupby(["model_a", "model_b"])["cka"].mean()
    m = np.eye(len(langs))
    for i, a in enumerate(langs):
        for j, b in enumerate(langs):
            if i != j:
                key = (modelid.mono(a), modelid.mono(b))
                m[i, j] = sub.get(key, sub.get(key[::-1], np.nan))
    fig, ax = plt.subplots(figsize=(6, 5))
    im = ax.imshow(m, cmap="viridis")
    ax.set_xticks(range(len(langs)), langs)
    ax.set_yticks(range(len(langs)), langs)
    for i in range(len(langs)):
        for j in range(len(langs)):
            ax.text(j, i, f"{m[i, j]:.2f}", ha="center", va="center", fontsize=6, color="w")
    fig.colorbar(im, label="mean linear CKA (English)")
    ax.set_title("Representational similarity of the monolingual models")
    return _save(fig, stem)
