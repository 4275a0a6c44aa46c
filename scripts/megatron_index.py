"""Snakemake adapter: one corpus in Megatron's indexed format, checked against the tokens
the training runs will read from it."""

import gc

gc.disable()  # until joblog.from_snakemake: the imports run without the cyclic collector

from pathlib import Path

from mergelimits import joblog, records
from mergelimits.megatron import data

log = joblog.from_snakemake(snakemake)
p = snakemake.params
prefix = Path(snakemake.output.bin).with_suffix("")
counts = data.build_indexed(snakemake.input.corpus, Path(snakemake.input.tokenizer).parent, prefix)
log.info("%s: %d documents, %d tokens; training reads %d", prefix, counts["documents"], counts["tokens"], p.budget)
epochs = data.check_budget(snakemake.input.corpus, counts["tokens"], p.budget, p.max_epochs)
records.write_record(snakemake.output.record, **counts, budget=p.budget, epochs=round(epochs, 6))
