"""Snakemake adapter: generated pre-training corpora (tiny study)."""

import gc

gc.disable()  # until joblog.from_snakemake: the imports run without the cyclic collector

from mergelimits import joblog, records
from mergelimits.synthetic import writers

log = joblog.from_snakemake(snakemake)
p = snakemake.params
sizes = p.sizes
out = {corpus: (path, langs) for (corpus, langs), path in zip(p.corpora.items(), snakemake.output.corpora)}
writers.write_corpora(p.languages, p.seed, sizes["pretrain_docs"], sizes["sentences_per_doc"], out)
for path, _ in out.values():
    log.info("wrote %s", path)
records.write_record(snakemake.output.record, seed=p.seed, languages=p.languages,
                      pretrain_docs=sizes["pretrain_docs"], sentences_per_doc=sizes["sentences_per_doc"])
