"""Snakemake adapter: one benchmark file of one language, fetched from the hub (paper config)."""

from pathlib import Path

from mergelimits import datasets, hub, runlog

log = runlog.from_snakemake(snakemake)  # noqa: F821 - injected by Snakemake
wc = snakemake.wildcards  # noqa: F821
source = hub.resolve(snakemake.params.source, wc.bench, wc.lang)  # noqa: F821
name = f"{wc.split}.{wc.ext}"
snapshot = hub.fetch(source, [source.files[name]])
log.info("%s@%s resolved to %s", source.repo, source.revision, snapshot.name)
hub.prepare(wc.bench, source, name, snapshot, Path(snakemake.output.data))  # noqa: F821
datasets.write_record(snakemake.output.record, repo=source.repo, revision=source.revision,  # noqa: F821
                      commit=snapshot.name, pattern=source.files[name])
