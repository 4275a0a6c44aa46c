"""Snakemake adapter: the study's models, one row each (results/<study>/models.tsv)."""

import gc

gc.disable()  # until joblog.from_snakemake: the imports run without the cyclic collector

from mergelimits import catalog, joblog

log = joblog.from_snakemake(snakemake)
catalog.write(snakemake.params.rows, snakemake.output[0])
log.info("%d models", len(snakemake.params.rows))
