"""Snakemake adapter: one lm-eval task YAML per benchmark × language."""

import gc

gc.disable()  # until joblog.from_snakemake: the imports run without the cyclic collector

from pathlib import Path

from mergelimits import joblog, tasks

log = joblog.from_snakemake(snakemake)
p = snakemake.params
written = tasks.render_tasks(p.files, Path(snakemake.output[0]).parent, p.settings, p.seed)
log.info("%d task YAMLs", len(written))
