"""Snakemake adapter: one language's pre-training text from the hub (paper config)."""

import gc

gc.disable()  # until joblog.from_snakemake: the imports run without the cyclic collector

from pathlib import Path

from mergelimits import hub, joblog, records

log = joblog.from_snakemake(snakemake)
source = hub.resolve_corpus(snakemake.params.source, snakemake.wildcards.lang)
snapshot, info = hub.fetch_corpus(source, Path(snakemake.output.corpus),
                                  snakemake.params.source.get("max_files"))
log.info("%s@%s (%s): %d documents from %d files", source.repo, source.revision, snapshot.name,
         info["documents"], len(info["files"]))
records.write_record(snakemake.output.record, repo=source.repo, revision=source.revision,
                      commit=snapshot.name, **info)
