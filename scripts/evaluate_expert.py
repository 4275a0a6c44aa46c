"""Snakemake adapter: each expert's evaluation (one lm-eval call for all its tasks), then its
activations on English and own-language FLORES for CKA, in the one process; one expert (rule
evaluate_expert) or several in turn (evaluate.per_job)."""

import gc

gc.disable()  # until joblog.from_snakemake: the imports run without the cyclic collector

from pathlib import Path

from mergelimits import activations, evaluate, joblog

log = joblog.from_snakemake(snakemake)
smk, p = snakemake, snakemake.params
inp, out = smk.input, smk.output
tasks_dir = Path(inp.tasks[0]).parent
for i, job in enumerate(p.models):
    model_dir = Path(inp[f"weights_{i}"]).parent
    evaluate.evaluate_to_files(model_dir, job["model"], job["step"], job["tasks"], tasks_dir, p.batch_size, p.seed,
                               out[f"scores_{i}"], out[f"samples_{i}"], p.backend)
    activations.cache_activations(model_dir, {"eng": inp.eng, "own": inp[f"own_{i}"]},
                                  {"eng": out[f"eng_{i}"], "own": out[f"own_{i}"]}, p.analysis["batch_size"],
                                  p.analysis["bos"], p.analysis["max_length"])
    log.info("%s (%d of %d): %d tasks", job["model"], i + 1, len(p.models), len(job["tasks"]))
