"""Snakemake adapter: the shared random initialisation."""

from pathlib import Path

from mergelimits import model, runlog

log = runlog.from_snakemake(snakemake)  # noqa: F821 - injected by Snakemake
p = snakemake.params  # noqa: F821
tok_dir = Path(snakemake.input[0]).parent  # noqa: F821
record = model.make_init(p.arch, tok_dir, p.seed, Path(snakemake.output.weights).parent)  # noqa: F821
log.info("init: %d parameters, seed %d, sha256 %s", record["params"], p.seed, record["sha256"])
