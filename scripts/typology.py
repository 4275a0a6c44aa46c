"""Snakemake adapter: lang2vec kNN distance of every pair of languages."""

from mergelimits import joblog, typology

log = joblog.from_snakemake(snakemake)
d = typology.distances(snakemake.params.languages)
d.to_csv(snakemake.output[0], sep="\t", index=False, float_format="%.6g")
log.info("%d pairs, features %s", len(d), ", ".join(typology.FEATURE_SETS))
