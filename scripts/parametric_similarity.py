"""Snakemake adapter: parametric similarity of every pair of monolingual models."""

from pathlib import Path

from mergelimits import runlog, similarity

log = runlog.from_snakemake(snakemake)  # noqa: F821 - injected by Snakemake
models = {lang: Path(p).parent for lang, p in zip(snakemake.params.languages, snakemake.input.models)}  # noqa: F821
pairs, layers = similarity.parametric(models, Path(snakemake.input.init).parent)  # noqa: F821
pairs.to_csv(snakemake.output.pairs, sep="\t", index=False, float_format="%.6g")  # noqa: F821
layers.to_csv(snakemake.output.layers, sep="\t", index=False, float_format="%.6g")  # noqa: F821
log.info("%d pairs, %d pair-layers", len(pairs), len(layers))
