"""Beyond the paper: what branching the experts from Mixed, and weight matching them,
does to their merges (Figure 4 and the branch table), from the stored scores only.

A family is the experts branched from Mixed at one step (0: the shared init, the paper's
experts) and their merges. For each family and benchmark this gives the mean over
languages, with its bootstrap 95% CI (mergelimits.bootstrap: items resampled as the benchmark's
design allows), of:
    experts      each expert of the family on its own language
    <method>     the family's Merged-N of that merge method (linear_wm: weight-matched)
and Mixed-N at the final step as the reference every family is measured against.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import bootstrap, catalog, languages, modelid, registry

EXPERTS = "experts"  #: the series of each family's experts, each on its own language
MIXED = "mixed"  #: the series of Mixed-N at the final step (the same in every family)


def family_scores(store: pd.DataFrame, means: pd.DataFrame, models: pd.DataFrame, families: list[int],
                  methods: list[str], langs: list[str], benches: list[str], mixed: str, step: int, n: int,
                  seed: int, acc_norm: str = "token") -> pd.DataFrame:
    """One row per family × series × benchmark: score, se, ci95, languages, items.

    store: the per-item scores; means: aggregate.tsv's means over languages (bootstrap.MEAN rows);
    models: the study's catalog (models.tsv), where each family's experts and merges are.
    A missing score is an error naming it: Figure 4 never draws a family it lacks.
    """
    final = means[means["step"] == step].set_index(["model", "benchmark"])
    rows = []

    def from_means(family, series, model, bench):
        if (model, bench) not in final.index:
            raise KeyError(f"Figure 4: no mean {bench} score of {model} at step {step} in the aggregate")
        cell = final.loc[(model, bench)]
        rows.append({"family": family, "series": series, "benchmark": bench, "score": cell["score"],
                     "se": cell["se"], "ci95": cell["ci95"], "items": int(cell["items"])})

    for bench in benches:
        have = languages.available(bench, langs)
        for family in families:
            # the experts' mean: a different model per language, resampled as one mean
            cells = [(catalog.expert(models, lang, family), lang) for lang in have]
            sub = store[(store["step"] == step) & (store["benchmark"] == bench)]
            sub = sub[[(m, lang) in cells for m, lang in zip(sub["model"], sub["lang"])]]
            missing = sorted({c for c in cells} - set(zip(sub["model"], sub["lang"])))
            if missing:
                raise KeyError(f"Figure 4: no {bench} scores of {', '.join(f'{m} on {lang}' for m, lang in missing)}")
            agg = bootstrap.aggregate(sub.assign(model=EXPERTS), n, seed, acc_norm=acc_norm)
            mean = agg[agg["lang"] == bootstrap.MEAN] if len(have) > 1 else agg
            rows.append({"family": family, "series": EXPERTS, "benchmark": bench, "score": mean["score"].iloc[0],
                         "se": mean["se"].iloc[0], "ci95": mean["ci95"].iloc[0], "items": len(sub)})
            for method in methods:
                from_means(family, method, catalog.merged_all(models, method, family), bench)
        from_means(None, MIXED, mixed, bench)
    return pd.DataFrame(rows)


def cka_by_family(cka: dict[int, pd.DataFrame]) -> pd.DataFrame:
    """Per family and variant (eng, own): the mean CKA of its experts over pairs and layers,
    and the spread over pairs (SD of the per-pair means)."""
    rows = []
    for family, table in cka.items():
        for variant, g in table.groupby("variant"):
            per_pair = g.groupby(["model_a", "model_b"])["cka"].mean()
            rows.append({"family": family, "variant": variant, "cka": per_pair.mean(),
                         "sd": per_pair.std(ddof=1), "pairs": len(per_pair)})
    return pd.DataFrame(rows)


def series_label(series: str) -> str:
    if series == EXPERTS:
        return "experts (own language)"
    if series == MIXED:
        return "Mixed (final)"
    return f"Merged {registry.method(series).label}"


def table(scores: pd.DataFrame, mixed: str) -> pd.DataFrame:
    """The branch table: one row per family and series, one "μ ± CI" column per benchmark;
    Mixed-N last."""
    out = []
    keys = scores[["family", "series"]].drop_duplicates()
    for family, series in keys.itertuples(index=False):
        cells = scores[(scores["series"] == series) & (scores["family"].isna() if series == MIXED
                                                       else scores["family"] == family)]
        row = {"branched at": "–" if series == MIXED else int(family),
               "model": modelid.display(mixed) if series == MIXED else series_label(series)}
        for r in cells.itertuples():
            row[r.benchmark] = f"{r.score:.1f} ± {r.ci95:.1f}"
        out.append(row)
    return pd.DataFrame(out)


def widths(scores: pd.DataFrame) -> dict[str, float]:
    """The widest 95% CI half-width of any mean per benchmark (the power the figure has)."""
    return {b: float(np.max(g["ci95"])) for b, g in scores.groupby("benchmark")}
