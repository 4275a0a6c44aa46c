"""Representational similarity: layer-wise linear CKA of the activations the expert
evaluations cache (Table 8's CKA column, the CKA heatmap).

NumPy only: a CKA job pays no torch import (similarity.py's parametric measures read
weights with torch).
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd


def linear_cka(x: np.ndarray, y: np.ndarray) -> float:
    """Linear CKA (Kornblith et al. 2019) of two representations of the same n examples
    (n × d1 and n × d2), in float64: ‖Yᵀ X‖F² / (‖Xᵀ X‖F ‖Yᵀ Y‖F) after centring."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"CKA needs the same examples on both sides: {x.shape[0]} vs {y.shape[0]} rows")
    x = x - x.mean(axis=0)  # each feature centred over the examples
    y = y - y.mean(axis=0)
    norm = np.linalg.norm  # of a matrix: Frobenius
    return float(norm(y.T @ x) ** 2 / (norm(x.T @ x) * norm(y.T @ y)))


def cka_pairs(cache: dict[str, np.ndarray]) -> pd.DataFrame:
    """Layer-wise CKA of every pair of cached models; one row per pair × layer."""
    rows = []
    names = sorted(cache)
    for a, b in combinations(names, 2):
        xa, xb = cache[a], cache[b]
        if xa.shape[:2] != xb.shape[:2]:
            raise ValueError(f"activations of {a} {xa.shape} and {b} {xb.shape} differ in layers or sentences")
        for layer in range(xa.shape[0]):
            rows.append({"model_a": a, "model_b": b, "layer": layer, "cka": linear_cka(xa[layer], xb[layer])})
    return pd.DataFrame(rows)
