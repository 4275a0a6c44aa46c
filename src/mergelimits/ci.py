"""Scores with bootstrap CIs, from the per-item score store only.

95% CI = 1.96 × SE, SE the standard deviation of the statistic over `n` bootstrap
resamples of the items (seeded per cell). chrF++ is a corpus statistic: each resample sums
the sentences' character and word n-gram statistics and scores the sum, as sacrebleu does
for a whole corpus.
"""

from __future__ import annotations

import zlib

import numpy as np
import pandas as pd

from . import registry
from .evaluate import PRIMARY


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
        metric = PRIMARY[registry.split_variant(bench)[0]]  # a control's is its benchmark's
        rng = np.random.default_rng([seed, zlib.crc32(f"{model}/{int(step)}/{bench}/{lang}".encode())])
        if bench == "flores":
            score, se = chrf_bootstrap(list(g["hypothesis"].fillna("")), list(g["reference"]), n, rng)
        else:
            vals = g[metric].to_numpy(dtype=float)
            score, se = 100 * vals.mean(), 100 * bootstrap_se(vals, n, rng)
        rows.append({"model": model, "step": int(step), "benchmark": bench, "lang": lang, "metric": metric,
                     "score": score, "se": se, "ci95": 1.96 * se, "items": len(g)})
    return pd.DataFrame(rows)
