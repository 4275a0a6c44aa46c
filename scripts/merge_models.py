"""Snakemake adapter: one merge with mergekit."""

from pathlib import Path

from mergelimits import merge, runlog

log = runlog.from_snakemake(snakemake)  # noqa: F821 - injected by Snakemake
p = snakemake.params  # noqa: F821
members = [Path(m).parent for m in snakemake.input.members]  # noqa: F821
out_dir = Path(snakemake.output.weights).parent  # noqa: F821
record = merge.run(p.method, members, out_dir, base=Path(snakemake.input.base).parent,  # noqa: F821
                   density=p.density, seed=p.seed)
log.info("%s of %d models -> %s (seed %s, density %s)", p.method, len(members), out_dir,
         record["seed"], record["density"])
