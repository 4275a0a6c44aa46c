"""Similarity between models: parametric measures (the paper's Appendix C).

For each pair of monolingual models, as the paper words them: layer-wise cosine similarity
of the weights (and of the task vectors against the shared init, which is what separates
models that share an init), mean absolute difference of stable ranks (‖W‖F² / σmax²) and of
L2 norms over the weight matrices of the transformer layers.

And as the authors computed them (`02-analysis/model_similarity.py`; docs/fidelity.md): the
cosine of the whole flattened models and the L2 distance ‖θa − θb‖ (every tensor, the
embeddings included, the tied `lm_head.weight` not twice), and the mean absolute difference
of stable ranks over every matrix, each σmax from 20 power iterations.
"""

from __future__ import annotations

import re
from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from safetensors import safe_open
from safetensors.torch import load_file
from scipy.sparse.linalg import ArpackError, svds

from .modelid import WEIGHTS

_LAYER = re.compile(r"^model\.layers\.(\d+)\.")


#: ARPACK's convergence tolerance for the largest singular value (relative); the tests hold
#: the estimate to 1e-9 of LAPACK's exact value on matrices with and without a spectral gap
SPECTRAL_TOL = 1e-10


def spectral_norm(w: torch.Tensor) -> float:
    """The largest singular value by Lanczos bidiagonalisation (ARPACK through scipy's
    `svds`, from a fixed start vector, so the same matrix gives the same number): a few
    matrix-vector products where an exact SVD computes every singular value. For a
    2048 × 8192 matrix on two cores: 2.9 s against 37 s, equal to 1e-15 (perf/README.md);
    at paper size it keeps parametric_similarity from an hour of SVDs."""
    a = w.detach().double().cpu().numpy()
    if min(a.shape) < 3:  # svds needs k < min(shape); exact is instant here
        return float(np.linalg.norm(a, 2))
    v0 = np.random.default_rng(0).standard_normal(min(a.shape))
    try:
        return float(svds(a, k=1, tol=SPECTRAL_TOL, v0=v0, return_singular_vectors=False)[0])
    except ArpackError:  # a spectrum with no gap at all (e.g. an identity): no shift to restart with
        return float(np.linalg.norm(a, 2))


def stable_rank(w: torch.Tensor) -> float:
    """‖W‖_F² / ‖W‖_2²."""
    return float(torch.linalg.matrix_norm(w.double(), "fro").item() ** 2 / spectral_norm(w) ** 2)


#: the authors' power iterations per spectral norm (`spectral_norm_power_iter`, n_iter=20)
POWER_ITERATIONS = 20
#: tensors the authors' whole-model measures skip: tied to the embeddings, counted once
TIED = {"lm_head.weight"}


#: rows per block of the power iteration's float64 copy: each product is summed over the
#: blocks in a fixed order (converting blocks again at every product instead of copying once
#: took 19× as long: perf/README.md)
POWER_ROWS = 4096


def _blocks(w: torch.Tensor) -> list[torch.Tensor]:
    return list(w.detach().reshape(w.shape[0], -1).double().split(POWER_ROWS))


