"""Snakemake adapter: one published HPLT monolingual checkpoint (paper config)."""

from pathlib import Path

from mergelimits import datasets, hub, languages, runlog

log = runlog.from_snakemake(snakemake)  # noqa: F821 - injected by Snakemake
wc, p = snakemake.wildcards, snakemake.params  # noqa: F821
repo = p.hplt["repo"].format(code=languages.get(wc.lang).source_code("hplt"))
revision = p.hplt["revision"].format(step=int(wc.step))
out_dir = Path(snakemake.output.weights).parent  # noqa: F821
snapshot = hub.fetch_checkpoint(repo, revision, out_dir, p.arch)
log.info("%s@%s resolved to %s", repo, revision, snapshot.name)
datasets.write_record(snakemake.output.record, repo=repo, revision=revision, commit=snapshot.name)  # noqa: F821
