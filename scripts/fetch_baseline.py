"""Snakemake adapter: one external baseline (config `baselines`), fetched once."""

import gc

gc.disable()  # until joblog.from_snakemake: the imports run without the cyclic collector

from pathlib import Path

from mergelimits import hub, joblog, model, records

log = joblog.from_snakemake(snakemake)
entry = snakemake.params.entry
out_dir = Path(snakemake.output.weights).parent
snapshot = hub.fetch_baseline(entry, out_dir)
log.info("%s@%s resolved to %s: %d parameters", entry["repo"], entry["revision"], snapshot.name,
         model.param_count(out_dir))
records.write_record(snakemake.output.record, repo=entry["repo"], revision=entry["revision"], commit=snapshot.name)
