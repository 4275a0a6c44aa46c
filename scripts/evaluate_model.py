"""Snakemake adapter: one lm-eval call for every task of a pre-trained checkpoint; one
checkpoint (rule evaluate_model) or several in turn (evaluate.per_job: Mixed's)."""

import gc

gc.disable()  # until joblog.from_snakemake: the imports run without the cyclic collector

from pathlib import Path

from mergelimits import evaluate, joblog

log = joblog.from_snakemake(snakemake)
smk = snakemake
p, inp, out = smk.params, smk.input, smk.output
for i, job in enumerate(p.models):
    evaluate.evaluate_to_files(Path(inp[f"weights_{i}"]).parent, job["model"], job["step"], job["tasks"],
                               Path(inp.tasks[0]).parent, p.batch_size, p.seed, out[f"scores_{i}"],
                               out[f"samples_{i}"], p.backend)
