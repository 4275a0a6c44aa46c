"""The paper's tables, from the aggregated scores and the per-item store only.

Table 1: μ over the languages a benchmark has, and CV% = sample std / μ × 100; a missing
benchmark × language is "–", excluded from μ and CV. Tables 2-6: each benchmark per
language with its 95% CI. Table 7: FLORES sentences with each model's translation.
"""

from __future__ import annotations

import html

import numpy as np
import pandas as pd

from . import benchmarks, languages, modelid
from .captions import FORMATS, caption_name

DASH = "–"


def row_step(model: str | dict, step: int) -> int:
    """The step a row's scores are read at: the study's final step, or an external
    baseline's own (it has no step of this study)."""
    if isinstance(model, str) and modelid.is_external(model):
        return modelid.EXTERNAL_STEP
    return step


def model_on(model: str | dict, lang: str) -> str | None:
    """The model a row scores a language with: the experts' row, that language's expert."""
    return model.get(lang) if isinstance(model, dict) else model


def _language_scores(final: pd.DataFrame, model: str | dict, bench: str, langs: list[str], where: str) -> np.ndarray:
    """One score per language of `bench` (a control's name too) for a row's model, each
    expert on its own language for the experts' row; a missing one is named."""
    cells = [final[(final.model == model_on(model, lang)) & (final.benchmark == bench)
                   & (final.lang == lang)] for lang in langs]
    missing = [lang for lang, c in zip(langs, cells) if not len(c)]
    if missing:
        raise ValueError(f"{where}: no {bench} score for {', '.join(missing)}")
    return np.array([c["score"].iloc[0] for c in cells])


def table1(agg: pd.DataFrame, rows: list[tuple[str, str | dict]], langs: list[str], benches: list[str],
           step: int, facts: dict[str, tuple[float | None, float | None]] | None = None,
           languages_of: dict | str = "all") -> pd.DataFrame:
    """rows: (label, model id, or {language: its expert} for the experts' row).
    facts: label -> (parameters, training tokens), in billions, as Table 1's first columns.
    languages_of: config `tables.table1_languages`: "all", or {"experts": {"leave_out": [...],
    "benchmarks": [...]}}: those languages left out of the experts' row in those benchmarks'
    cells, which is how the authors' export_results.py averaged its HPLT row (docs/fidelity.md)."""
    left = languages_of["experts"] if isinstance(languages_of, dict) else None
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
            if left and isinstance(model, dict) and bench in left["benchmarks"]:
                have = [lang for lang in have if lang not in left["leave_out"]]
            scores = _language_scores(final, model, bench, have, f"Table 1, {label}")
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
            cell = final[(final.model == model_on(model, lang)) & (final.lang == lang)]
            row[lang] = f"{cell.score.iloc[0]:.1f} ± {cell.ci95.iloc[0]:.1f}" if len(cell) else DASH
        out.append(row)
    return pd.DataFrame(out)


def controls(agg: pd.DataFrame, rows: list[tuple[str, str]], langs: list[str], benches: list[str], step: int,
             names: list[str]) -> pd.DataFrame:
    """The controls table: per row and multiple-choice benchmark, the mean over languages of
    the score and of each control (benchmarks.CONTROLS), from the same items; what a score
    needs no reading for is the part its controls reach too."""
    out = []
    for label, model in rows:
        final = agg[agg["step"] == row_step(model, step)]
        row = {"model": label}
        for bench in (b for b in benches if benchmarks.get(b).controllable):
            have = languages.available(bench, langs)
            for name, col in [(bench, "score"), *((benchmarks.variant(bench, c), c) for c in names)]:
                row[f"{bench} {col}"] = float(_language_scores(final, model, name, have, f"controls table, {label}").mean())
        out.append(row)
    return pd.DataFrame(out)


