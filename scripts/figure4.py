"""Snakemake adapter: Figure 4 and the branch table (beyond the paper), from stored scores."""

import gc

gc.disable()  # until joblog.from_snakemake: the imports run without the cyclic collector

from pathlib import Path

import pandas as pd

from mergelimits import bootstrap, branching, catalog, joblog, plots, tables

log = joblog.from_snakemake(snakemake)
inp, p = snakemake.input, snakemake.params
store = pd.read_parquet(inp.store)
scores = branching.family_scores(store, bootstrap.read_aggregate(inp.agg, means=True), catalog.read(inp.models),
                                 list(p.families), list(p.methods), list(p.languages), list(p.benchmarks), p.mixed,
                                 p.step, p.n, p.seed, p.acc_norm)
cka = branching.cka_by_family({f: pd.read_csv(path, sep="\t") for f, path in zip(p.families, inp.cka)})
plots.figure4(scores, cka, list(p.benchmarks), list(p.methods), p.mixed, str(Path(snakemake.output[0]).with_suffix("")))
stem = str(Path(snakemake.output.tables[0]).with_suffix(""))
tables.write_table(branching.table(scores, p.mixed), stem, p.captions[Path(stem).name])
scores.to_csv(snakemake.output.scores, sep="\t", index=False, float_format="%.6g")
log.info("Figure 4: %d families; widest 95%% CI per benchmark: %s", len(p.families), branching.widths(scores))
