"""Snakemake adapter: Tables 1-7 (CSV, Markdown, LaTeX) from the score store."""

from pathlib import Path

import pandas as pd

from mergelimits import joblog, registry, tables
from mergelimits.study import table_stem

log = joblog.from_snakemake(snakemake)
p = snakemake.params
agg = pd.read_csv(snakemake.input.agg, sep="\t")
out = Path(snakemake.output[0]).parent
sizes = pd.read_csv(snakemake.input.sizes, sep="\t").set_index("model")["params"]
facts = {label: (sizes[model] / 1e9, tokens) for label, (model, tokens) in p.facts.items()}
t1 = tables.table1(agg, p.rows, p.languages, p.benchmarks, p.step, facts)
tables.write_table(t1, str(out / "table1"), "Table 1: parameters and training tokens (billions; a merge: its "
                   "members' tokens together; a baseline: its model card's, – where it states none), then the mean "
                   "over languages (μ) and coefficient of variation (CV%) per benchmark; missing benchmark × language "
                   "combinations are excluded.")
for bench in p.benchmarks:
    entry = registry.benchmark(bench)
    t = tables.per_language(agg, bench, p.rows, p.languages, p.step)
    tables.write_table(t, str(out / table_stem(bench)),
                       f"Table {entry.table}: {entry.title} per language, ± 95% bootstrap CI; – no data.")
if "flores" in p.benchmarks:
    store = pd.read_parquet(snakemake.input.store)
    t7 = tables.flores_examples(store, p.rows, p.flores_examples["lang"], p.step, p.flores_examples["n"])
    tables.write_table(t7, str(out / "table7_flores_examples"),
                       f"Table 7: FLORES devtest sentences ({p.flores_examples['lang']}) and each model's translation.")
log.info("tables written to %s", out)
