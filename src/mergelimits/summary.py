"""The study's results in a few lines of Markdown, written from its tables only.

The tiny study's results: `make study` writes them with this module (rule `summary`) and
`tools/readme_results.py` puts them between the markers of docs/results.md, and their
headline (Table 1 and what it says of the merges) between the README's, so no number there
is ever typed by hand.
"""

from __future__ import annotations

import re

import pandas as pd

from . import benchmarks, registry

#: The paper's Table 8: Pearson r of Δ (merged − expert) with mean English CKA, the comparison
#: the summary draws (a published number, cited, not a result of this run).
PAPER_CKA_R = 0.45
BEGIN = "<!-- results: written by `make study` (tools/readme_results.py); do not edit -->"
END = "<!-- /results -->"


def _chance(bench: str) -> str:
    return f"{benchmarks.get(bench).chance:g}"


def _chances(controls: pd.DataFrame) -> str:
    """"chance 25%, X-CSQA 20%": the controls' benchmarks' chance, the most common first."""
    benches = list(dict.fromkeys(c.rsplit(" ", 1)[0] for c in controls.columns[1:]))
    levels = [benchmarks.get(b).chance for b in benches]
    common = max(levels, key=levels.count)
    return ", ".join([f"chance {common:g}%"] + [f"{benchmarks.get(b).label} {c:g}%"
                                                for b, c in zip(benches, levels) if c != common])


def _num(x: float, digits: int = 1) -> str:
    return f"{x:.{digits}f}".replace("-", "−")


def table1_markdown(t1: pd.DataFrame) -> str:
    """Table 1's μ columns, rounded as in the paper."""
    mu = [c for c in t1.columns if c.endswith(" μ")]
    head = "| model | " + " | ".join(mu) + " |"
    rule = "|:--|" + "--:|" * len(mu)
    rows = ["| " + r["model"] + " | " + " | ".join("–" if pd.isna(r[c]) else _num(r[c]) for c in mu) + " |"
            for _, r in t1.iterrows()]
    return "\n".join([head, rule, *rows])


def controls_markdown(tc: pd.DataFrame) -> str:
    """The controls table as "score (blind / shuffled)" per benchmark."""
    benches = [c[: -len(" score")] for c in tc.columns if c.endswith(" score")]
    head = "| model | " + " | ".join(f"{b}: score (blind / shuffled)" for b in benches) + " |"
    rule = "|:--|" + "--:|" * len(benches)
    rows = ["| " + r["model"] + " | " + " | ".join(
        f"{_num(r[f'{b} score'])} ({_num(r[f'{b} blind'])} / {_num(r[f'{b} shuffled'])})" for b in benches) + " |"
        for _, r in tc.iterrows()]
    return "\n".join([head, rule, *rows])


