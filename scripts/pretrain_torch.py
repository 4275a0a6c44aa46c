"""Snakemake adapter: train one model from the shared init on CPU (tiny study)."""

from pathlib import Path

from mergelimits import joblog, model, train

log = joblog.from_snakemake(snakemake)
p = snakemake.params.train
cfg = train.TrainConfig(
    steps=p["steps"], batch_size=p["batch_size"], seq_len=p["arch"]["seq_len"], lr=p["lr"],
    seed=snakemake.params.seed, checkpoints=tuple(p["checkpoints"]), threads=snakemake.threads,
)
outs = {step: Path(path).parent for step, path in zip(p["checkpoints"], snakemake.output)}
init_dir = Path(snakemake.input.init).parent
model.verify_init(init_dir, p["arch"])
result = train.train(init_dir, snakemake.input.corpus, cfg, outs, snakemake.params.state)
log.info("done: %s", result)
