"""Snakemake adapter: every model's per-item scores in one store."""

import gc

gc.disable()  # until joblog.from_snakemake: the imports run without the cyclic collector

import pandas as pd

from mergelimits import joblog
from mergelimits.scores import read_scores

log = joblog.from_snakemake(snakemake)
frames = [read_scores(p) for p in snakemake.input]
store = pd.concat(frames, ignore_index=True)
dupes = store.duplicated(["model", "step", "benchmark", "lang", "item"])
if dupes.any():
    raise ValueError(f"{dupes.sum()} items scored twice in the store")
store.to_parquet(snakemake.output[0], index=False)
log.info("%d items from %d evaluations", len(store), len(frames))