def results(t1: pd.DataFrame, t8: pd.DataFrame, pairs: pd.DataFrame, study: str, step: int,
            controls: pd.DataFrame | None = None, branch: tuple[pd.DataFrame, pd.DataFrame] | None = None) -> str:
    """Markdown: Table 1 (μ), the merges against the experts and Mixed, the question-blind
    controls, and Table 8's strongest and weakest correlations, every number read from the
    tables."""
    t1 = t1.set_index("model", drop=False)
    mb = "multiblimp μ"
    head = (f"Table 1 of the {study} study at step {step} (μ over languages; CV% and the per-language tables "
            f"with 95% CIs in `results/{study}/tables/`):\n\n{table1_markdown(t1.reset_index(drop=True))}")
    lines = []  # one paragraph each
    if mb in t1.columns:
        merged = t1[t1.model.str.startswith("Merged")][mb]
        experts, mixed = t1[mb].iloc[0], t1[mb].iloc[1]
        lines.append(f"On MultiBLiMP the experts reach {_num(experts)}% on their own language and "
                     f"{t1.model.iloc[1]} {_num(mixed)}%; the merges of all models reach "
                     f"{_num(merged.min())}–{_num(merged.max())}% (chance: {_chance('multiblimp')}%).")
    if controls is not None and {"blind", "shuffled"} <= {c.rsplit(" ", 1)[1] for c in controls.columns[1:]}:
        lines.append("The multiple-choice scores beside their question-blind controls (μ over languages; blind: the "
                     f"options alone, shuffled: after another item's context; {_chances(controls)}):\n\n"
                     + controls_markdown(controls))
    if len(pairs):
        d = pairs["delta"]
        lines.append(f"Over the {len(pairs)} bilingual merges the MultiBLiMP change Δ (merge − expert, points; "
                     f"a drop is negative) ranges {_num(d.min())} to {_num(d.max())} (mean {_num(d.mean())})"
                     + (f"; a pair's 95% CI is at most ±{_num(pairs['delta_ci95'].max())} points "
                        f"(paired bootstrap of the items)." if "delta_ci95" in pairs else "."))
    if len(t8):
        t8 = t8.assign(a=t8.pearson_r.abs()).sort_values("a", ascending=False)
        parts = [f"{r.measure} r = {_num(r.pearson_r, 2)} (p = {r.pearson_p:.3f})" for r in t8.itertuples()]
        lines.append("Table 8, Pearson correlation of Δ with each measure, strongest first: " + "; ".join(parts) + ".")
        cka = t8.set_index("measure")["pearson_r"].get("mean CKA (English)")
        if cka is not None and not pd.isna(cka):
            agree = "the same sign: more similar experts lose less" if cka > 0 else (
                "the opposite sign: here more similar experts lose more")
            lines.append(f"The paper reports r = {_num(PAPER_CKA_R, 2)} between Δ and mean English CKA; this run "
                         f"finds r = {_num(cka, 2)}, {agree}.")
    if branch is not None:
        lines.append(branch_markdown(*branch))
    return "\n\n".join([head, *lines]) + "\n"


def branch_markdown(table: pd.DataFrame, scores: pd.DataFrame) -> str:
    """Beyond the paper: the branch table as it is (μ ± 95% CI per benchmark), then how each
    family's Merged-N compares with the paper's (branched at 0) and with Mixed on MultiBLiMP,
    every number read from the scores behind Figure 4."""
    head = "| " + " | ".join(table.columns) + " |"
    rule = "|" + "|".join(":--" if c in ("branched at", "model") else "--:" for c in table.columns) + "|"
    rows = ["| " + " | ".join(str(v) for v in r) + " |" for r in table.itertuples(index=False)]
    out = ["Beyond the paper, experts branched from Mixed (Figure 4; μ over languages ± 95% CI; "
           "`results/<study>/tables/branch.*`):", "\n".join([head, rule, *rows])]
    mb = scores[scores["benchmark"] == "multiblimp"]
    if len(mb):
        mixed = mb[mb["series"] == "mixed"].iloc[0]
        fams = sorted(int(f) for f in mb["family"].dropna().unique())
        for series in [s for s in mb["series"].unique() if s not in ("experts", "mixed")]:
            cells = {int(r.family): r for r in mb[mb["series"] == series].itertuples()}
            parts = [f"{_num(cells[f].score)} ± {_num(cells[f].ci95)} branched at {f}" for f in fams if f in cells]
            label = registry.method(series).label
            out.append(f"MultiBLiMP of Merged-N ({label}): " + "; ".join(parts)
                       + f" (Mixed: {_num(mixed.score)} ± {_num(mixed.ci95)}; chance {_chance('multiblimp')}).")
        widest = {b: g["ci95"].max() for b, g in scores.groupby("benchmark")}
        out.append("The widest 95% CI of any of these means: "
                   + ", ".join(f"{b} ±{_num(w)}" for b, w in sorted(widest.items())) + ".")
    return "\n\n".join(out)


def headline(block: str) -> str:
    """The first table of a `results` block and the paragraph that reads it: the README's part."""
    paras = block.strip().split("\n\n")
    first = next(i for i, p in enumerate(paras) if p.lstrip().startswith("|"))
    end = first + 1
    if end < len(paras) and "|" not in paras[end]:
        end += 1
    return "\n\n".join(paras[:end]) + "\n"


def splice(readme: str, block: str) -> str:
    """`readme` with the text between the results markers replaced by `block`."""
    pattern = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END), re.S)
    if not pattern.search(readme):
        raise ValueError(f"README has no results markers ({BEGIN} … {END})")
    return pattern.sub(lambda _: f"{BEGIN}\n\n{block.strip()}\n\n{END}", readme)
