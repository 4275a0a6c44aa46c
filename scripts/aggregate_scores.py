"""Snakemake adapter: each model × benchmark × language with its bootstrap 95% CI."""

import pandas as pd

from mergelimits import runlog, stats

log = runlog.from_snakemake(snakemake)  # noqa: F821 - injected by Snakemake
store = pd.read_parquet(snakemake.input[0])  # noqa: F821
agg = stats.aggregate(store, snakemake.params.n, snakemake.params.seed)  # noqa: F821
agg.to_csv(snakemake.output[0], sep="\t", index=False)  # noqa: F821
log.info("%d cells, %d bootstrap resamples each (seed %d)", len(agg), snakemake.params.n, snakemake.params.seed)  # noqa: F821
