"""The paper's tables, from the aggregated scores and the per-item store only.

Table 1: μ over the languages a benchmark has, and CV% = sample std / μ × 100; a missing
benchmark × language is "–", excluded from μ and CV. Tables 2-6: each benchmark per
language with its 95% CI. Table 7: FLORES sentences with each model's translation.
"""

from __future__ import annotations

import html

import numpy as np
import pandas as pd

from . import languages, modelid

DASH = "–"
BRANCH_TABLE = "branch"  #: the stem of the branch table (beyond the paper)


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
    from . import benchmarks

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


#: the formats every table is written in; the report shows the HTML inline, the CSV downloads
FORMATS = ("csv", "md", "tex", "html")

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


def caption_name(caption: str) -> str:
    """A caption's name, up to its first colon ("Table 8 — Δ vs similarity"): the page
    title, and the label the report lists and its search finds."""
    return caption.partition(":")[0]


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


#: what each metric's numbers are, for the captions
UNITS = {
    "acc": "accuracy (% of items)",
    "acc_norm_token": "accuracy (% of items; each option's log-likelihood divided by its number of tokens)",
    "acc_norm_char": "accuracy (% of items; each option's log-likelihood divided by its number of characters)",
    "chrf": "corpus chrF++ (sacrebleu, character 6-grams and word bigrams; 0–100)",
}


def title(bench: str, acc_norm: str = "token") -> str:
    """A benchmark's table title; a length-normalised accuracy says which normalisation."""
    from . import benchmarks

    entry = benchmarks.get(bench)
    if not benchmarks.metric(bench).startswith("acc_norm_"):
        return entry.title
    return f"{entry.label} {'character' if acc_norm == 'char' else 'token'}-normalised accuracy"


def captions(study: str, benches: list[str], step: int, bootstrap: int, bootstrap_seed: int, pair_method: str,
             n_pairs: int, flores_examples: dict, branch_steps: tuple[int, ...] = (), branch_pairs: int = 0,
             acc_norm: str = "token", flores_sampling: dict | None = None) -> dict[str, str]:
    """Each table's caption, keyed by file stem: its name before the colon ("Table 8 — Δ vs
    similarity", what the report lists and search finds), then what is measured, in which
    units, at which step, what ± means and the study it came from. The number of items is
    the data's: `items_note` adds it where the scores are known."""
    from . import benchmarks
    from .study import CONTROLS, FLORES_EXAMPLES, TABLE1, table_stem

    ci = (f"± is the 95% CI half-width, 1.96 × the bootstrap SE over {bootstrap} resamples of the items "
          f"(seed {bootstrap_seed})")
    src = f"Study: {study}, step {step}."
    out = {TABLE1: (
        "Table 1 — size, tokens, μ and CV over languages: parameters and training tokens in billions (a merge: "
        "its members' tokens together; a baseline: its model card's, – where it states none); then per benchmark "
        "the mean over languages μ of its per-language score (Tables 2–6: % accuracy, chrF++ for FLORES) and the "
        "coefficient of variation CV% = 100 × SD/μ (sample SD over languages). Missing benchmark × language "
        f"combinations are excluded. Monolingual experts: each language scored by its own expert. {src}")}
    for bench in benches:
        entry = benchmarks.get(bench)
        out[table_stem(bench)] = (
            f"Table {entry.table} — {title(bench, acc_norm)} per language: {UNITS[benchmarks.metric(bench, acc_norm)]}; {ci}. "
            f"Monolingual experts: each language scored by its own expert; – no data for that language. {src}")
    out[CONTROLS] = (
        "Controls — scores without the question: per multiple-choice benchmark, the mean over languages (as "
        "Table 1's μ) of the score (Tables 3–5) and of the same items scored question-blind: 'blind', the options "
        "alone with the passage, question or context removed; 'shuffled', after another item's context (a "
        "seeded derangement, the same in every language). Chance: 25% (Belebele, HellaSwag), 20% (X-CSQA). "
        "Where a score is near its controls, it needs no reading; per-language values are in eval/aggregate.tsv "
        f"(benchmark <bench>~<control>). {src}")
    from .languages import get as language

    ex = flores_examples
    if "decoding" in ex:
        dec = ex["decoding"]
        targets = ", ".join(language(t).name for t in ex["targets"])
        out[FLORES_EXAMPLES] = (
            f"Table 7 — FLORES examples: the first {ex['n']} English FLORES-200 devtest sentences translated into "
            f"{targets} by Mixed and Merged-N, decoded for this table as the authors' flores.py: their instruction "
            f"prompt (\"Translate the following sentence from English to …\"), beam search with {dec['num_beams']} "
            f"beams and no sampling, at most {dec['max_new_tokens']} new tokens; with the reference translations. "
            f"{src}")
    else:
        how = "greedy"
        if flores_sampling:
            top_k = f", top-k {flores_sampling['top_k']}" if "top_k" in flores_sampling else ""
            how = f"sampled (temperature {flores_sampling['temperature']}{top_k})"
        out[FLORES_EXAMPLES] = (
            f"Table 7 — FLORES examples: the first {ex['n']} FLORES-200 devtest sentences in {language(ex['lang']).name}, "
            f"their reference translation and each model's {how} output in the evaluation (Table 6). {src}")
    out["table8"] = (
        f"Table 8 — Δ vs similarity: Pearson r and Spearman ρ with two-sided p-values over the {n_pairs} bilingual "
        f"{pair_method} merges, between Δ = merged − expert MultiBLiMP accuracy (points, averaged over the pair's "
        "languages that MultiBLiMP covers; a drop is negative) and each similarity measure; r > 0 means more similar "
        f"experts lose less. Each pair's Δ and its 95% CI ({bootstrap} paired bootstrap resamples of the items, "
        f"seed {bootstrap_seed}) are in analysis/pairs.tsv. {src}")
    if branch_steps:
        out[BRANCH_TABLE] = (
            "Branch table — experts branched from Mixed (beyond the paper): per family of experts, branched from "
            "Mixed at the step shown (0: the shared init, the paper's experts) and trained on their own language to "
            f"step {step}, the mean over languages of the experts (each on its own language) and of the family's "
            "Merged-N by method ('linear + WM': each expert weight-matched to the first before the average), and "
            f"Mixed at step {step}. Metrics as Tables 2–6; ± is the 95% CI half-width of the mean, 1.96 × the SE over "
            f"{bootstrap} bootstrap resamples (seed {bootstrap_seed}) of each language's items, the same items "
            f"resampled together in every language where a benchmark shares them. {src}")
        for b in branch_steps:
            out[f"table8_br{b}"] = out["table8"].replace(
                "Table 8 — Δ vs similarity:", f"Table 8, branched at {b} — Δ vs similarity of the experts branched "
                f"from Mixed at step {b}:").replace(f"over the {n_pairs} bilingual", f"over the {branch_pairs} "
                                                     "bilingual") + " Task vectors against Mixed at the branch step."
    return out


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
