"""Snakemake adapter: Figures 1-3 and the CKA heat map from stored tables."""

import gc

gc.disable()  # until joblog.from_snakemake: the imports run without the cyclic collector

import json
from pathlib import Path

import pandas as pd

from mergelimits import bootstrap, catalog, joblog, plots

log = joblog.from_snakemake(snakemake)
inp, p = snakemake.input, snakemake.params
out = Path(snakemake.output[0]).parent
agg = bootstrap.read_aggregate(inp.agg)
order = json.loads(Path(inp.order).read_text())["order"]
models = catalog.read(inp.models)
plots.figure1(agg, p.mixed, p.merged, p.languages, str(out / "figure1"))
plots.figure2(agg, models, p.succ_method, order, str(out / "figure2"))
plots.figure3(pd.read_csv(inp.pairs, sep="\t"), pd.read_csv(inp.table8), p.pair_method, p.step, str(out / "figure3"))
plots.cka_heatmap(pd.read_csv(inp.cka, sep="\t"), models, p.languages, str(out / "cka_heatmap"))
log.info("figures written to %s", out)
