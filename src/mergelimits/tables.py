"""The paper's tables, from the aggregated scores and the per-item store only.

Table 1: μ over the languages a benchmark has, and CV% = sample std / μ × 100; a missing
benchmark × language is "–", excluded from μ and CV. Tables 2-6: each benchmark per
language with its 95% CI. Table 7: FLORES sentences with each model's translation.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import languages, modelid

DASH = "–"


def row_step(model: str, step: int) -> int:
    """The step a row's scores are read at: the study's final step, or an external
    baseline's own (it has no step of this study)."""
    if modelid.is_external(model):
        return modelid.EXTERNAL_STEP
    return step


def table1(agg: pd.DataFrame, rows: list[tuple[str, str]], langs: list[str], benches: list[str],
           step: int, facts: dict[str, tuple[float | None, float | None]] | None = None) -> pd.DataFrame:
    """rows: (label, model id or 'mono' for each expert on its own language).
    facts: label -> (parameters, training tokens), in billions, as Table 1's first columns."""
    out = []
    for label, model in rows:
        final = agg[agg["step"] == row_step(model, step)]
        row = {"model": label}
        if facts is not None:
            params, tokens = facts[label]
            row["Params/B"] = np.nan if params is None else params
            row["Tokens/B"] = np.nan if tokens is None else tokens
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
    out = []
    for label, model in rows:
        final = agg[(agg["step"] == row_step(model, step)) & (agg["benchmark"] == bench)]
        row = {"model": label}
        for lang in langs:
            m = modelid.mono(lang) if model == "mono" else model
            cell = final[(final.model == m) & (final.lang == lang)]
            row[lang] = f"{cell.score.iloc[0]:.1f} ± {cell.ci95.iloc[0]:.1f}" if len(cell) else DASH
        out.append(row)
    return pd.DataFrame(out)


#: columns shown to three significant digits (a tiny model has 0.000129 billion parameters)
SIGNIFICANT = ("Params/B", "Tokens/B")


def write_table(df: pd.DataFrame, stem: str, caption: str, digits: int = 1) -> list[str]:
    """CSV, Markdown and LaTeX of one table; numbers rounded for reading, not in the CSV."""
    paths = [f"{stem}.csv", f"{stem}.md", f"{stem}.tex"]
    df.to_csv(paths[0], index=False)
    shown = df.copy()
    for c in shown.columns:
        if shown[c].dtype.kind == "f":
            fmt = "{:.3g}" if c in SIGNIFICANT else f"{{:.{digits}f}}"
            shown[c] = shown[c].map(lambda v, fmt=fmt: DASH if pd.isna(v) else fmt.format(v))
    with open(paths[1], "w", encoding="utf-8") as fh:
        fh.write(f"{caption}\n\n{shown.to_markdown(index=False)}\n")
    latex = shown.to_latex(index=False, caption=caption, escape=True).replace("μ", r"$\mu$").replace("–", "--")
    with open(paths[2], "w", encoding="utf-8") as fh:
        fh.write(latex)
    return paths


def flores_examples(store: pd.DataFrame, rows: list[tuple[str, str]], lang: str, step: int, n: int) -> pd.DataFrame:
    """Table 7: the first n FLORES sentences of one language, each model family's output."""
    fl = store[(store.benchmark == "flores") & (store.lang == lang)]
    items = sorted(fl[fl.step == step]["item"].unique())[:n]
    out = []
    for item in items:
        first = fl[fl["item"] == item].iloc[0]
        row = {"source": first["source"], "reference": first["reference"]}
        for label, model in rows:
            m = modelid.mono(lang) if model == "mono" else model
            hit = fl[(fl.model == m) & (fl["item"] == item) & (fl.step == row_step(model, step))]
            row[label] = hit["hypothesis"].iloc[0] if len(hit) else DASH
        out.append(row)
    return pd.DataFrame(out)
