"""Snakemake adapter: each model × benchmark × language with its bootstrap 95% CI."""

import gc

gc.disable()  # until joblog.from_snakemake: the imports run without the cyclic collector

import pandas as pd

from mergelimits import bootstrap, joblog

log = joblog.from_snakemake(snakemake)
store = pd.read_parquet(snakemake.input[0])
p = snakemake.params
agg = bootstrap.aggregate(store, p.n, p.seed, acc_norm=p.acc_norm)
agg.to_csv(snakemake.output[0], sep="\t", index=False)
log.info("%d cells, %d bootstrap resamples each (seed %d), multiple-choice accuracy normalised by %s", len(agg),
         p.n, p.seed, p.acc_norm)
