"""Snakemake adapter: the run file `train_gpt` reads (what to train, from where, how),
written only for a recipe whose estimated peak memory fits the devices: a recipe that
cannot fit fails here, before a multi-node job waits in the queue for nothing."""

import gc

gc.disable()  # until joblog.from_snakemake: the imports run without the cyclic collector

import json
from pathlib import Path

from mergelimits import joblog, modelid
from mergelimits.megatron import memory

log = joblog.from_snakemake(snakemake)
p, inp = snakemake.params, snakemake.input
pre = p.pretrain
prefixes = [str(Path(i).with_suffix("")) for i in inp.idx]  # a branch: its language's alone
run = {
    "arch": pre["arch"],
    "recipe": {"exit_margin_min": 30, "warmup_frac": 0.1, "decay_frac": 0.2, "weight_decay": 0.05,
               **pre["megatron"]},
    "steps": pre["steps"],
    "checkpoints": pre["checkpoints"],
    "seed": p.seed,
    "init": str(Path(inp.init).parent),
    "tokenizer": str(Path(inp.tokenizer).parent),
    # Equal weights: Mixed draws the same share of tokens from every language.
    "data": {"prefixes": prefixes, "weights": [1.0] * len(prefixes), "cache": str(Path(p.state) / "data_cache")},
    "save_dir": p.state,
    "outputs": {str(k): v for k, v in p.outputs.items()},
    "env": p.env,
}
if inp.get("branch_from"):  # the saved iteration this run continues (beyond the paper)
    run["branch_from"] = {"dir": str(Path(inp.branch_from).parent),
                          "step": modelid.branch_of(snakemake.wildcards.model)}
meg = run["recipe"]
vocab = json.loads((Path(inp.init).parent / "config.json").read_text())["vocab_size"]
budget = memory.check(run["arch"], meg, vocab, memory.data_parallel_size(meg), memory.configured_bytes(meg))
log.info("estimated peak memory per device: %s", memory.describe(budget))
Path(snakemake.output[0]).write_text(json.dumps(run, indent=2) + "\n")
log.info("run file for %s: %d data prefixes", snakemake.wildcards.model, len(prefixes))
