"""Snakemake adapter: the paper's tokenizer (Gemma-3), fetched from the hub."""

import gc

gc.disable()  # until joblog.from_snakemake: the imports run without the cyclic collector

from pathlib import Path

from mergelimits import hub, joblog, records, tokenizer

log = joblog.from_snakemake(snakemake)
source = hub.resolve_tokenizer(snakemake.params.source)
out_dir = Path(snakemake.output[0]).parent
snapshot = hub.fetch_tokenizer(source, out_dir)
tok = tokenizer.load(out_dir)
log.info("%s@%s (%s): vocabulary %d", source.repo, source.revision, snapshot.name, len(tok))
records.write_record(snakemake.output.record, repo=source.repo, revision=source.revision,
                      commit=snapshot.name)
