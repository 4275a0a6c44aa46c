"""Snakemake adapter: each language's FLORES source and target sentences, paired, per split."""

from mergelimits import evaluate, joblog

log = joblog.from_snakemake(snakemake)
inp, out = snakemake.input, snakemake.output
for lang in snakemake.params.languages:
    for split in ("dev", "devtest"):
        src = evaluate.flores_source(lang)
        evaluate.write_flores_pairs(inp[f"{src}_{split}"], inp[f"{lang}_{split}"], out[f"{lang}_{split}"], lang)
