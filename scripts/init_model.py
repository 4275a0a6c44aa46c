"""Snakemake adapter: the shared random initialisation."""

from pathlib import Path

from mergelimits import joblog, model

log = joblog.from_snakemake(snakemake)
p = snakemake.params
tok_dir = Path(snakemake.input[0]).parent
record = model.make_init(p.arch, tok_dir, p.seed, Path(snakemake.output.weights).parent)
log.info("init: %d parameters, seed %d, sha256 %s", record["params"], p.seed, record["sha256"])
