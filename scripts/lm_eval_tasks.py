"""Snakemake adapter: one lm-eval task YAML per benchmark × language."""

from pathlib import Path

from mergelimits import evaluate, runlog

log = runlog.from_snakemake(snakemake)  # noqa: F821 - injected by Snakemake
p = snakemake.params  # noqa: F821
written = evaluate.render_tasks(p.files, Path(snakemake.output[0]).parent, p.flores)  # noqa: F821
log.info("%d task YAMLs", len(written))
