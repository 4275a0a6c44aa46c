"""Snakemake adapter: one lm-eval call for every task of one pre-trained checkpoint."""

from pathlib import Path

from mergelimits import evaluate, joblog

log = joblog.from_snakemake(snakemake)
smk = snakemake
evaluate.evaluate_to_files(Path(smk.input.weights).parent, smk.wildcards.model, int(smk.wildcards.step),
                           smk.params.tasks, Path(smk.input.tasks[0]).parent, smk.params.batch_size,
                           smk.params.seed, smk.output.scores, smk.output.samples, smk.params.backend)