def spectral_norm_power(w: torch.Tensor, n_iter: int = POWER_ITERATIONS) -> float:
    """σmax after `n_iter` power iterations of WᵀW, as the authors' `spectral_norm_power_iter`
    (|uᵀWv| at the end), from a fixed start (theirs was unseeded), in float64. A lower bound
    that converges slowly where the top singular values crowd together."""
    blocks = _blocks(w)
    v = torch.randn(blocks[0].shape[1], generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    v = v / v.norm()

    def mv(v):
        return torch.cat([b.double() @ v for b in blocks])

    for _ in range(n_iter):
        u = mv(v)
        u = u / u.norm()
        v = sum(b.double().T @ ub for b, ub in zip(blocks, u.split(POWER_ROWS)))
        v = v / v.norm()
    return float((u @ mv(v)).abs())


def stable_rank_power(w: torch.Tensor) -> float:
    """The authors' stable rank: ‖W‖_F² over σmax² from 20 power iterations."""
    fro = sum(float(b.double().pow(2).sum()) for b in _blocks(w))
    return fro / spectral_norm_power(w) ** 2 if fro else 0.0


def _cos(a: torch.Tensor, b: torch.Tensor) -> float:
    return torch.nn.functional.cosine_similarity(a, b, dim=0).item()


def layer_tensors(names) -> dict[int, list[str]]:
    """The tensors of each transformer layer, in a fixed order."""
    by_layer: dict[int, list[str]] = {}
    for k in sorted(names):
        m = _LAYER.match(k)
        if m:
            by_layer.setdefault(int(m[1]), []).append(k)
    return dict(sorted(by_layer.items()))


#: elements per slice of a tensor that one Gram update reads from every model (float64):
#: 4M × 8 B × 11 models ≈ 350 MB whatever the models' size
CHUNK = 1 << 22


def parametric(models: dict[str, str | Path], init: str | Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """models: language -> checkpoint dir. Returns (one row per pair, one row per pair × layer).

    Streams: each tensor is read from every model, then a slice at a time goes into
    per-layer Gram matrices of the weights and of the task vectors (float64), from
    which every pair's cosine follows: peak memory is a tensor per model, not the models.
    """
    langs = list(models)
    files = {lang: Path(models[lang]) / WEIGHTS for lang in langs}
    base_file = Path(init) / WEIGHTS

    def read(f: Path, name: str) -> torch.Tensor:
        # Opened per tensor: a mapping kept open would keep every page read so far resident.
        with safe_open(str(f), "pt") as h:
            return h.get_tensor(name)

    names_of = {}
    for lang, f in files.items():
        with safe_open(str(f), "pt") as h:
            names_of[lang] = sorted(set(h.keys()) - TIED)
    for lang in langs[1:]:
        if names_of[lang] != names_of[langs[0]]:
            raise ValueError(f"{files[langs[0]]} and {files[lang]} have different tensors")
    layer_of = {name: layer for layer, names in layer_tensors(names_of[langs[0]]).items() for name in names}
    n = len(langs)
    # per layer (the paper's wording) and over the whole model (the authors' measures)
    gram, task_gram, whole = {}, {}, np.zeros((n, n))
    stats = {lang: [] for lang in langs}
    power = {lang: [] for lang in langs}
    for name in names_of[langs[0]]:
        layer = layer_of.get(name)
        ws = [read(files[lang], name) for lang in langs]
        if ws[0].ndim >= 2:
            for lang, w in zip(langs, ws):
                power[lang].append(stable_rank_power(w))
                if layer is not None and w.ndim == 2:
                    stats[lang].append({"tensor": name, "stable_rank": stable_rank(w),
                                        "l2_norm": w.double().norm().item()})
        w0 = read(base_file, name).double().flatten() if layer is not None else None
        g, t = gram.setdefault(layer, np.zeros((n, n))), task_gram.setdefault(layer, np.zeros((n, n)))
        for start in range(0, ws[0].numel(), CHUNK):
            x = torch.stack([w.flatten()[start:start + CHUNK].double() for w in ws])
            xx = (x @ x.T).numpy()
            whole += xx
            if layer is not None:
                g += xx
                d = x - w0[start:start + CHUNK]
                t += (d @ d.T).numpy()
        del ws
    gram.pop(None, None)
    task_gram.pop(None, None)
    gram, task_gram = dict(sorted(gram.items())), dict(sorted(task_gram.items()))
    stats = {lang: pd.DataFrame(rows).set_index("tensor") for lang, rows in stats.items()}
    power = {lang: np.array(v) for lang, v in power.items()}

    def cos(m: np.ndarray, i: int, j: int) -> float:
        return float(m[i, j] / max(np.sqrt(m[i, i] * m[j, j]), 1e-8))  # torch's cosine_similarity eps

    pairs, layers = [], []
    for (i, a), (j, b) in combinations(enumerate(langs), 2):
        per_layer = [{"lang_a": a, "lang_b": b, "layer": layer, "cosine": cos(gram[layer], i, j),
                      "cosine_task_vector": cos(task_gram[layer], i, j)} for layer in gram]
        layers += per_layer
        diff = (stats[a] - stats[b]).abs()
        per_layer = pd.DataFrame(per_layer)
        pairs.append({"lang_a": a, "lang_b": b, "pair": f"{a}+{b}",
                      "cosine": per_layer["cosine"].mean(),
                      "cosine_task_vector": per_layer["cosine_task_vector"].mean(),
                      "stable_rank_diff": diff["stable_rank"].mean(),
                      "l2_norm_diff": diff["l2_norm"].mean(),
                      "cosine_whole": cos(whole, i, j),
                      "l2_distance": float(np.sqrt(max(whole[i, i] + whole[j, j] - 2 * whole[i, j], 0.0))),
                      "stable_rank_diff_power": float(np.abs(power[a] - power[b]).mean()),
                      "layers": len(per_layer)})
    return pd.DataFrame(pairs), pd.DataFrame(layers)


# --- is the initialisation the published models' own? ------------------------------------

def init_agreement(init_dir: str | Path, published_dir: str | Path) -> pd.DataFrame:
    """Per-tensor cosine between the shared initialisation and an early published checkpoint
    of a model said to start from it; one row per tensor (name, elements, cosine, matrix)."""
    init, pub = load_file(Path(init_dir) / WEIGHTS), load_file(Path(published_dir) / WEIGHTS)
    if init.keys() != pub.keys():
        diff = sorted(set(init) ^ set(pub))[:5]
        raise ValueError(f"{published_dir} and the init {init_dir} have different tensors ({', '.join(diff)} ...)")
    rows = []
    for k in sorted(init):
        if init[k].shape != pub[k].shape:
            raise ValueError(f"{k}: shape {tuple(pub[k].shape)} in {published_dir}, {tuple(init[k].shape)} in the init")
        rows.append({"tensor": k, "elements": init[k].numel(), "matrix": init[k].ndim == 2,
                     "cosine": _cos(init[k].double().flatten(), pub[k].double().flatten())})
    return pd.DataFrame(rows)


def verify_init(agreement: pd.DataFrame, min_cosine: float, published: str) -> float:
    """The median cosine over weight matrices; a ValueError below `min_cosine`.

    Norm weights start at 1 in every initialisation, so only matrices tell inits apart. Two
    unrelated random matrices of n entries have |cosine| ≲ 5/√n (≈ 0.001 for 2048²); a
    checkpoint inside the warm-up moved each entry by at most Σ lr under Adam (≈ 0.03 after
    HPLT's first 1,000 steps, against an init std of 0.02), which keeps its cosine with its
    own init above ≈ 0.55. A threshold of 0.2 separates the two with room on both sides."""
    mats = agreement[agreement.matrix]
    median = float(mats.cosine.median())
    if median < min_cosine:
        worst = mats.nsmallest(3, "cosine")
        raise ValueError(f"the shared initialisation is not {published}'s own: median cosine over "
                         f"{len(mats)} weight matrices {median:.4f} < pretrain.verify_init.min_cosine {min_cosine} "
                         f"(lowest: {', '.join(f'{r.tensor} {r.cosine:.4f}' for r in worst.itertuples())})")
    return median
