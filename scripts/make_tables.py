"""Snakemake adapter: Tables 1-7 (CSV, Markdown, LaTeX, HTML) from the score store."""

import gc

gc.disable()  # until joblog.from_snakemake: the imports run without the cyclic collector

from pathlib import Path

import pandas as pd

from mergelimits import bootstrap, catalog, joblog, tables
from mergelimits.study import CONTROLS, FLORES_EXAMPLES, TABLE1, table_stem

log = joblog.from_snakemake(snakemake)
p = snakemake.params
agg = bootstrap.read_aggregate(snakemake.input.agg)
rows = catalog.table_rows(catalog.read(snakemake.input.models))
final = agg[(agg.step == p.step) & agg.benchmark.isin(p.benchmarks)]  # controls are counted in their own table
out = Path(snakemake.output[0]).parent
sizes = pd.read_csv(snakemake.input.sizes, sep="\t").set_index("model")["params"]
facts = {label: (sizes[model] / 1e9, tokens) for label, (model, tokens) in p.facts.items()}
t1 = tables.table1(agg, rows, p.languages, p.benchmarks, p.step, facts, p.table1_languages)
tables.write_table(t1, str(out / TABLE1), p.captions[TABLE1] + tables.items_note(final))
for bench in p.benchmarks:
    stem = table_stem(bench)
    t = tables.per_language(agg, bench, rows, p.languages, p.step)
    tables.write_table(t, str(out / stem), p.captions[stem] + tables.items_note(final, bench))
if p.controls and CONTROLS in p.captions:
    tc = tables.controls(agg, rows, p.languages, p.benchmarks, p.step, p.controls)
    tables.write_table(tc, str(out / CONTROLS), p.captions[CONTROLS])
if "flores" in p.benchmarks and p.translated:  # decoded for Table 7 (translate_examples)
    t7 = tables.translation_examples({label: pd.read_json(snakemake.input[f"examples_{i}"], lines=True, dtype=False)
                                      for i, label in enumerate(p.translated)})
elif "flores" in p.benchmarks:  # the evaluation's outputs
    store = pd.read_parquet(snakemake.input.store)
    t7 = tables.flores_examples(store, rows, p.flores_examples["lang"], p.step, p.flores_examples["n"])
if "flores" in p.benchmarks:
    tables.write_table(t7, str(out / FLORES_EXAMPLES), p.captions[FLORES_EXAMPLES])
log.info("tables written to %s", out)
