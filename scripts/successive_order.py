"""Snakemake adapter: record the seeded order of the successive merges."""

from mergelimits import datasets, runlog

log = runlog.from_snakemake(snakemake)  # noqa: F821 - injected by Snakemake
p = snakemake.params  # noqa: F821
datasets.write_record(snakemake.output[0], seed=p.seed, order=p.order)  # noqa: F821
log.info("successive order (seed %d): %s", p.seed, " ".join(p.order))
