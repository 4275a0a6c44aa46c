"""Snakemake adapter: one published HPLT monolingual checkpoint (paper config)."""

import gc

gc.disable()  # until joblog.from_snakemake: the imports run without the cyclic collector

from pathlib import Path

from mergelimits import hub, joblog, languages, records

log = joblog.from_snakemake(snakemake)
wc, p = snakemake.wildcards, snakemake.params
repo = p.hplt["repo"].format(code=languages.get(wc.lang).source_code("hplt"))
revision = p.hplt["revision"].format(step=int(wc.step))
out_dir = Path(snakemake.output.weights).parent
snapshot = hub.fetch_checkpoint(repo, revision, out_dir, p.arch, weights=p.hplt.get("weights", "bin"))
log.info("%s@%s resolved to %s", repo, revision, snapshot.name)
records.write_record(snakemake.output.record, repo=repo, revision=revision, commit=snapshot.name)
