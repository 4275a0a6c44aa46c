"""Snakemake adapter: lang2vec kNN distance of every pair of languages."""

from mergelimits import runlog, typology

log = runlog.from_snakemake(snakemake)  # noqa: F821 - injected by Snakemake
d = typology.distances(snakemake.params.languages)  # noqa: F821
d.to_csv(snakemake.output[0], sep="\t", index=False, float_format="%.6g")  # noqa: F821
log.info("%d pairs, features %s", len(d), ", ".join(typology.FEATURE_SETS))
