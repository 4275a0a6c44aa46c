"""Snakemake adapter: one published checkpoint at a step (a `{step}` branch), checked against the
architecture and the init's vocabulary: the authors' Mixed model (pretrain.mixed: hub) or
merged model (merge.published)."""

import gc

gc.disable()  # until joblog.from_snakemake: the imports run without the cyclic collector

import json
from pathlib import Path

from mergelimits import hub, joblog, records

log = joblog.from_snakemake(snakemake)
p = snakemake.params
revision = p.source["revision"].format(step=int(snakemake.wildcards.step))
vocab = json.loads(Path(snakemake.input.init_config).read_text())["vocab_size"]
out_dir = Path(snakemake.output.weights).parent
snapshot = hub.fetch_checkpoint(p.source["repo"], revision, out_dir, p.arch, p.source.get("token_env"), vocab)
log.info("%s@%s resolved to %s", p.source["repo"], revision, snapshot.name)
records.write_record(snakemake.output.record, repo=p.source["repo"], revision=revision, commit=snapshot.name)
