"""Snakemake adapter: the shared initialisation from a published step 0 (pretrain.init: hub)."""

import gc

gc.disable()  # until joblog.from_snakemake: the imports run without the cyclic collector

from pathlib import Path

from mergelimits import hub, joblog, model

log = joblog.from_snakemake(snakemake)
p = snakemake.params
out_dir = Path(snakemake.output.weights).parent
snapshot = hub.fetch_init(p.source, p.arch, Path(snakemake.input[0]).parent, out_dir)
record = model.record_published_init(out_dir, p.arch, {"repo": p.source["repo"], "revision": p.source["revision"],
                                                       "commit": snapshot.name})
log.info("init (hub): %s@%s resolved to %s; %d parameters, sha256 %s", record["repo"], record["revision"],
         record["commit"], record["params"], record["sha256"])
