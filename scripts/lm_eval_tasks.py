"""Snakemake adapter: one lm-eval task YAML per benchmark × language."""

from pathlib import Path

from mergelimits import evaluate, joblog

log = joblog.from_snakemake(snakemake)
p = snakemake.params
written = evaluate.render_tasks(p.files, Path(snakemake.output[0]).parent, p.settings, p.seed)
log.info("%d task YAMLs", len(written))
