"""Snakemake adapter: lang2vec kNN distance of every pair of languages."""

import gc

gc.disable()  # until joblog.from_snakemake: the imports run without the cyclic collector

from mergelimits import joblog, lang2vec_distance

log = joblog.from_snakemake(snakemake)
d = lang2vec_distance.distances(snakemake.params.languages)
d.to_csv(snakemake.output[0], sep="\t", index=False, float_format="%.6g")
log.info("%d pairs, features %s", len(d), ", ".join(lang2vec_distance.FEATURE_SETS))
