"""Snakemake adapter: Tables 1-7 (CSV, Markdown, LaTeX) from the score store."""

from pathlib import Path

import pandas as pd

from mergelimits import joblog, stats

log = joblog.from_snakemake(snakemake)
p = snakemake.params
agg = pd.read_csv(snakemake.input.agg, sep="\t")
out = Path(snakemake.output[0]).parent
names = {"multiblimp": "MultiBLiMP accuracy", "belebele": "Belebele token-normalised accuracy",
         "hellaswag": "HellaSwag token-normalised accuracy", "xcsqa": "X-CSQA token-normalised accuracy",
         "flores": "FLORES chrF++"}
numbers = {"multiblimp": 2, "belebele": 3, "hellaswag": 4, "xcsqa": 5, "flores": 6}
t1 = stats.table1(agg, p.rows, p.languages, p.benchmarks, p.step)
stats.write_table(t1, str(out / "table1"), "Table 1: mean over languages (μ) and coefficient of variation "
                  "(CV%) per benchmark; missing benchmark × language combinations are excluded.")
for bench in p.benchmarks:
    t = stats.per_language(agg, bench, p.rows, p.languages, p.step)
    stats.write_table(t, str(out / f"table{numbers[bench]}_{bench}"),
                      f"Table {numbers[bench]}: {names[bench]} per language, ± 95% bootstrap CI; – no data.")
if "flores" in p.benchmarks:
    store = pd.read_parquet(snakemake.input.store)
    t7 = stats.flores_examples(store, p.rows, p.flores_examples["lang"], p.step, p.flores_examples["n"])
    stats.write_table(t7, str(out / "table7_flores_examples"),
                      f"Table 7: FLORES devtest sentences ({p.flores_examples['lang']}) and each model's translation.")
log.info("tables written to %s", out)
