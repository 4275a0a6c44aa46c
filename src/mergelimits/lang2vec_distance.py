"""Typological distance between languages from lang2vec's bundled URIEL data (offline).

As DistaLs' `lang2vec_knn`: the kNN-imputed syntax, phonology and inventory features,
concatenated, and the cosine distance over the features both languages have. lang2vec
1.1.2 has no distance function, so the cosine is computed here.
"""

from __future__ import annotations

import warnings
from functools import cache
from itertools import combinations

import numpy as np
import pandas as pd

from . import languages

FEATURE_SETS = ("syntax_knn", "phonology_knn", "inventory_knn")


@cache
def _features(codes: tuple[str, ...], feature_set: str) -> dict[str, np.ndarray]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lang2vec imports the deprecated pkg_resources
        import lang2vec.lang2vec as l2v  # seconds: it loads its feature tables on import

        feats = l2v.get_features(list(codes), feature_set)
    return {c: np.array([np.nan if v == "--" else float(v) for v in feats[c]]) for c in codes}


def vectors(langs: list[str], feature_sets=FEATURE_SETS) -> dict[str, np.ndarray]:
    codes = tuple(languages.get(lang).source_code("lang2vec") for lang in langs)
    parts = [_features(codes, fs) for fs in feature_sets]
    return {lang: np.concatenate([p[code] for p in parts]) for lang, code in zip(langs, codes)}


def cosine_distance(a: np.ndarray, b: np.ndarray) -> float:
    both = ~(np.isnan(a) | np.isnan(b))
    if not both.any():
        raise ValueError("no feature is known for both languages")
    a, b = a[both], b[both]
    return float(1 - a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def distances(langs: list[str]) -> pd.DataFrame:
    vec = vectors(langs)
    return pd.DataFrame([{"lang_a": a, "lang_b": b, "pair": f"{a}+{b}", "lang2vec_knn": cosine_distance(vec[a], vec[b])}
                         for a, b in combinations(langs, 2)])
