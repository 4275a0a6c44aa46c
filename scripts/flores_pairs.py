"""Snakemake adapter: each language's FLORES source and target sentences, paired, per split."""

from pathlib import Path

from mergelimits import evaluate, joblog

log = joblog.from_snakemake(snakemake)
p = snakemake.params
for lang, splits in p.pairs.items():
    for split, out in splits.items():
        src = Path(p.benchmarks) / f"lang~{evaluate.flores_source(lang)}" / f"{split}.jsonl"
        evaluate.write_flores_pairs(src, Path(p.benchmarks) / f"lang~{lang}" / f"{split}.jsonl", out, lang)
