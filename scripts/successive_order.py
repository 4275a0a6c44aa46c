"""Snakemake adapter: record the seeded order of the successive merges."""

from mergelimits import benchfiles, joblog

log = joblog.from_snakemake(snakemake)
p = snakemake.params
benchfiles.write_record(snakemake.output[0], seed=p.seed, order=p.order)
log.info("successive order (seed %d): %s", p.seed, " ".join(p.order))
