"""Snakemake adapter: layer-wise CKA of every pair of cached activations."""

import gc

gc.disable()  # until joblog.from_snakemake: the imports run without the cyclic collector

from pathlib import Path

import numpy as np
import pandas as pd

from mergelimits import cka, joblog

log = joblog.from_snakemake(snakemake)
frames = []
for variant in ("eng", "own"):
    # activations/<model>/step~<step>/<variant>.npy
    cache = {Path(p).parent.parent.name: np.load(p) for p in snakemake.input if Path(p).stem == variant}
    frames.append(cka.cka_pairs(cache).assign(variant=variant))
pd.concat(frames).to_csv(snakemake.output[0], sep="\t", index=False, float_format="%.6g")
log.info("CKA of %d pair-layers", sum(len(f) for f in frames))
