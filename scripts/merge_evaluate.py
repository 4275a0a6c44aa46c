"""Snakemake adapter: merge each merged model's members with mergekit, then evaluate it;
one model (rule merge_evaluate) or several in turn (merge.per_job)."""

import gc

gc.disable()  # until joblog.from_snakemake: the imports run without the cyclic collector

from pathlib import Path

from mergelimits import joblog, merge
from mergelimits.model import device

log = joblog.from_snakemake(snakemake)
smk = snakemake
p, inp, out = smk.params, smk.input, smk.output
tasks_dir = Path(inp.tasks[0]).parent
for i, job in enumerate(p.models):
    record = merge.merge_and_evaluate(
        job["method"], [Path(m).parent for m in inp[f"members_{i}"]], Path(inp[f"base_{i}"]).parent,
        Path(out[f"record_{i}"]).parent, job["model"], job["step"], job["tasks"], tasks_dir,
        scores=out[f"scores_{i}"], samples=out[f"samples_{i}"], density=p.density, seed=p.merge_seed, dtype=p.dtype,
        batch_size=p.batch_size, eval_seed=p.eval_seed, keep_weights=p.keep_weights, device=device(),
        backend=p.backend)
    log.info("%s (%d of %d): %s of %d models on %s (seed %s, density %s, %s)", job["model"], i + 1, len(p.models),
             job["method"], len(record["members"]), record["device"], record["seed"], record["density"],
             record["dtype"])
