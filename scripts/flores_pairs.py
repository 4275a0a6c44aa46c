"""Snakemake adapter: each language's FLORES source and target sentences, paired, per split."""

import gc

gc.disable()  # until joblog.from_snakemake: the imports run without the cyclic collector

from mergelimits import joblog, tasks
from mergelimits.benchmarks import flores

log = joblog.from_snakemake(snakemake)
inp, out = snakemake.input, snakemake.output
for lang in snakemake.params.languages:
    for split in ("dev", "devtest"):
        src = flores.source(lang)
        tasks.write_flores_pairs(inp[f"{src}_{split}"], inp[f"{lang}_{split}"], out[f"{lang}_{split}"], lang)
