"""Snakemake adapter: an expert's evaluation (one lm-eval call for all its tasks), then its
activations on English and own-language FLORES for CKA, in the one process."""

from pathlib import Path

from mergelimits import activations, evaluate, joblog

log = joblog.from_snakemake(snakemake)
smk, p = snakemake, snakemake.params
model_dir = Path(smk.input.weights).parent
evaluate.evaluate_to_files(model_dir, smk.wildcards.model, int(smk.wildcards.step), p.tasks,
                           Path(smk.input.tasks[0]).parent, p.batch_size, p.seed, smk.output.scores,
                           smk.output.samples, p.backend)
activations.cache_activations(model_dir, {"eng": smk.input.eng, "own": smk.input.own},
                             {"eng": smk.output.eng, "own": smk.output.own}, p.analysis["batch_size"],
                             p.analysis["bos"], p.analysis["max_length"])
