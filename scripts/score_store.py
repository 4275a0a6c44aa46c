"""Snakemake adapter: every model's per-item scores in one store."""

import pandas as pd

from mergelimits import runlog

log = runlog.from_snakemake(snakemake)  # noqa: F821 - injected by Snakemake
frames = [pd.read_csv(p, sep="\t", keep_default_na=False, na_values={"acc": [""], "acc_norm_char": [""],
                                                                       "acc_norm_token": [""], "chrf": [""]})
          for p in snakemake.input]  # noqa: F821
store = pd.concat(frames, ignore_index=True)
dupes = store.duplicated(["model", "step", "benchmark", "lang", "item"])
if dupes.any():
    raise ValueError(f"{dupes.sum()} items scored twice in the store")
store.to_parquet(snakemake.output[0], index=False)  # noqa: F821
log.info("%d items from %d evaluations", len(store), len(frames))
