"""Snakemake adapter: generated benchmark files in the real datasets' schemas (tiny study)."""

from pathlib import Path

from mergelimits import datasets, runlog, tinydata

log = runlog.from_snakemake(snakemake)  # noqa: F821 - injected by Snakemake
p = snakemake.params  # noqa: F821
sizes = {**p.sizes["items"], **{f"flores_{k}": v for k, v in p.sizes["flores"].items()}}
root = Path(snakemake.output.record).parent  # noqa: F821
written = tinydata.write_benchmarks(p.languages, p.seed, sizes, lambda b, c: root / b / f"lang~{c}", p.benchmarks)
expected = {Path(f) for f in snakemake.output.files}  # noqa: F821
if set(written) != expected:
    raise RuntimeError(f"generator and workflow disagree on files: {sorted(set(written) ^ expected)}")
log.info("wrote %d benchmark files", len(written))
datasets.write_record(snakemake.output.record, seed=p.seed, languages=p.languages, benchmarks=p.benchmarks,
                      sizes=sizes)  # noqa: F821
