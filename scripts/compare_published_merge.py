"""Snakemake adapter: this workflow's merge at a step against the authors' published one."""

import gc

gc.disable()  # until joblog.from_snakemake: the imports run without the cyclic collector

import tempfile
from pathlib import Path

import pandas as pd

from mergelimits import joblog, merge
from mergelimits.model import device

log = joblog.from_snakemake(snakemake)
smk = snakemake
p, wc = smk.params, smk.wildcards
members = [Path(m).parent for m in smk.input.members]
out = Path(smk.output[0])
out.parent.mkdir(parents=True, exist_ok=True)
# Merged again as merge_evaluate merged it (same code, members, seed and dtype): the evaluated
# weights are not kept at paper scale.
with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
    merge.run(p.method, members, Path(tmp) / "merged", base=Path(smk.input.base).parent, density=p.density,
              seed=p.seed, dtype=p.dtype, options={"device": device()})
    rows = merge.compare_with_published(Path(tmp) / "merged", Path(smk.input.published).parent, p.dtype)
df = pd.DataFrame(rows).sort_values(["max_ulp", "tensor"], ascending=[False, True])
# A merge of N members computed in the merge's dtype rounds at most N + 1 times (N weighted
# sums, the normalisation), so a faithful rebuild may differ by that many ulps where the
# order of operations differs; a wrong member, weight or normalisation moves values by a
# share of a task vector: thousands of ulps.
tolerance = p.tolerance if p.tolerance is not None else len(members) + 1
worst = df.iloc[0]
log.info("%s at step %s against %s: %d of %d elements differ, at most %d ulps (%.3g) in %s; tolerance %d ulps",
         wc.model, wc.step, p.published, df.differing.sum(), df.elements.sum(), worst.max_ulp, worst.max_abs_diff,
         worst.tensor, tolerance)
if worst.max_ulp > tolerance:
    log.error("largest differences:\n%s", df.head(10).to_string(index=False))
    raise merge.MergeError(f"{wc.model} at step {wc.step} is not the published merge {p.published}: {worst.tensor} "
                           f"differs by {worst.max_ulp} ulps (tolerance {tolerance}, merge.published.tolerance_ulp)")
df.to_csv(out, sep="\t", index=False)
