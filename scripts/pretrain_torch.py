"""Snakemake adapter: train models on CPU (tiny study), from the shared init or, for branched
experts, from Mixed's kept training state; one model a job (rules pretrain_torch,
pretrain_torch_mixed, pretrain_branch) or several in turn (pretrain.per_job)."""

import gc

gc.disable()  # until joblog.from_snakemake: the imports run without the cyclic collector

from pathlib import Path

from mergelimits import joblog, model, train

log = joblog.from_snakemake(snakemake)
smk = snakemake
p, inp, out = smk.params.train, smk.input, smk.output
init_dir = Path(inp.init).parent
model.verify_init(init_dir, p["arch"])
for i, job in enumerate(smk.params.models):
    cfg = train.TrainConfig(
        steps=p["steps"], batch_size=p["batch_size"], seq_len=p["arch"]["seq_len"], lr=p["lr"],
        seed=smk.params.seed, checkpoints=tuple(job["checkpoints"]), threads=smk.threads,
        keep_state=tuple(job["keep_state"]),
    )
    outs = {step: Path(path).parent for step, path in zip(cfg.checkpoints, out[f"checkpoints_{i}"])}
    result = train.train(init_dir, inp[f"corpus_{i}"], cfg, outs, job["state"], branch_from=inp.get("branch_from"))
    log.info("%s (%d of %d) done: %s", job["model"], i + 1, len(smk.params.models), result)
