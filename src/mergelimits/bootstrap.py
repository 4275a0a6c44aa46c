"""Scores with bootstrap CIs, from the per-item score store only.

95% CI = 1.96 × SE, SE the standard deviation of the statistic over `n` bootstrap
resamples of the items (seeded per cell). chrF++ is a corpus statistic: each resample sums
the sentences' character and word n-gram statistics and scores the sum, as sacrebleu does
for a whole corpus.

Each model × step × benchmark evaluated in several languages also gets a row for the mean
over its languages (`lang` = MEAN), with its own bootstrap: a benchmark whose items differ
per language (MultiBLiMP) resamples each language's items independently; one whose items
are the same in every language (mergelimits.benchmarks: `parallel`) resamples item ids once for all
languages, so the CI keeps the dependence the shared items bring.
"""

from __future__ import annotations

import zlib

import numpy as np
import pandas as pd
from sacrebleu.metrics import CHRF

from . import benchmarks


def bootstrap_se(values: np.ndarray, n: int, rng: np.random.Generator) -> float:
    values = np.asarray(values, dtype=float)
    idx = rng.integers(0, len(values), size=(n, len(values)))
    return float(values[idx].mean(axis=1).std(ddof=1))


def _chrf_metric():
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


MEAN = "mean"  #: the `lang` of a mean over languages


def _resampled(g: pd.DataFrame, metric: str, idx: np.ndarray) -> np.ndarray:
    """The statistic of one language on every resample; idx (resamples × items) indexes
    g's rows, -1 where a resample drew an item this language lacks."""
    valid = idx >= 0
    if metric == "chrf":  # a corpus statistic, from the summed n-gram counts
        m = _chrf_metric()
        stats = np.array(m._extract_corpus_statistics(list(g["hypothesis"].fillna("")), [list(g["reference"])]),
                         dtype=float)
        sums = (stats[np.where(valid, idx, 0)] * valid[..., None]).sum(axis=1)
        return np.array([m._compute_score_from_stats(list(row)).score for row in sums])
    vals = g[metric].to_numpy(dtype=float)
    drawn = np.where(valid, vals[np.where(valid, idx, 0)], np.nan)
    return 100 * np.nanmean(drawn, axis=1)


def language_means(store: pd.DataFrame, agg: pd.DataFrame, n: int = 1000, seed: int = 0,
                   acc_norm: str = "token") -> pd.DataFrame:
    """The mean over languages of every model × step × benchmark scored in two or more
    languages: the mean of the per-language scores in `agg`, its SE from a bootstrap that
    resamples items as the benchmark's design allows (module docstring)."""
    rows = []
    for (model, step, bench), g in store.groupby(["model", "step", "benchmark"], sort=True):
        langs = sorted(g["lang"].unique())
        if len(langs) < 2:
            continue
        metric = benchmarks.metric(bench, acc_norm)
        rng = np.random.default_rng([seed, zlib.crc32(f"{model}/{int(step)}/{bench}/{MEAN}".encode())])
        per_lang = {lang: g[g["lang"] == lang].sort_values("item").reset_index(drop=True) for lang in langs}
        boots = []
        if benchmarks.base(bench).parallel:
            ids = np.array(sorted(set(g["item"])))
            drawn = ids[rng.integers(0, len(ids), size=(n, len(ids)))]
            for d in per_lang.values():
                pos = pd.Series(np.arange(len(d)), index=d["item"]).reindex(ids).fillna(-1).astype(int).to_numpy()
                boots.append(_resampled(d, metric, pos[np.searchsorted(ids, drawn)]))
        else:
            for d in per_lang.values():
                boots.append(_resampled(d, metric, rng.integers(0, len(d), size=(n, len(d)))))
        cells = agg[(agg["model"] == model) & (agg["step"] == int(step)) & (agg["benchmark"] == bench)]
        se = float(np.mean(boots, axis=0).std(ddof=1))
        rows.append({"model": model, "step": int(step), "benchmark": bench, "lang": MEAN, "metric": metric,
                     "score": float(cells.set_index("lang").loc[langs, "score"].mean()), "se": se,
                     "ci95": 1.96 * se, "items": len(g)})
    return pd.DataFrame(rows, columns=agg.columns)


def paired_difference(store: pd.DataFrame, model: str, references: dict[str, str], step: int, bench: str,
                      n: int, rng: np.random.Generator, acc_norm: str = "token") -> tuple[float, float]:
    """The mean over languages of (model − that language's reference model) on one benchmark,
    in points, and its bootstrap SE. `references`: language -> the model compared with.
    Both models of a language answered the same items, so each resample draws item ids once
    and takes both answers to them (a paired bootstrap: an item's difficulty, shared by
    both, cancels); languages are resampled independently, as MultiBLiMP's items differ per
    language."""
    metric = benchmarks.metric(bench, acc_norm)
    cell = store[(store["benchmark"] == bench) & (store["step"] == step)]
    means, boots = [], []
    for lang, reference in references.items():
        a, b = (cell[(cell["model"] == m) & (cell["lang"] == lang)].set_index("item")[metric] for m in (model, reference))
        if a.empty or b.empty or set(a.index) != set(b.index):
            raise KeyError(f"{model} and {reference} on {bench}/{lang} at step {step}: no scores, or not the same "
                           f"items ({len(a)} and {len(b)})")
        diff = 100 * (a.sort_index() - b.sort_index()).to_numpy(dtype=float)
        means.append(diff.mean())
        boots.append(diff[rng.integers(0, len(diff), size=(n, len(diff)))].mean(axis=1))
    return float(np.mean(means)), float(np.mean(boots, axis=0).std(ddof=1))


def read_aggregate(path, means: bool = False) -> pd.DataFrame:
    """aggregate.tsv: the per-language rows, or with `means` only the means over languages."""
    agg = pd.read_csv(path, sep="\t")
    return agg[(agg["lang"] == MEAN) == means].reset_index(drop=True)


def aggregate(store: pd.DataFrame, n: int = 1000, seed: int = 0, means: bool = True,
              acc_norm: str = "token") -> pd.DataFrame:
    """One row per model × step × benchmark × language: score (in %), SE, CI, items; and,
    with `means`, one per model × step × benchmark for the mean over its languages.
    `acc_norm`: evaluate.acc_norm (benchmarks.metric); the metric is recorded per row."""
    rows = []
    for (model, step, bench, lang), g in store.groupby(["model", "step", "benchmark", "lang"], sort=True):
        metric = benchmarks.metric(bench, acc_norm)  # a control's is its benchmark's
        rng = np.random.default_rng([seed, zlib.crc32(f"{model}/{int(step)}/{bench}/{lang}".encode())])
        if metric == "chrf":
            score, se = chrf_bootstrap(list(g["hypothesis"].fillna("")), list(g["reference"]), n, rng)
        else:
            vals = g[metric].to_numpy(dtype=float)
            score, se = 100 * vals.mean(), 100 * bootstrap_se(vals, n, rng)
        rows.append({"model": model, "step": int(step), "benchmark": bench, "lang": lang, "metric": metric,
                     "score": score, "se": se, "ci95": 1.96 * se, "items": len(g)})
    agg = pd.DataFrame(rows)
    mean_rows = language_means(store, agg, n, seed, acc_norm) if means else None
    if mean_rows is None or mean_rows.empty:  # concatenating an empty frame would make every column object
        return agg
    return pd.concat([agg, mean_rows], ignore_index=True)
