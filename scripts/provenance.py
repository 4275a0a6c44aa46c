"""Snakemake adapter: the run's provenance page, resolved config and package versions."""

import gc

gc.disable()  # until joblog.from_snakemake: the imports run without the cyclic collector

from pathlib import Path

import yaml

from mergelimits import joblog, provenance

log = joblog.from_snakemake(snakemake)
p, out = snakemake.params, snakemake.output
# The versions of this job's own environment (on LUMI the image's), which computed the
# numbers; p.versions, read where Snakemake runs (a login node's slim venv), only reruns
# this rule when those change.
versions = provenance.versions()
Path(out.config).write_text(yaml.safe_dump(dict(p.config), sort_keys=False, allow_unicode=True), encoding="utf-8")
Path(out.versions).write_text("package\tversion\n" + "".join(f"{k}\t{v}\n" for k, v in versions.items()))
Path(out.page).write_text(provenance.page(p.study, list(p.configfiles), p.commit, versions, dict(p.config)),
                          encoding="utf-8")
log.info("provenance of study %s at commit %s", p.study, p.commit)
