"""What every table is called and says: its captions, titles and file formats.

Kept apart from `tables` (pandas) because the workflow reads them when it builds the DAG:
the report's captions and each table's outputs are known before any job runs.
"""

from __future__ import annotations

from . import benchmarks
from .languages import get as language
from .study import CONTROLS, FLORES_EXAMPLES, TABLE1, table_stem

BRANCH_TABLE = "branch"  #: the stem of the branch table (beyond the paper)

#: the formats every table is written in; the report shows the HTML inline, the CSV downloads
FORMATS = ("csv", "md", "tex", "html")


def caption_name(caption: str) -> str:
    """A caption's name, up to its first colon ("Table 8 — Δ vs similarity"): the page
    title, and the label the report lists and its search finds."""
    return caption.partition(":")[0]


#: what each metric's numbers are, for the captions
UNITS = {
    "acc": "accuracy (% of items)",
    "acc_norm_token": "accuracy (% of items; each option's log-likelihood divided by its number of tokens)",
    "acc_norm_char": "accuracy (% of items; each option's log-likelihood divided by its number of characters)",
    "chrf": "corpus chrF++ (sacrebleu, character 6-grams and word bigrams; 0–100)",
}


def title(bench: str, acc_norm: str = "token") -> str:
    """A benchmark's table title; a length-normalised accuracy says which normalisation."""
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
