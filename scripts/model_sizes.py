"""Snakemake adapter: the parameters of each model behind a table row (Table 1's Params/B)."""

import gc

gc.disable()  # until joblog.from_snakemake: the imports run without the cyclic collector

from pathlib import Path

import pandas as pd

from mergelimits import checkpoint, joblog

log = joblog.from_snakemake(snakemake)
rows = [{"model": name, "params": checkpoint.param_count(Path(path).parent)} for name, path in snakemake.input.items()]
pd.DataFrame(rows).to_csv(snakemake.output[0], sep="\t", index=False)
log.info("%s", ", ".join(f"{r['model']} {r['params']:,}" for r in rows))
