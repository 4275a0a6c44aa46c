"""Snakemake adapter: one benchmark file of one language, fetched from the hub (paper config)."""

import gc

gc.disable()  # until joblog.from_snakemake: the imports run without the cyclic collector

from pathlib import Path

from mergelimits import hub, joblog, records

log = joblog.from_snakemake(snakemake)
wc = snakemake.wildcards
source = hub.resolve(snakemake.params.source, wc.bench, wc.lang)
name = f"{wc.split}.{wc.ext}"
snapshot = hub.fetch(source, [source.files[name]])
log.info("%s@%s resolved to %s", source.repo, source.revision, snapshot.name)
hub.prepare(wc.bench, source, name, snapshot, Path(snakemake.output.data))
records.write_record(snakemake.output.record, repo=source.repo, revision=source.revision,
                      commit=snapshot.name, pattern=source.files[name])
