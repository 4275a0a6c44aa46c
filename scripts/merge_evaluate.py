"""Snakemake adapter: merge the members with mergekit, then evaluate the merged model."""

from pathlib import Path

from mergelimits import evaluate, joblog, merge
from mergelimits.model import device

log = joblog.from_snakemake(snakemake)
smk = snakemake
p, wc = smk.params, smk.wildcards
out_dir = Path(smk.output.record).parent
weights = out_dir / merge.WEIGHTS
try:
    record = merge.run(p.method, [Path(m).parent for m in smk.input.members], out_dir,
                       base=Path(smk.input.base).parent, density=p.density, seed=p.merge_seed, dtype=p.dtype,
                       options={"device": device()})
    log.info("%s of %d models -> %s on %s (seed %s, density %s, %s)", p.method, len(record["members"]), out_dir,
             record["device"], record["seed"], record["density"], record["dtype"])
    evaluate.evaluate_to_files(out_dir, wc.model, int(wc.step), p.tasks, Path(smk.input.tasks[0]).parent,
                               p.batch_size, p.eval_seed, smk.output.scores, smk.output.samples)
finally:
    if not p.keep_weights:  # gigabytes at paper scale, read by nothing but this evaluation
        weights.unlink(missing_ok=True)
