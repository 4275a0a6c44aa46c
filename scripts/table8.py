"""Snakemake adapter: Δ of every bilingual pair against every similarity measure (Table 8)."""

import gc

gc.disable()  # until joblog.from_snakemake: the imports run without the cyclic collector

from pathlib import Path

import pandas as pd

from mergelimits import analysis, bootstrap, catalog, joblog, tables

log = joblog.from_snakemake(snakemake)
inp, p = snakemake.input, snakemake.params
agg = bootstrap.read_aggregate(inp.agg)
d = analysis.delta(agg, catalog.read(inp.models), [tuple(x) for x in p.pairs], p.method, p.step, p.get("branch", 0),
                   store=pd.read_parquet(inp.store), n=p.n, seed=p.seed)
pairs = analysis.pair_table(d, pd.read_csv(inp.cka, sep="\t"), pd.read_csv(inp.parametric, sep="\t"),
                            pd.read_csv(inp.lang2vec, sep="\t"))
pairs.to_csv(snakemake.output.pairs, sep="\t", index=False, float_format="%.6g")
corr = analysis.correlations(pairs)
stem = str(Path(snakemake.output.tables[0]).with_suffix(""))
tables.write_table(corr, stem, p.captions[Path(stem).name], digits=3)
log.info("Δ of %d pairs: mean %.1f points, 95%% CI at most ±%.1f", len(pairs), pairs.delta.mean(),
         pairs.delta_ci95.max())
