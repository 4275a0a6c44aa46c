"""Snakemake adapter: generated benchmark files in the real datasets' schemas (tiny study)."""

import gc

gc.disable()  # until joblog.from_snakemake: the imports run without the cyclic collector

from pathlib import Path

from mergelimits import joblog, records
from mergelimits.synthetic import writers

log = joblog.from_snakemake(snakemake)
p = snakemake.params
sizes = {**p.sizes["items"], **{f"flores_{k}": v for k, v in p.sizes["flores"].items()}}
root = Path(snakemake.output.record).parent
written = writers.write_benchmarks(p.languages, p.seed, sizes, lambda b, c: root / b / f"lang~{c}", p.benchmarks)
expected = {Path(f) for f in snakemake.output.files}
if set(written) != expected:
    raise RuntimeError(f"generator and workflow disagree on files: {sorted(set(written) ^ expected)}")
log.info("wrote %d benchmark files", len(written))
records.write_record(snakemake.output.record, seed=p.seed, languages=p.languages, benchmarks=p.benchmarks,
                      sizes=sizes)
