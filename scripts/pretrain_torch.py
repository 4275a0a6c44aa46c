"""Snakemake adapter: train one model on CPU (tiny study), from the shared init or, for a
branched expert, from Mixed's kept training state."""

from pathlib import Path

from mergelimits import joblog, model, train

log = joblog.from_snakemake(snakemake)
p = snakemake.params.train
cfg = train.TrainConfig(
    steps=p["steps"], batch_size=p["batch_size"], seq_len=p["arch"]["seq_len"], lr=p["lr"],
    seed=snakemake.params.seed, checkpoints=tuple(snakemake.params.checkpoints), threads=snakemake.threads,
    keep_state=tuple(snakemake.params.keep_state),
)
outs = {step: Path(path).parent for step, path in zip(cfg.checkpoints, snakemake.output.checkpoints)}
init_dir = Path(snakemake.input.init).parent
model.verify_init(init_dir, p["arch"])
result = train.train(init_dir, snakemake.input.corpus, cfg, outs, snakemake.params.state,
                     branch_from=snakemake.input.get("branch_from"))
log.info("done: %s", result)