#: columns shown to three significant digits (a tiny model has 0.000129 billion parameters)
SIGNIFICANT = ("Params/B", "Tokens/B")


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 1em; }}
table {{ border-collapse: collapse; font-size: 0.9em; }}
caption {{ caption-side: top; text-align: left; max-width: 60em; margin-bottom: 0.6em; line-height: 1.4; }}
th, td {{ padding: 0.25em 0.6em; border-bottom: 1px solid #ddd; }}
td {{ text-align: right; white-space: nowrap; }}
td:first-child, th:first-child {{ text-align: left; }}
thead th {{ border-bottom: 2px solid #444; }}
</style></head>
<body>
{table}
</body></html>
"""


def to_html(shown: pd.DataFrame, caption: str) -> str:
    """A standalone page: the rounded table under its own caption, titled by its name."""
    table = shown.to_html(index=False, escape=True, border=0, na_rep=DASH)
    title = caption_name(caption)
    table = table.replace("<thead>", f"<caption>{html.escape(caption)}</caption>\n  <thead>", 1)
    return _PAGE.format(title=html.escape(title), table=table)


#: LaTeX's special characters and what typesets each as itself
LATEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                 "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


def latex_escape(text: str) -> str:
    return "".join(LATEX_SPECIAL.get(ch, ch) for ch in text)


def write_table(df: pd.DataFrame, stem: str, caption: str, digits: int = 1) -> list[str]:
    """CSV, Markdown, LaTeX and HTML of one table; numbers rounded for reading, not in the CSV."""
    paths = [f"{stem}.{ext}" for ext in FORMATS]
    df.to_csv(paths[0], index=False)
    shown = df.copy()
    for c in shown.columns:
        if shown[c].dtype.kind == "f":
            fmt = "{:.3g}" if c in SIGNIFICANT else f"{{:.{digits}f}}"
            shown[c] = shown[c].map(lambda v, fmt=fmt: DASH if pd.isna(v) else fmt.format(v))
    with open(paths[1], "w", encoding="utf-8") as fh:
        # as the strings are: tabulate would parse "95.0" back into a number and print 95
        fh.write(f"{caption}\n\n{shown.to_markdown(index=False, disable_numparse=True)}\n")
    # pandas escapes the cells, not the caption: captions hold "%" (CV%) and "&"
    latex = shown.to_latex(index=False, caption=latex_escape(caption), escape=True)
    latex = latex.replace("μ", r"$\mu$").replace("–", "--")
    with open(paths[2], "w", encoding="utf-8") as fh:
        fh.write(latex)
    with open(paths[3], "w", encoding="utf-8") as fh:
        fh.write(to_html(shown, caption))
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
            hit = fl[(fl.model == model_on(model, lang)) & (fl["item"] == item) & (fl.step == row_step(model, step))]
            row[label] = hit["hypothesis"].iloc[0] if len(hit) else DASH
        out.append(row)
    return pd.DataFrame(out)


def translation_examples(examples: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Table 7 decoded for itself (evaluate.translate_examples): one row per target language
    and sentence, the source, the reference and each model's translation (label -> its rows)."""
    keys = ["target_lang", "item"]
    first = next(iter(examples.values()))
    out = first[[*keys, "source", "reference"]].rename(columns={"target_lang": "target"})
    for label, df in examples.items():
        if list(df["target_lang"]) != list(first["target_lang"]) or list(df["item"]) != list(first["item"]):
            raise ValueError(f"Table 7: {label}'s examples are not the others' sentences")
        out[label] = list(df["hypothesis"].fillna(""))
    return out.drop(columns="item").reset_index(drop=True)


def items_note(agg: pd.DataFrame, bench: str | None = None) -> str:
    """"n = 100 items per language" (or a range) from the aggregated scores of one benchmark,
    or of every benchmark when none is named."""
    sub = agg if bench is None else agg[agg.benchmark == bench]
    parts = []
    for name, g in sub.groupby("benchmark", sort=False):
        lo, hi = int(g["items"].min()), int(g["items"].max())
        parts.append((name, f"{lo}" if lo == hi else f"{lo}–{hi}"))
    if bench is not None:
        return f" n = {parts[0][1]} items per language." if parts else ""
    return " Items per language: " + ", ".join(f"{name} {n}" for name, n in parts) + "."
