"""Snakemake adapter: record the order of the successive merges (and the seed, if it drew it)."""

import gc

gc.disable()  # until joblog.from_snakemake: the imports run without the cyclic collector

from mergelimits import joblog, records

log = joblog.from_snakemake(snakemake)
p = snakemake.params
records.write_record(snakemake.output[0], seed=p.seed, order=p.order)
log.info("successive order (seed %s): %s", p.seed, " ".join(p.order))
