"""Snakemake adapter: one corpus in Megatron's indexed format."""

from pathlib import Path

from mergelimits import datasets, runlog
from mergelimits.megatron import data

log = runlog.from_snakemake(snakemake)  # noqa: F821 - injected by Snakemake
prefix = Path(snakemake.output.bin).with_suffix("")  # noqa: F821
counts = data.build_indexed(snakemake.input.corpus, Path(snakemake.input.tokenizer).parent, prefix)  # noqa: F821
log.info("%s: %d documents, %d tokens", prefix, counts["documents"], counts["tokens"])
datasets.write_record(snakemake.output.record, **counts)  # noqa: F821
