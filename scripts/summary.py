"""Snakemake adapter: the study's headline results as Markdown, from its tables."""

import gc

gc.disable()  # until joblog.from_snakemake: the imports run without the cyclic collector

from pathlib import Path

import pandas as pd

from mergelimits import joblog, summary

log = joblog.from_snakemake(snakemake)
inp, p = snakemake.input, snakemake.params
controls = pd.read_csv(inp.controls) if "controls" in inp.keys() else None
branch = (pd.read_csv(inp.branch, keep_default_na=False), pd.read_csv(inp.branch_scores, sep="\t")) \
    if "branch" in inp.keys() else None
text = summary.results(pd.read_csv(inp.table1), pd.read_csv(inp.table8), pd.read_csv(inp.pairs, sep="\t"),
                       p.study, p.step, controls, branch)
Path(snakemake.output[0]).write_text(text, encoding="utf-8")
log.info("summary written to %s", snakemake.output[0])
