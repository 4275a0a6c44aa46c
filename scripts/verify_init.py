"""Snakemake adapter: is the shared initialisation the one the published experts started from?"""

import gc

gc.disable()  # until joblog.from_snakemake: the imports run without the cyclic collector

from pathlib import Path

from mergelimits import joblog, similarity

log = joblog.from_snakemake(snakemake)
inp, p = snakemake.input, snakemake.params
published = Path(inp.published).parent
agreement = similarity.init_agreement(Path(inp.init).parent, published)
log.info("per-tensor cosine, init vs %s:\n%s", published, agreement.to_string(index=False))  # kept on failure
median = similarity.verify_init(agreement, p.min_cosine, str(published))
agreement.to_csv(snakemake.output[0], sep="\t", index=False, float_format="%.6g")
log.info("the init agrees with %s: median matrix cosine %.4f (threshold %s)", published, median, p.min_cosine)
