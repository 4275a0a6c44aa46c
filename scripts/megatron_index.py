"""Snakemake adapter: one corpus in Megatron's indexed format."""

from pathlib import Path

from mergelimits import benchfiles, joblog
from mergelimits.megatron import data

log = joblog.from_snakemake(snakemake)
prefix = Path(snakemake.output.bin).with_suffix("")
counts = data.build_indexed(snakemake.input.corpus, Path(snakemake.input.tokenizer).parent, prefix)
log.info("%s: %d documents, %d tokens", prefix, counts["documents"], counts["tokens"])
benchfiles.write_record(snakemake.output.record, **counts)
