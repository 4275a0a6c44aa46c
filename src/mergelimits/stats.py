"""Scores with bootstrap CIs, and the paper's tables, from the per-item score store only.

95% CI = 1.96 × SE, SE the standard deviation of the statistic over `n` bootstrap
resamples of the items (seeded). chrF++ is a corpus statistic: each resample sums the
sentences' character and word n-gram statistics and scores the sum, as sacrebleu does
for a whole corpus. Table 1: μ over the languages a benchmark has, and CV% = sample std
/ μ × 100; a missing benchmark × language is "–", excluded from μ and CV.
"""

from __future__ import annotations

import zlib

import numpy as np
import pandas as pd

from . import languages, modelid
from .evaluate import PRIMARY

DASH = "–"


def bootstrap_se(values: np.ndarray, n: int, rng: np.random.Generator) -> float:
    values = np.asarray(values, dtype=float)
    idx = rng.integers(0, len(values), size=(n, len(values)))
    return float(values[idx].mean(axis=1).std(ddof=1))


def _chrf_metric():
    from sacrebleu.metrics import CHRF

    return CHRF(word_order=2)


def chrf_corpus(hyps: list[str], refs: list[str]) -> float:
    return _chrf_metric().corpus_score(hyps, [refs]).score


def chrf_bootstrap(hyps: list[str], refs: list[str], n: int, rng: np.random.Generator) -> tuple[float, float]:
    """Corpus chrF++ and its bootstrap SE over resampled sentences."""
    metric = _chrf_metric()
    stats = np.array(metric._extract_corpus_statistics(hyps, [refs]), dtype=float)  # one row per sentence
    score = metric._compute_score_from_stats(list(stats.sum(axis=0))).score
    idx = rng.integers(0, len(hyps), size=(n, len(hyps)))
    boots = [metric._compute_score_from_stats(list(stats[i].sum(axis=0))).score for i in idx]
    return score, float(np.std(boots, ddof=1))


def aggregate(store: pd.DataFrame, n: int = 1000, seed: int = 0) -> pd.DataFrame:
    """One row per model × step × benchmark × language: score (in %), SE, CI, items."""
    rows = []
    for (model, step, bench, lang), g in store.groupby(["model", "step", "benchmark", "lang"], sort=True):
        rng = np.random.default_rng([seed, zlib.crc32(f"{model}/{int(step)}/{bench}/{lang}".encode())])
        if bench == "flores":
            score, se = chrf_bootstrap(list(g["hypothesis"].fillna("")), list(g["reference"]), n, rng)
        else:
            vals = g[PRIMARY[bench]].to_numpy(dtype=float)
            score, se = 100 * vals.mean(), 100 * bootstrap_se(vals, n, rng)
        rows.append({"model": model, "step": int(step), "benchmark": bench, "lang": lang, "metric": PRIMARY[bench],
                     "score": score, "se": se, "ci95": 1.96 * se, "items": len(g)})
    return pd.DataFrame(rows)


def table1(agg: pd.DataFrame, rows: list[tuple[str, str]], langs: list[str], benches: list[str],
           step: int) -> pd.DataFrame:
    """rows: (label, model id or 'mono' for each expert on its own language)."""
    final = agg[agg["step"] == step]
    out = []
    for label, model in rows:
        row = {"model": label}
        for bench in benches:
            have = languages.available(bench, langs)
            if model == "mono":
                cells = [final[(final.model == modelid.mono(lang)) & (final.benchmark == bench) & (final.lang == lang)]
                         for lang in have]
            else:
                cells = [final[(final.model == model) & (final.benchmark == bench) & (final.lang == lang)]
                         for lang in have]
            scores = np.array([c["score"].iloc[0] for c in cells if len(c)])
            if len(scores) != len(have):
                missing = [lang for lang, c in zip(have, cells) if not len(c)]
                raise ValueError(f"Table 1, {label}: no {bench} score for {', '.join(missing)}")
            mu = scores.mean()
            row[f"{bench} μ"] = mu
            row[f"{bench} CV%"] = scores.std(ddof=1) / mu * 100 if len(scores) > 1 and mu else np.nan
        out.append(row)
    return pd.DataFrame(out)


def per_language(agg: pd.DataFrame, bench: str, rows: list[tuple[str, str]], langs: list[str],
                 step: int) -> pd.DataFrame:
    """Tables 2-6: one benchmark, score ± CI per language; '–' where it has no data."""
    final = agg[(agg["step"] == step) & (agg["benchmark"] == bench)]
    out = []
    for label, model in rows:
        row = {"model": label}
        for lang in langs:
            m = modelid.mono(lang) if model == "mono" else model
            cell = final[(final.model == m) & (final.lang == lang)]
            row[lang] = f"{cell.score.iloc[0]:.1f} ± {cell.ci95.iloc[0]:.1f}" if len(cell) else DASH
        out.append(row)
    return pd.DataFrame(out)


def write_table(df: pd.DataFrame, stem: str, caption: str, digits: int = 1) -> list[str]:
    """CSV, Markdown and LaTeX of one table; numbers rounded for reading, not in the CSV."""
    paths = [f"{stem}.csv", f"{stem}.md", f"{stem}.tex"]
    df.to_csv(paths[0], index=False)
    shown = df.copy()
    for c in shown.columns:
        if shown[c].dtype.kind == "f":
            shown[c] = shown[c].map(lambda v: DASH if pd.isna(v) else f"{v:.{digits}f}")
    with open(paths[1], "w", encoding="utf-8") as fh:
        fh.write(f"{caption}\n\n{shown.to_markdown(index=False)}\n")
    latex = shown.to_latex(index=False, caption=caption, escape=True).replace("μ", r"$\mu$").replace("–", "--")
    with open(paths[2], "w", encoding="utf-8") as fh:
        fh.write(latex)
    return paths


def flores_examples(store: pd.DataFrame, rows: list[tuple[str, str]], lang: str, step: int, n: int) -> pd.DataFrame:
    """Table 7: the first n FLORES sentences of one language, each model family's output."""
    fl = store[(store.benchmark == "flores") & (store.lang == lang) & (store.step == step)]
    items = sorted(fl["item"].unique())[:n]
    out = []
    for item in items:
        first = fl[fl["item"] == item].iloc[0]
        row = {"source": first["source"], "reference": first["reference"]}
        for label, model in rows:
            m = modelid.mono(lang) if model == "mono" else model
            hit = fl[(fl.model == m) & (fl["item"] == item)]
            row[label] = hit["hypothesis"].iloc[0] if len(hit) else DASH
        out.append(row)
    return pd.DataFrame(out)
