"""Snakemake adapter: the shared random initialisation."""

import gc

gc.disable()  # until joblog.from_snakemake: the imports run without the cyclic collector

from pathlib import Path

from mergelimits import joblog, model

log = joblog.from_snakemake(snakemake)
p = snakemake.params
tok_dir = Path(snakemake.input[0]).parent
out_dir = Path(snakemake.output.weights).parent
if p.engine == "megatron":  # HPLT's step 0 (mergelimits.megatron.init)
    from mergelimits.megatron.init import build_step0

    record = build_step0(p.arch, tok_dir, p.seed, out_dir)
else:
    record = model.make_init(p.arch, tok_dir, p.seed, out_dir)
log.info("init (%s): %d parameters, seed %s, sha256 %s", p.engine, record["params"], record["seed"], record["sha256"])
