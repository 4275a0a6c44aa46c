"""Snakemake adapter: train one model from the shared init on CPU (tiny study)."""

from pathlib import Path

from mergelimits import model, runlog, train

log = runlog.from_snakemake(snakemake)  # noqa: F821 - injected by Snakemake
p = snakemake.params.train  # noqa: F821
cfg = train.TrainConfig(
    steps=p["steps"], batch_size=p["batch_size"], seq_len=p["arch"]["seq_len"], lr=p["lr"],
    seed=snakemake.params.seed, checkpoints=tuple(p["checkpoints"]), threads=snakemake.threads,  # noqa: F821
)
outs = {step: Path(path).parent for step, path in zip(p["checkpoints"], snakemake.output)}  # noqa: F821
init_dir = Path(snakemake.input.init).parent  # noqa: F821
model.verify_init(init_dir, p["arch"])
result = train.train(init_dir, snakemake.input.corpus, cfg, outs, snakemake.params.state)  # noqa: F821
log.info("done: %s", result)
