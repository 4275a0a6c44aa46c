"""Snakemake adapter: parametric similarity of every pair of monolingual models."""

import gc

gc.disable()  # until joblog.from_snakemake: the imports run without the cyclic collector

from pathlib import Path

from mergelimits import joblog, similarity

log = joblog.from_snakemake(snakemake)
models = {lang: Path(p).parent for lang, p in zip(snakemake.params.languages, snakemake.input.models)}
pairs, layers = similarity.parametric(models, Path(snakemake.input.init).parent)
pairs.to_csv(snakemake.output.pairs, sep="\t", index=False, float_format="%.6g")
layers.to_csv(snakemake.output.layers, sep="\t", index=False, float_format="%.6g")
log.info("%d pairs, %d pair-layers", len(pairs), len(layers))
