"""Snakemake adapter: the paper's tokenizer (Gemma-3), fetched from the hub."""

from pathlib import Path

from mergelimits import datasets, hub, runlog, tokenizer

log = runlog.from_snakemake(snakemake)  # noqa: F821 - injected by Snakemake
source = hub.resolve_tokenizer(snakemake.params.source)  # noqa: F821
out_dir = Path(snakemake.output[0]).parent  # noqa: F821
snapshot = hub.fetch_tokenizer(source, out_dir)
tok = tokenizer.load(out_dir)
log.info("%s@%s (%s): vocabulary %d", source.repo, source.revision, snapshot.name, len(tok))
datasets.write_record(snakemake.output.record, repo=source.repo, revision=source.revision,  # noqa: F821
                      commit=snapshot.name)
