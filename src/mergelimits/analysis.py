"""The merge drop Δ of every bilingual pair and its correlation with similarity (Table 8).

Δ(a+b) = mean over the pair's languages that have MultiBLiMP of
         [accuracy of the bilingual merge on l] − [accuracy of mono-l on l], at the final step
(zho has no MultiBLiMP, so pairs with zho use their other language). As the paper's Table 8
and Figure 3 and the authors' `multiblimp/matrix_analysis.py` (`merged_avg − hplt_avg`): a
drop is negative, so a positive correlation means more similar models lose less.
"""

from __future__ import annotations

import zlib

import numpy as np
import pandas as pd
from scipy import stats as st

from . import bootstrap, catalog, languages, modelid

MEASURES = {  # column -> label in Table 8
    "cka_eng": "mean CKA (English)",
    "cka_own": "mean CKA (in-language)",
    "cosine": "layer-wise cosine (weights)",
    "cosine_task_vector": "layer-wise cosine (task vectors)",
    "stable_rank_diff": "stable-rank difference",
    "l2_norm_diff": "L2-norm difference",
    # the authors' (02-analysis/model_similarity.py): whole model, embeddings included
    "cosine_whole": "cosine, whole model (authors')",
    "l2_distance": "L2 distance ‖θa − θb‖ (authors')",
    "stable_rank_diff_power": "stable-rank difference, 20 power iterations (authors')",
    "lang2vec_knn": "lang2vec kNN distance",
}


def delta(agg: pd.DataFrame, models: pd.DataFrame, pairs: list[tuple[str, str]], method: str, step: int,
          branch: int = 0, store: pd.DataFrame | None = None, n: int = 1000, seed: int = 0) -> pd.DataFrame:
    """Δ of each pair (module docstring); `models`: the study's catalog (models.tsv), where
    each pair's merge and the experts are looked up; `branch`: of the experts branched from
    Mixed at that step, and their merges. With the per-item `store`, also Δ's 95% CI
    (`delta_ci95`) from a paired bootstrap of the items (bootstrap.paired_difference), seeded
    per pair."""
    mb = agg[(agg.benchmark == "multiblimp") & (agg.step == step)].set_index(["model", "lang"])["score"]
    if store is not None:  # once, not per pair: the store holds every model's every item
        store = store[(store.benchmark == "multiblimp") & (store.step == step)]
    rows = []
    for a, b in pairs:
        merged = catalog.pair(models, method, a, b, branch)
        used = [lang for lang in (a, b) if languages.get(lang).has("multiblimp")]
        experts = {lang: catalog.expert(models, lang, branch) for lang in used}
        deltas = []
        for lang in used:
            expert = experts[lang]
            for model in (expert, merged):
                if (model, lang) not in mb.index:
                    raise KeyError(f"Δ({a}+{b}): no MultiBLiMP score of {model} on {lang} at step {step}")
            deltas.append(mb[(merged, lang)] - mb[(expert, lang)])
        row = {"lang_a": a, "lang_b": b, "pair": f"{a}+{b}", "method": method, "delta": float(np.mean(deltas)),
               "languages": "+".join(used)}
        if store is not None:
            rng = np.random.default_rng([seed, zlib.crc32(f"delta/{merged}/{int(step)}".encode())])
            _, se = bootstrap.paired_difference(store, merged, {lang: experts[lang] for lang in used}, step,
                                                "multiblimp", n, rng)
            row["delta_ci95"] = 1.96 * se
        rows.append(row)
    return pd.DataFrame(rows)


def correlations(measures: pd.DataFrame, columns=MEASURES) -> pd.DataFrame:
    """Pearson r and Spearman ρ with p-values between Δ and each measure."""
    if len(measures) < 3:
        raise ValueError(f"a correlation needs at least three pairs; got {len(measures)}")
    rows = []
    for col, label in columns.items():
        if col not in measures:
            raise KeyError(f"measure {col!r} missing from the pair table")
        x, y = measures[col].to_numpy(float), measures["delta"].to_numpy(float)
        r, p_r = st.pearsonr(x, y)
        rho, p_rho = st.spearmanr(x, y)
        rows.append({"measure": label, "pearson_r": r, "pearson_p": p_r, "spearman_rho": rho, "spearman_p": p_rho,
                     "pairs": len(measures)})
    return pd.DataFrame(rows)


#: similarity.parametric's columns, in Table 8's order
PARAMETRIC = ["cosine", "cosine_task_vector", "stable_rank_diff", "l2_norm_diff", "cosine_whole", "l2_distance",
              "stable_rank_diff_power"]


def mean_cka(cka: pd.DataFrame, variant: str) -> pd.DataFrame:
    """Mean over layers of the CKA between mono-a and mono-b, keyed by language pair."""
    sub = cka[cka.variant == variant]
    out = sub.groupby(["model_a", "model_b"])["cka"].mean().reset_index()
    out["lang_a"] = out.model_a.map(modelid.mono_lang)
    out["lang_b"] = out.model_b.map(modelid.mono_lang)
    return out


def pair_table(d: pd.DataFrame, cka: pd.DataFrame, parametric: pd.DataFrame, lang2vec: pd.DataFrame) -> pd.DataFrame:
    """One row per pair: Δ and every measure, whatever order each table names the pair in."""
    def key(df):
        return df.apply(lambda r: "+".join(sorted((r.lang_a, r.lang_b))), axis=1)

    out = d.assign(key=key(d))
    for name, table, cols in (("cka_eng", mean_cka(cka, "eng"), ["cka"]), ("cka_own", mean_cka(cka, "own"), ["cka"]),
                              (None, parametric, [c for c in PARAMETRIC if c in parametric.columns]),
                              (None, lang2vec, ["lang2vec_knn"])):
        t = table.assign(key=key(table))[["key", *cols]]
        if name:
            t = t.rename(columns={"cka": name})
        missing = set(out.key) - set(t.key)
        if missing:
            raise KeyError(f"{name or cols[0]}: no value for pair(s) {', '.join(sorted(missing))}")
        out = out.merge(t, on="key", how="left")
    return out.drop(columns="key")
