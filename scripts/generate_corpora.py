"""Snakemake adapter: generated pre-training corpora (tiny study)."""

from mergelimits import datasets, runlog, tinydata

log = runlog.from_snakemake(snakemake)  # noqa: F821 - injected by Snakemake
p = snakemake.params  # noqa: F821
sizes = p.sizes
out = dict(zip([f"mono-{c}" for c in p.languages] + [p.mixed], snakemake.output.corpora))  # noqa: F821
tinydata.write_corpora(p.languages, p.seed, sizes["pretrain_docs"], sizes["sentences_per_doc"], out)
for corpus, path in out.items():
    log.info("wrote %s", path)
datasets.write_record(snakemake.output.record, seed=p.seed, languages=p.languages,  # noqa: F821
                      pretrain_docs=sizes["pretrain_docs"], sentences_per_doc=sizes["sentences_per_doc"])
