"""Snakemake adapter: a model's activations on English and own-language FLORES, cached."""

from pathlib import Path

from mergelimits import analysis, joblog

log = joblog.from_snakemake(snakemake)
smk = snakemake
analysis.cache_activations(Path(smk.input.weights).parent, {"eng": smk.input.eng, "own": smk.input.own},
                           {"eng": smk.output.eng, "own": smk.output.own}, smk.params.batch_size,
                           smk.params.bos, smk.params.max_length)
