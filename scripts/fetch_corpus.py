"""Snakemake adapter: one language's pre-training text from the hub (paper config)."""

from pathlib import Path

from mergelimits import datasets, hub, runlog

log = runlog.from_snakemake(snakemake)  # noqa: F821 - injected by Snakemake
source = hub.resolve_corpus(snakemake.params.source, snakemake.wildcards.lang)  # noqa: F821
snapshot, info = hub.fetch_corpus(source, Path(snakemake.output.corpus),  # noqa: F821
                                  snakemake.params.source.get("max_files"))  # noqa: F821
log.info("%s@%s (%s): %d documents from %d files", source.repo, source.revision, snapshot.name,
         info["documents"], len(info["files"]))
datasets.write_record(snakemake.output.record, repo=source.repo, revision=source.revision,  # noqa: F821
                      commit=snapshot.name, **info)
