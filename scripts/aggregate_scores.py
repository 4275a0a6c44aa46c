"""Snakemake adapter: each model × benchmark × language with its bootstrap 95% CI."""

import pandas as pd

from mergelimits import bootstrap, joblog

log = joblog.from_snakemake(snakemake)
store = pd.read_parquet(snakemake.input[0])
agg = bootstrap.aggregate(store, snakemake.params.n, snakemake.params.seed)
agg.to_csv(snakemake.output[0], sep="\t", index=False)
log.info("%d cells, %d bootstrap resamples each (seed %d)", len(agg), snakemake.params.n, snakemake.params.seed)
